/**
 * `npm run bench:local`: the one-machine stack from cold (an empty state directory) to healthy, then feed
 * reads, uploads, logins and likes through the edge over HTTPS, driven by wrk at a fixed number of
 * connections: requests/s with p50/p99, and the CPU each request costs in each daemon (edge nginx, app
 * nginx, app workers, pgbouncer, PostgreSQL, Redis, memcached; read from /proc, tools/daemon-cpu.ts) and in
 * the load generator, as tables. The anchor is GET /healthz through the same edge, app nginx and worker: what
 * any request costs before the app does anything. Everything is on 127.0.31.0/24 in a temporary directory,
 * and is taken down at the end. Needs root and the local stack's packages and wrk (npm run local -- install-deps).
 * Then rebalancing: `shards move` of one logical shard holding 10,000 rows (and one of 500,000) while a
 * client keeps signing up users on it (the longest write pause it sees, and the move's own), beside the
 * anchor a move competes with, a dump and restore of the same schema (pg_dump -n | psql, with writes stopped
 * for all of it); and a batch of eight logical shards moved, as logical shards per minute.
 * BENCH_SECONDS (default 10) per run, BENCH_CONCURRENCY (default 64); BENCH_MOVES=0 leaves out the rebalancing.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { contextFor } from "../local/session";
import { readState } from "../local/state";
import { edgeCertificate } from "../local/services/edge";
import { loadLoop, pngBytes, SiteClient, SITE_USER_PASSWORD } from "../local/site-client";
import { runWrk, WrkRequest } from "./wrk-load";
import { local, localAsync, table } from "./bench-stack";
import { BENCH_REQUIREMENTS, missingMessage, missingRequirements } from "../local/deps";
import { cpuByTier, cpuPerRequest, DAEMON_TIERS } from "./daemon-cpu";
import { LocalContext } from "../local/context";
import { shardHost } from "../local/plan";
import { psqlAsPostgres, shardPaths } from "../local/services/postgres";
import { logicalShardForUsername, shardSchema } from "../core/shard-map";
import { DATABASE } from "../core/database";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const NET = "127.0.31";
for (const [name, value, max] of [["BENCH_SECONDS", SECONDS, 120], ["BENCH_CONCURRENCY", CONCURRENCY, 256]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > max) {
        console.error(`bench:local: ${name} must be a whole number from 1 to ${max}`);
        process.exit(2);
    }
}

/**
 * Move one logical shard of physical shard 1 holding `rows` rows to physical shard 0, with a client signing
 * up users on it all through the move; and the anchor, a dump and restore of the same schema.
 */
async function benchHeavyMove(dir: string, ctx: LocalContext, site: SiteClient, logical: number, rows: number): Promise<string[][]> {
    const source = shardPaths(ctx, shardHost(ctx.plan, 1));
    const schema = shardSchema(logical);
    psqlAsPostgres(source, `INSERT INTO ${schema}.users (username) SELECT 'seed_' || i FROM generate_series(1, ${rows}) AS i`);
    const count = Number(psqlAsPostgres(source, `SELECT count(*) FROM ${schema}.users`));

    // The anchor: dump and restore the same schema into a scratch database (writes would be stopped throughout).
    psqlAsPostgres(source, "DROP DATABASE IF EXISTS bench_restore", "postgres");
    psqlAsPostgres(source, "CREATE DATABASE bench_restore", "postgres");
    const dumpStarted = Date.now();
    const dump = spawnSync("sh", ["-c", `runuser -u postgres -- pg_dump -h "$1" -n "$2" "$3" | runuser -u postgres -- psql -X -q -h "$1" -d bench_restore -v ON_ERROR_STOP=1 > /dev/null`, "sh", source.sockets, schema, DATABASE], { cwd: "/", encoding: "utf8" });
    const dumpMs = Date.now() - dumpStarted;
    psqlAsPostgres(source, "DROP DATABASE bench_restore", "postgres");
    if (dump.status !== 0) throw new Error(`pg_dump | psql failed: ${dump.stderr}`);

    // A client signing up users on that logical shard all through its move: the longest it waits for a write
    // (a signup includes its password's hash, about 90 ms of a core, so that is the floor).
    // Usernames that hash to that logical shard, as many as the move takes.
    const names = (function* () {
        for (let i = 0; ; i++) if (logicalShardForUsername(`w${logical}_${i}`, ctx.plan.logicalShards) === logical) yield `w${logical}_${i}`;
    })();
    let writing = true;
    let lastOk = Date.now();
    let longestGap = 0;
    let refused = 0;
    const writer = (async () => {
        for (const username of names) {
            if (!writing) break;
            const r = await site.signup(username).catch(() => undefined);
            if (r?.status === 201) {
                longestGap = Math.max(longestGap, Date.now() - lastOk);
                lastOk = Date.now();
            } else refused++;
        }
    })();
    const moveStarted = Date.now();
    const move = await localAsync(dir, ["shards", "move", String(logical), "--to", "0"]);
    const moveS = (Date.now() - moveStarted) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    writing = false;
    await writer;
    if (move.status !== 0) throw new Error(`shards move ${logical} failed:\n${move.out}`);
    return [
        ["shards move (copy while serving, freeze one logical shard)", "1", String(count), `${moveS.toFixed(1)} s`, `${pauseOf(move.out)} ms in the database; ${longestGap} ms seen by a writer (${refused} writes answered 503)`],
        ["anchor: pg_dump -n | psql of the same schema", "1", String(count), `${(dumpMs / 1000).toFixed(1)} s`, `${dumpMs} ms (writes stopped for all of it)`],
    ];
}

