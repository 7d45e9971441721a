/**
 * `npm run bench:queue`: the asynchronous tier on the one-machine stack (two gearmand, the app hosts' job
 * workers; 127.0.41.0/24 in a temporary directory, taken down at the end). Three tables:
 *   1. Uploads by followers: upload latency (p50/p99) for an owner with 10 followers and one with 10,000,
 *      with the fan-out queued, beside the anchor of the same uploads fanned out inside the request (both
 *      gearmand stopped: the upload's fallback, which is how every upload worked before the queue); and how
 *      long after the answer the last follower's feed holds the photo.
 *   2. Fan-out throughput: feed inserts per second of one job worker delivering to 10,000 followers, beside
 *      the same fan-out run inline by the request.
 *   3. The queue itself (a client and a worker in this process, against the stack's gearmand): jobs per
 *      second through one worker process, and submit-to-start latency p50/p99, idle and behind a backlog.
 * BENCH_UPLOADS (default 40) uploads per row. Needs root and the local stack's packages.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Redis from "ioredis";
import { contextFor } from "../local/session";
import { readState } from "../local/state";
import { edgeCertificate } from "../local/services/edge";
import { percentile, pngBytes, SiteClient } from "../local/site-client";
import { ensureSecrets, LocalContext } from "../local/context";
import { hostsOf, shardHost } from "../local/plan";
import { psqlAsPostgres, shardPaths } from "../local/services/postgres";
import { gearmandService } from "../local/services/gearman";
import { envOf } from "../local/stack";
import { physicalShardOf, shardSchema } from "../core/shard-map";
import { decodeId } from "../core/ids";
import { fanOutCursorKey } from "../app/api/fan-out";
import { GearmanClient } from "../app/jobs/gearman/client";
import { GearmanWorker } from "../app/jobs/gearman/worker";
import { PORTS } from "../core/ports";
import { local, table } from "./bench-stack";

const NET = "127.0.41";
const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 40);
if (!Number.isInteger(UPLOADS) || UPLOADS < 3 || UPLOADS > 500) {
    console.error("bench:queue: BENCH_UPLOADS must be a whole number from 3 to 500");
    process.exit(2);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `count` follower rows for `owner` on its shard, with IDs from `first` (their own user rows do not matter to a fan-out). */
function addFollowers(ctx: LocalContext, owner: string, first: number, count: number): void {
    const logical = decodeId(BigInt(owner)).logicalShard;
    const physical = physicalShardOf(logical, ctx.plan.logicalShards, ctx.plan.directory.physicalShards.length);
    psqlAsPostgres(shardPaths(ctx, shardHost(ctx.plan, physical)), `INSERT INTO ${shardSchema(logical)}.followers (followee_id, follower_id) SELECT ${owner}, g FROM generate_series(${first}, ${first + count - 1}) g`);
}

interface UploadRun {
    readonly uploadMs: number[];
    /** From the answer to the last follower's feed holding the photo. */
    readonly deliveredMs: number[];
}

/** Jobs queued or running on these gearmand, from their admin protocol. */
function jobsInFlight(ctx: LocalContext): number {
    let total = 0;
    for (const g of hostsOf(ctx.plan, "gearman")) {
        const out = spawnSync("gearadmin", ["-h", g.address, "-p", String(PORTS.gearman), "--status"], { encoding: "utf8" }).stdout ?? "";
        for (const line of out.split("\n")) {
            const [fn, total_] = line.split("\t");
            if (fn === "fanout") total += Number(total_);
        }
    }
    return total;
}

/**
 * Upload one photo at a time and wait, after each answer, until the last follower (by ID) has it and the job
 * has ended, so each upload is measured by itself (its own fan-out comes after its answer).
 */
async function uploads(ctx: LocalContext, site: SiteClient, redis: Redis, owner: string, lastFollower: number, seed: number): Promise<UploadRun> {
    const uploadMs: number[] = [];
    const deliveredMs: number[] = [];
    for (let i = 0; i < UPLOADS; i++) {
        const r = await site.upload(owner, pngBytes(seed + i), "bench");
        if (r.status !== 201) throw new Error(`upload: ${r.status} ${r.body}`);
        uploadMs.push(r.ms);
        const answered = Date.now();
        const id = r.json().media.id as string;
        const inline = r.json().fanOut === "inline";
        for (;;) {
            // Inline, the answer means done; queued, the job's cursor reaches the last follower.
            if (inline || (await redis.get(fanOutCursorKey(id))) === String(lastFollower)) break;
            if (Date.now() - answered > 60_000) throw new Error(`photo ${id} not delivered within 60 s`);
            await sleep(2);
        }
        deliveredMs.push(Date.now() - answered);
        while (!inline && jobsInFlight(ctx) > 0) await sleep(2);
    }
    return { uploadMs, deliveredMs };
}

const ms = (v: number) => v.toFixed(1);

