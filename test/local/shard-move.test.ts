/**
 * Rebalancing the one-machine stack as an operator would: the dev stack with users on one physical shard,
 * `down`, `up --set instagram:physicalShards=2`, then `shards move 8-15 --to 1` (half the logical shards)
 * under a bounded load of signups, uploads, feed and profile reads, with the move killed half-way and run
 * again. Every acknowledged write is readable at its new home afterwards, no read fails, a write answers 503
 * only for a logical shard that is moving and only while it moves, the app hosts follow the directory without
 * a restart, and the old copies refuse writes until `shards cleanup` drops them.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { contextFor } from "../../local/session";
import { LocalContext, pidFile } from "../../local/context";
import { hostNamed, shardHost } from "../../local/plan";
import { readState } from "../../local/state";
import { edgeCertificate } from "../../local/services/edge";
import { psqlAsPostgres, shardPaths } from "../../local/services/postgres";
import { runningPid } from "../../local/processes";
import { directoryPath } from "../../local/shard-directory";
import { pngBytes, SiteClient, SiteReply } from "../../local/site-client";
import { parseShardDirectory, rangeOf, ShardDirectory } from "../../core/shard-directory";
import { logicalShardForUsername, shardSchema } from "../../core/shard-map";
import { decodeId } from "../../core/ids";
import { DATABASE, DB_ROLES, MOVED_SQLSTATE } from "../../core/database";
import { PORTS } from "../../core/ports";
import { DIRECTORY_ROUTING_BOUND_MS } from "../../core/app-contract";
import { PROJECT_ROOT } from "../../delivery/sources";
import { runLocal } from "../harness/local-cli";

const NET = "127.0.25";
const LOGICAL = 16;
const MOVED = { first: 8, last: 15 };
let dir: string;
let ctx: LocalContext;
let site: SiteClient;

const local = (...args: string[]) => runLocal(dir, args);
const directory = (): ShardDirectory => parseShardDirectory(fs.readFileSync(directoryPath(dir), "utf8"), "test");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function upOk(...args: string[]): Promise<void> {
    const r = await local("up", "--stack", "dev", "--net", NET, "--workers", "1", "--set", `instagram:logicalShards=${LOGICAL}`, "--set", "instagram:appServers=2", ...args);
    if (r.status !== 0) throw new Error(`local up ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    ctx = contextFor(dir, readState(dir)!, () => undefined);
    site?.close();
    const before = site as SiteClient | undefined;
    site = new SiteClient(`${NET}.1`, edgeCertificate(ctx), "dev.example.com");
    if (before) {
        site.adoptSessions(before);
        before.close();
    }
}

/** `shards move` as its own process group, so that killing it kills the step it runs too. */
function startMove(): { child: ChildProcess; done: Promise<{ status: number; out: string }> } {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "local", "cli.ts"), "shards", "move", `${MOVED.first}-${MOVED.last}`, "--to", "1", "--dir", dir], { cwd: PROJECT_ROOT, detached: true });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    return { child, done: new Promise((resolve) => child.on("close", (code) => resolve({ status: code ?? -1, out }))) };
}

interface Outcome { kind: "signup" | "upload" | "feed" | "profile"; logicalShard: number; status: number; at: number; retryAfter?: string; body?: string }

beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("the local stack runs daemons as their own users and binds ports 80/443: run as root (as CI does)");
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-move-"));
    fs.chmodSync(dir, 0o755);
});

afterAll(async () => {
    site?.close();
    if (!dir) return;
    const r = await local("down");
    if (r.status !== 0) console.error(r.stdout, r.stderr);
    fs.rmSync(dir, { recursive: true, force: true });
}, 120_000);

const users: { id: string; username: string }[] = [];
const media: { id: string; owner: string }[] = [];
const outcomes: Outcome[] = [];
/** When each moved logical shard was marked moving, and when the directory flipped it. */
const windows = new Map<number, { moving?: number; flipped?: number }>();
let appPids: (number | undefined)[] = [];