const pauseOf = (out: string) => /longest write pause (\d+) ms/.exec(out)?.[1] ?? "?";

async function benchMoves(dir: string, ctx: LocalContext, site: SiteClient): Promise<string[][]> {
    const rows = [...await benchHeavyMove(dir, ctx, site, 40, 10_000), ...await benchHeavyMove(dir, ctx, site, 41, 500_000), ...await benchHeavyMove(dir, ctx, site, 42, 5_000_000)];
    const batchStarted = Date.now();
    const batch = await localAsync(dir, ["shards", "move", "48-55", "--to", "0"]);
    const batchS = (Date.now() - batchStarted) / 1000;
    if (batch.status !== 0) throw new Error(`shards move 48-55 failed:\n${batch.out}`);
    rows.push(["shards move 48-55 (nearly empty)", "8", "-", `${batchS.toFixed(1)} s = ${(8 / (batchS / 60)).toFixed(1)} per minute`, `${pauseOf(batch.out)} ms in the database`]);
    return rows;
}

/**
 * wrk with `CONCURRENCY` connections for `SECONDS` over these requests (cycled): requests/s, p50/p99, the
 * answers of 400 or more, and the CPU every daemon used meanwhile per request.
 */
async function measure(ctx: LocalContext, requests: WrkRequest[], seconds = SECONDS) {
    const before = cpuByTier(ctx);
    const r = await runWrk({ origin: `https://${NET}.1`, host: ctx.plan.domain, requests, connections: CONCURRENCY, seconds });
    return { ...r, cpu: cpuPerRequest(before, cpuByTier(ctx), r.requests) };
}

/**
 * Until the daemons use under a tenth of a core (what a run left queued, logins' hashes say, is done), for
 * at most 30 s: otherwise one run's backlog is counted in the next.
 */
async function settle(ctx: LocalContext): Promise<void> {
    const total = () => [...cpuByTier(ctx).values()].reduce((a, b) => a + b, 0);
    const deadline = Date.now() + 30_000;
    for (let last = total(); Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const now = total();
        if (now - last < 0.05) return;
        last = now;
    }
}