async function queueItself(servers: { host: string; port: number }[]): Promise<string[][]> {
    const client = new GearmanClient({ servers });
    await client.ready(5000);
    const latencies: number[] = [];
    let done = 0;
    const worker = new GearmanWorker({
        servers,
        functions: new Map([["bench_noop", async (job) => {
            latencies.push(Date.now() - Number(job.data.toString()));
            done++;
        }]]),
    }).start();
    await sleep(500);
    const rows: string[][] = [];
    try {
        // Idle: one job at a time, each submitted once the last has run.
        for (let i = 0; i < 200; i++) {
            const before = done;
            await client.submitBackground("bench_noop", `idle-${i}-${Date.now()}`, String(Date.now()));
            while (done === before) await sleep(0);
        }
        rows.push(["idle queue (one job at a time)", "200", "-", ms(percentile(latencies, 50)), ms(percentile(latencies, 99))]);
        // A backlog: 5,000 submitted as fast as the client can, then drained by one worker process.
        latencies.length = 0;
        done = 0;
        const started = Date.now();
        const N = 5000;
        for (let i = 0; i < N; i += 100) {
            await Promise.all(Array.from({ length: 100 }, (_, j) => client.submitBackground("bench_noop", `burst-${i + j}-${started}`, String(Date.now()))));
        }
        while (done < N) await sleep(5);
        const seconds = (Date.now() - started) / 1000;
        rows.push([`backlog of ${N} (submitted at once, one worker)`, String(N), (N / seconds).toFixed(0), ms(percentile(latencies, 50)), ms(percentile(latencies, 99))]);
    } finally {
        await worker.stop();
        client.close();
    }
    return rows;
}

async function main(): Promise<number> {
    if (process.getuid?.() !== 0) {
        console.error("bench:queue: the one-machine stack runs daemons as their own users and binds ports 80/443: run as root (sudo npm run bench:queue)");
        return 2;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-queue-"));
    fs.chmodSync(dir, 0o755);
    try {
        const up = local(dir, ["up", "--stack", "dev", "--net", NET, "--workers", "2", "--set", "instagram:gearmanServers=2"]);
        if (up.status !== 0) {
            console.error(`bench:queue: up failed:\n${up.out}`);
            return 1;
        }
        const ctx = contextFor(dir, readState(dir)!, () => undefined);
        const site = new SiteClient(`${NET}.1`, edgeCertificate(ctx), ctx.plan.domain);
        const redisHost = hostsOf(ctx.plan, "redis-primary")[0].address;
        const redis = new Redis({ host: redisHost, port: PORTS.redis, password: ensureSecrets(ctx)["redis-auth"] });
        const [few, many] = await Promise.all([site.createUser("bench_10_followers"), site.createUser("bench_10k_followers")]);
        addFollowers(ctx, few, 700_000_001, 10);
        addFollowers(ctx, many, 710_000_001, 10_000);
        const lastFew = 700_000_010;
        const lastMany = 710_000_000 + 10_000;
        // Warm the path (JIT, pools, caches) before anything is counted.
        await uploads(ctx, site, redis, few, lastFew, 1);

        const queued10 = await uploads(ctx, site, redis, few, lastFew, 1000);
        const queued10k = await uploads(ctx, site, redis, many, lastMany, 2000);
        const gearmands = hostsOf(ctx.plan, "gearman");
        for (const g of gearmands) await gearmandService.stop(ctx, g);
        const inline10 = await uploads(ctx, site, redis, few, lastFew, 3000);
        const inline10k = await uploads(ctx, site, redis, many, lastMany, 4000);
        for (const g of gearmands) await gearmandService.start(ctx, g, envOf(ctx, readState(dir)!));

        const row = (name: string, r: UploadRun) => [name, ms(percentile(r.uploadMs, 50)), ms(percentile(r.uploadMs, 99)), ms(percentile(r.deliveredMs, 50)), ms(percentile(r.deliveredMs, 99))];
        const uploadRows = [
            row("queued, 10 followers", queued10),
            row("queued, 10,000 followers", queued10k),
            row("anchor: inline, 10 followers", inline10),
            row("anchor: inline, 10,000 followers", inline10k),
        ];
        const p99ratio = percentile(queued10k.uploadMs, 99) / percentile(queued10.uploadMs, 99);
        // One job worker delivering 10,000 feeds, from the answer until the last feed has the photo; inline: the
        // upload's own time beyond the 10-follower upload's.
        const jobInserts = 10_000 / (percentile(queued10k.deliveredMs, 50) / 1000);
        const inlineInserts = 10_000 / ((percentile(inline10k.uploadMs, 50) - percentile(inline10.uploadMs, 50)) / 1000);
        const queueRows = await queueItself(gearmands.map((g) => ({ host: g.address, port: PORTS.gearman })));
        redis.disconnect();
        site.close();

        console.log(`\n${table(["upload (one at a time, HTTPS through the edge)", "upload p50 ms", "upload p99 ms", "last follower has it, p50 ms", "p99 ms"], uploadRows)}`);
        console.log(`\nupload p99, 10,000 followers / 10 followers, queued: ${p99ratio.toFixed(2)} (${UPLOADS} uploads per row; the anchor rows ran with both gearmand stopped, the upload's inline fallback)\n`);
        console.log(table(["fan-out", "feed inserts/s"], [
            ["one job worker (fanout job, 1,000 followers a batch)", jobInserts.toFixed(0)],
            ["anchor: the same fan-out inline in the upload request", inlineInserts.toFixed(0)],
        ]));
        console.log(`\n${table(["the queue (client and one worker process here, the stack's gearmand)", "jobs", "jobs/s per worker", "submit-to-start p50 ms", "p99 ms"], queueRows)}`);
        console.log(`\n(${os.cpus().length} cores shared by every daemon of the stack and this process)\n`);
        return 0;
    } finally {
        const down = local(dir, ["down"]);
        if (down.status !== 0) console.error(down.out);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().then((code) => process.exit(code), (e: Error) => { console.error(`bench:queue: ${e.message}`); process.exit(1); });