describe("moving logical shards on the one-machine stack", () => {
    test("dev with one physical shard and 24 users, then up with physicalShards=2: the new shard is empty", async () => {
        await upOk();
        for (let i = 0; i < 24; i++) users.push({ id: await site.createUser(`mover_${i}`), username: `mover_${i}` });
        for (const u of users.slice(1, 12)) await site.follow(u.id, users[0].id);
        expect((await local("down")).status).toBe(0);
        await upOk("--set", "instagram:physicalShards=2");
        expect(directory().ranges).toEqual([{ first: 0, last: 15, physicalShard: 0, state: "serving" }]);
        appPids = ["app-0", "app-1"].map((h) => runningPid(pidFile(ctx, h, "instagram-app")));
        expect(appPids.every((p) => p !== undefined)).toBe(true);
    }, 240_000);

    test("shards move 8-15 --to 1 under load, killed half-way and run again: no read fails, 503s only for a moving logical shard while it moves", async () => {
        let stop = false;
        const watcher = (async () => {
            while (!stop) {
                const d = directory();
                for (let l = MOVED.first; l <= MOVED.last; l++) {
                    const r = rangeOf(d, l);
                    const w = windows.get(l) ?? {};
                    if (r.state === "moving" && w.moving === undefined) w.moving = Date.now();
                    if (r.state === "serving" && r.physicalShard === 1 && w.flipped === undefined) w.flipped = Date.now();
                    windows.set(l, w);
                }
                await sleep(20);
            }
        })();
        let seq = 0;
        const record = (kind: Outcome["kind"], logicalShard: number, r: SiteReply | undefined) =>
            outcomes.push({ kind, logicalShard, status: r?.status ?? 0, at: Date.now(), retryAfter: r?.headers["retry-after"] as string | undefined, body: r && r.status >= 300 ? r.body.toString("utf8").slice(0, 300) : undefined });
        const worker = async (n: number) => {
            while (!stop) {
                const pick = Math.random();
                // Someone with a session (the first 24 logged in; those signed up under load act only as new rows).
                const who = users[Math.floor(Math.random() * 24)];
                const whoShard = decodeId(BigInt(who.id)).logicalShard;
                // Signups are a tenth: each costs a password hash (about 90 ms of a core), and this machine has two.
                if (pick < 0.1) {
                    const username = `load_${n}_${seq++}`;
                    const r = await site.signup(username).catch(() => undefined);
                    record("signup", logicalShardForUsername(username, LOGICAL), r);
                    if (r?.status === 201) users.push({ id: r.json().id, username });
                } else if (pick < 0.4) {
                    const r = await site.upload(who.id, pngBytes(1e6 + seq++)).catch(() => undefined);
                    record("upload", whoShard, r);
                    if (r?.status === 201) media.push({ id: r.json().media.id, owner: who.id });
                } else if (pick < 0.85) {
                    record("feed", whoShard, await site.feed(who.id).catch(() => undefined));
                } else {
                    record("profile", whoShard, await site.request("GET", `/api/v1/users/${who.id}`).catch(() => undefined));
                }
                // Bounded: about 150 requests a second in all, a busy site's shape rather than a flood.
                await sleep(20);
            }
        };
        const load = Promise.all([0, 1, 2, 3].map(worker));
        await sleep(1000);

        // The first run is killed once logical shard 11 is on its way (8-10 done or underway).
        const first = startMove();
        const deadline = Date.now() + 90_000;
        while (windows.get(11)?.moving === undefined && Date.now() < deadline) await sleep(20);
        await sleep(300);
        process.kill(-first.child.pid!, "SIGKILL");
        await first.done;
        const killedAt = directory();
        expect(killedAt.ranges.some((r) => r.state === "moving"), JSON.stringify(killedAt.ranges)).toBe(true);
        const status = await local("shards", "status");
        expect(status.stdout).toMatch(/moving 11: 0 → 1: .*run the move again to resume/);

        const second = startMove();
        const result = await second.done;
        expect(result.status, result.out).toBe(0);
        expect(result.out).toMatch(/longest write pause \d+ ms/);
        await sleep(2000);
        stop = true;
        await load;
        await watcher;

        expect(directory().ranges).toEqual([
            { first: 0, last: 7, physicalShard: 0, state: "serving" },
            { first: 8, last: 15, physicalShard: 1, state: "serving" },
        ]);
        const reads = outcomes.filter((o) => o.kind === "feed" || o.kind === "profile");
        const writes = outcomes.filter((o) => o.kind === "signup" || o.kind === "upload");
        expect(reads.length).toBeGreaterThan(100);
        expect(writes.length).toBeGreaterThan(100);
        const failedReads = reads.filter((o) => o.status !== 200);
        expect(failedReads, JSON.stringify({ failedReads, windows: [...windows] })).toEqual([]);
        const refused = writes.filter((o) => o.status !== 201);
        for (const o of refused) {
            expect(o.status, JSON.stringify(o)).toBe(503);
            expect(o.retryAfter, JSON.stringify(o)).toBe("2");
            const w = windows.get(o.logicalShard);
            expect(w?.moving, `a 503 for logical shard ${o.logicalShard}, which did not move`).toBeDefined();
            // Between its marking and its finish: the flip, plus the time the directory takes to reach every
            // app worker, during which both copies refuse writes (so none reads the old copy after a new write).
            expect(o.at, `503 for ${o.logicalShard} before its move`).toBeGreaterThanOrEqual(w!.moving! - 50);
            expect(o.at, `503 for ${o.logicalShard} after its finish`).toBeLessThanOrEqual(w!.flipped! + DIRECTORY_ROUTING_BOUND_MS.local + 1500);
        }
        const pauses = [...windows].map(([l]) => {
            const times = refused.filter((o) => o.logicalShard === l).map((o) => o.at);
            return times.length === 0 ? 0 : Math.max(...times) - Math.min(...times);
        });
        console.log(`move under load: ${writes.length} writes (${refused.length} answered 503), ${reads.length} reads (0 failed); longest write pause seen by clients ${Math.max(...pauses)} ms`);
    }, 240_000);

    test("every acknowledged write is readable at its new home; usernames stay unique", async () => {
        for (const u of users) {
            const r = await site.request("GET", `/api/v1/users/${u.id}`);
            expect(r.status, `${u.username}: ${r.body}`).toBe(200);
            expect(r.json().username).toBe(u.username);
        }
        for (const m of media) expect((await site.request("GET", `/api/v1/media/${m.id}`)).status, m.id).toBe(200);
        // At the new home itself: every acknowledged user and photo of a moved logical shard is a row there.
        const dest = shardPaths(ctx, shardHost(ctx.plan, 1));
        for (let l = MOVED.first; l <= MOVED.last; l++) {
            const rows = (table: string) => new Set(psqlAsPostgres(dest, `SELECT id FROM ${shardSchema(l)}.${table}`).split("\n").filter(Boolean));
            const [userRows, mediaRows] = [rows("users"), rows("media")];
            const inL = (id: string) => decodeId(BigInt(id)).logicalShard === l;
            expect(users.filter((u) => inL(u.id) && !userRows.has(u.id)), `users of logical shard ${l}`).toEqual([]);
            expect(media.filter((m) => inL(m.id) && !mediaRows.has(m.id)), `photos of logical shard ${l}`).toEqual([]);
        }
        const moved = users.find((u) => decodeId(BigInt(u.id)).logicalShard >= MOVED.first)!;
        expect((await site.signup(moved.username)).status).toBe(409);
        expect((await site.feed(users[3].id)).status).toBe(200);
        // The app hosts followed the directory: same master processes as before the move.
        expect(["app-0", "app-1"].map((h) => runningPid(pidFile(ctx, h, "instagram-app")))).toEqual(appPids);
    }, 120_000);

    test("a write sent to the old copy after the flip fails; shards cleanup drops the old copies", async () => {
        const source = shardHost(ctx.plan, 0);
        const client = new Client({ host: source.address, port: PORTS.pgbouncer, database: DATABASE, user: DB_ROLES.app, password: fs.readFileSync(path.join(dir, "secrets", "postgres-app"), "utf8").trim() });
        await client.connect();
        try {
            const err = await client.query(`INSERT INTO ${shardSchema(9)}.users (username) VALUES ('stale_host')`).catch((e: { code?: string }) => e);
            expect((err as { code?: string }).code).toBe(MOVED_SQLSTATE);
            expect((await client.query(`SELECT count(*) FROM ${shardSchema(9)}.users`)).rows).toHaveLength(1);
        } finally {
            await client.end();
        }
        const before = await local("shards", "status");
        expect(before.stdout).toContain("physical 0 keeps read-only copies of logical shards 8, 9, 10, 11, 12, 13, 14, 15 (moved away)");
        const cleanup = await local("shards", "cleanup");
        expect(cleanup.status, cleanup.stderr).toBe(0);
        expect(cleanup.stdout).toContain("dropped 8 read-only copies");
        expect(psqlAsPostgres(shardPaths(ctx, source), `SELECT count(*) FROM pg_namespace WHERE nspname ~ '^shard00(0[89]|1[0-5])$'`)).toBe("0");
        expect((await local("shards", "status")).stdout).toContain("no move under way, no copy left for cleanup");
        // Still served from the new home.
        expect((await site.request("GET", `/api/v1/users/${users[5].id}`)).status).toBe(200);
        expect(hostNamed(ctx.plan, "shard-1-primary")).toBeDefined();
    }, 120_000);

    test("bad arguments exit 2 with usage; a move to a shard the directory does not list is refused", async () => {
        for (const args of [["shards", "move", "8-15"], ["shards", "move", "--to", "1"], ["shards", "move", "1-2", "3", "--to", "1"], ["shards", "jump"], ["shards", "move", "0-3", "--to", "x"]]) {
            const r = await local(...args);
            expect(r.status, args.join(" ")).toBe(2);
            expect(r.stderr).toContain("usage:");
        }
        const far = await local("shards", "move", "0-3", "--to", "5");
        expect(far.status).toBe(1);
        expect(far.stderr).toContain("--to 5: the shard directory lists physical shards 0-1");
        const range = await local("shards", "move", "10-40", "--to", "0");
        expect(range.status).toBe(1);
        expect(range.stderr).toContain("10-40: the stack has logical shards 0-15");
    });
});