async function main(): Promise<number> {
    const missing = missingRequirements(BENCH_REQUIREMENTS);
    if (missing.length > 0) {
        console.error(`bench:local: ${missingMessage(missing)}`);
        return 2;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-local-"));
    fs.chmodSync(dir, 0o755);
    const stackArgs = ["--stack", "dev", "--net", NET, "--workers", "2", "--set", "instagram:appServers=2", "--set", "instagram:physicalShards=2",
        "--set", "instagram:logicalShards=64", "--set", "instagram:memcachedNodes=2"];
    try {
        const started = Date.now();
        const up = local(dir, ["up", ...stackArgs]);
        const bringUpS = (Date.now() - started) / 1000;
        if (up.status !== 0) {
            console.error(`bench:local: up failed:\n${up.out}`);
            return 1;
        }
        const ctx = contextFor(dir, readState(dir)!, () => undefined);
        const site = new SiteClient(`${NET}.1`, edgeCertificate(ctx), ctx.plan.domain);
        const users: string[] = [];
        // In parallel (each signup and login hashes a password), 50 users to act and 50 more to log in as.
        for (let i = 0; i < 100; i += 10) users.push(...await Promise.all(Array.from({ length: 10 }, (_, j) => site.createUser(`bench_${i + j}`))));
        const actors = users.slice(0, 50);
        for (let i = 5; i < actors.length; i++) await site.follow(actors[i], actors[i % 5]);
        // Warm the feeds so reads measure the steady state (memcached hits).
        const warm = await loadLoop(site, actors.slice(0, 5), { seconds: 2, concurrency: 4, uploadShare: 1 });
        const photos = warm.acknowledged;
        const bearer = (id: string) => ({ Authorization: `Bearer ${site.tokenOf(id)}` });
        // Every (actor, photo) pair liked, then every one unliked: each request changes a like.
        const pairs = actors.flatMap((who, i) => photos.slice((i * 40) % photos.length).slice(0, 40).map((photo) => [who, photo] as const));
        const runs: [string, WrkRequest[]][] = [
            ["anchor: GET /healthz (edge, app nginx, a worker; nothing behind it)", [{ method: "GET", path: "/healthz" }]],
            ["feed read (20 items, cached)", actors.map((id) => ({ method: "GET", path: `/api/v1/users/${id}/feed?limit=20`, headers: bearer(id) }))],
            ["upload (PNG, fanned out to ~9 followers)", Array.from({ length: 500 }, (_, i) => {
                const owner = actors[i % 5];
                return { method: "POST", path: `/api/v1/users/${owner}/media?caption=bench`, headers: { ...bearer(owner), "Content-Type": "image/png" }, body: pngBytes(1e7 + i) };
            })],
            ["like or unlike", ["PUT", "DELETE"].flatMap((method) => pairs.map(([who, photo]) => ({ method, path: `/api/v1/media/${photo}/like`, headers: bearer(who) })))],
            // Last: it leaves a queue of hashes behind. Right passwords only (the throttle counts failures), cycling through all 100 users.
            ["login", users.map((_, i) => ({
                method: "POST", path: "/api/v1/sessions", headers: { "Content-Type": "application/json" },
                body: Buffer.from(JSON.stringify({ username: `bench_${i}`, password: SITE_USER_PASSWORD })),
            }))],
        ];
        // The liked flags of every feed item filled before anything is measured.
        await measure(ctx, runs[1][1]);
        const rows: string[][] = [];
        const cpuRows: string[][] = [];
        for (const [name, requests] of runs) {
            // Each path's code compiled by the workers' JIT first, and the stack idle again before the count starts.
            if (!name.startsWith("login")) await measure(ctx, requests, 3);
            await settle(ctx);
            const r = await measure(ctx, requests);
            rows.push([name, String(CONCURRENCY), (r.requests / r.seconds).toFixed(0), r.p50Ms.toFixed(1), r.p99Ms.toFixed(1), String(r.failed)]);
            const perTier = DAEMON_TIERS.map((t) => r.cpu.get(t)!);
            const all = perTier.reduce((a, b) => a + b, 0);
            cpuRows.push([name, ...perTier.map((us) => us.toFixed(0)), all.toFixed(0), (all - r.cpu.get("edge nginx")!).toFixed(0), r.generatorUs.toFixed(0)]);
        }
        await settle(ctx);
        const moves = process.env.BENCH_MOVES === "0" ? [] : await benchMoves(dir, ctx, site);
        site.close();
        const up2 = Date.now();
        const again = local(dir, ["up"]);
        const idempotentS = (Date.now() - up2) / 1000;
        console.log(`\nbring-up from cold to healthy (2 app hosts, 2 shards, Redis, 2 memcached, edge, Munin): ${bringUpS.toFixed(1)} s`);
        console.log(`a second \`up\` (already running, changes nothing): ${idempotentS.toFixed(1)} s${again.status === 0 ? "" : " (failed)"}\n`);
        console.log(table(["request", "concurrency", "requests/s", "p50 ms", "p99 ms", "failed"], rows));
        console.log(`\n(wrk, ${CONCURRENCY} connections for ${SECONDS} s per run, HTTPS through the edge nginx, ${os.cpus().length} cores shared by every daemon and the load generator)\n`);
        console.log(table(["CPU µs per request", ...DAEMON_TIERS, "all daemons", "without the edge", "load generator (wrk)"], cpuRows));
        console.log("\n(user + system time of each daemon's processes from /proc, over the run, divided by the requests answered; the edge nginx stands in for the load balancer, which is not one of the fleet's hosts on AWS)\n");
        if (moves.length > 0) console.log(table(["rebalancing", "logical shards", "rows", "took", "longest write pause"], moves));
        return 0;
    } finally {
        const down = local(dir, ["down"]);
        if (down.status !== 0) console.error(down.out);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().then((code) => process.exit(code), (e: Error) => { console.error(`bench:local: ${e.message}`); process.exit(1); });
