/**
 * Uploads with a queue: the API on the real data tier (test/harness/api-stack.ts) with two gearmand servers.
 * An upload answers once the photo's row, the owner's feed and the job exist; `instagram-app work` (a real
 * process) delivers it to the followers; a worker killed with -9 mid-fan-out leaves a job that is run again
 * and every feed holds the photo once; with no job server answering, the upload fans out itself.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as path from "path";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventually, sleep } from "../harness/daemons";
import { gearmand, TestGearmand } from "../harness/gearmand";
import { Account, API_PASSWORDS, ApiStack, LOGICAL } from "../harness/api-stack";
import { physicalShardOf } from "../../core/shard-map";
import { decodeId } from "../../core/ids";
import { fanOutCursorKey } from "../../app/api/fan-out";
import { GearmanClient } from "../../app/jobs/gearman/client";

const NET = "127.0.37";
let queues: TestGearmand[];
const api = new ApiStack(NET, { INSTAGRAM_GEARMAN_SERVERS: `${NET}.21:4730,${NET}.22:4730` });
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from("a photo to fan out")]);
let redis: Redis;
const workers: ChildProcess[] = [];

function startWork(args: string[] = []): ChildProcess {
    const proc = spawn(process.execPath, ["--import", "tsx", path.resolve(__dirname, "../../app/server/cli.ts"), "work", "-w", "1", "--graceful-timeout", "5", ...args], {
        env: { ...process.env, ...api.env() }, stdio: ["ignore", "pipe", "pipe"], detached: true,
    });
    let log = "";
    proc.stdout!.on("data", (d) => (log += d));
    proc.stderr!.on("data", (d) => (log += d));
    (proc as ChildProcess & { log: () => string }).log = () => log;
    workers.push(proc);
    return proc;
}

/** KILL the master and its workers (the whole process group): no drain, no report of the job in hand. */
function killWork(proc: ChildProcess): void {
    try { process.kill(-proc.pid!, "SIGKILL"); } catch { /* gone */ }
}

async function queued(fn: string): Promise<number> {
    let total = 0;
    for (const q of queues) {
        const out = spawnSync("gearadmin", ["-h", q.host, "-p", String(q.port), "--status"], { encoding: "utf8" }).stdout;
        for (const line of out.split("\n")) if (line.startsWith(`${fn}\t`)) total += Number(line.split("\t")[1]);
    }
    return total;
}

/** `count` follower rows for the account (followers live on the followee's shard), IDs from `first`. */
function addFollowerRows(owner: Account, first: number, count: number): void {
    const logical = decodeId(BigInt(owner.id)).logicalShard;
    const schema = `shard${String(logical).padStart(4, "0")}`;
    api.shards[physicalShardOf(logical, LOGICAL, 2)].sql(`INSERT INTO ${schema}.followers (followee_id, follower_id) SELECT ${owner.id}, g FROM generate_series(${first}, ${first + count - 1}) g`, "instagram");
}

/** How many times each of these followers' feeds holds the photo. */
async function copiesOnFeeds(mediaId: string, followers: number[]): Promise<Map<number, number>> {
    const pipeline = redis.pipeline();
    for (const f of followers) pipeline.lrange(`feed:${f}`, 0, -1);
    const results = (await pipeline.exec())!;
    const copies = new Map<number, number>();
    results.forEach(([, list], i) => copies.set(followers[i], (list as string[]).filter((id) => id === mediaId).length));
    return copies;
}

const range = (first: number, count: number) => Array.from({ length: count }, (_, i) => first + i);

beforeAll(async () => {
    queues = [gearmand(api.daemons, `${NET}.21`), gearmand(api.daemons, `${NET}.22`)];
    await Promise.all(queues.map((q) => q.start()));
    await api.start();
    redis = new Redis({ host: api.redis, port: 6379, password: API_PASSWORDS.redis });
}, 120_000);

afterAll(async () => {
    for (const w of workers) killWork(w);
    redis?.disconnect();
    await api.stop();
});

describe("uploads with a queue", () => {
    test("an upload answers with its fan-out queued; the owner's feed has it at once, the followers' once a worker runs", async () => {
        const [ann, bob, cyd] = await Promise.all(["q_ann", "q_bob", "q_cyd"].map((n) => api.signup(n)));
        for (const f of [bob, cyd]) expect((await api.call("PUT", `/api/v1/users/${f.id}/following/${ann.id}`, undefined, {}, f)).status).toBe(204);
        const r = await api.upload(ann, ann.id, JPEG, "image/jpeg", "queued");
        expect(r.status, JSON.stringify(r.json)).toBe(201);
        expect(r.json).toMatchObject({ fanOut: "queued", fannedOutTo: null });
        const id = r.json.media.id;
        expect((await api.call("GET", `/api/v1/users/${ann.id}/feed`, undefined, {}, ann)).json.media.map((m: { id: string }) => m.id)).toEqual([id]);
        expect((await api.call("GET", `/api/v1/users/${bob.id}/feed`, undefined, {}, bob)).json.media).toEqual([]);
        expect(await queued("fanout")).toBe(1);
        const work = startWork();
        for (const f of [bob, cyd]) {
            await eventually(async () => ((await api.call("GET", `/api/v1/users/${f.id}/feed`, undefined, {}, f)).json.media.length === 1 ? true : undefined), 20_000, `${f.username}'s feed to get the photo`);
            expect((await api.call("GET", `/api/v1/users/${f.id}/feed`, undefined, {}, f)).json.media[0]).toMatchObject({ id, caption: "queued", username: "q_ann" });
        }
        expect(await queued("fanout")).toBe(0);
        killWork(work);
    }, 60_000);

    test("a worker killed with -9 in the middle of a fan-out leaves the job, which runs again: each of 30,000 feeds holds the photo once", async () => {
        const owner = await api.signup("q_many");
        const FIRST = 800_000_001;
        const COUNT = 30_000;
        addFollowerRows(owner, FIRST, COUNT);
        const r = await api.upload(owner, owner.id, JPEG, "image/jpeg", "to many");
        expect(r.json.fanOut).toBe("queued");
        const id = r.json.media.id as string;
        const first = startWork();
        // Kill as soon as part of the fan-out is delivered (the cursor exists) and before the end.
        const cursor = await eventually(async () => (await redis.get(fanOutCursorKey(id))) ?? undefined, 30_000, "the fan-out to start");
        killWork(first);
        await sleep(200);
        const partly = Number(await redis.get(fanOutCursorKey(id)));
        expect(Number(cursor)).toBeGreaterThanOrEqual(FIRST);
        expect(partly, "killed before the fan-out ended").toBeLessThan(FIRST + COUNT - 1);
        expect(await queued("fanout"), "the job is back in the queue").toBe(1);
        startWork();
        await eventually(async () => ((await redis.get(fanOutCursorKey(id))) === String(FIRST + COUNT - 1) && (await queued("fanout")) === 0 ? true : undefined), 60_000, "the job to be run again to the end");
        const copies = await copiesOnFeeds(id, range(FIRST, COUNT));
        const counts = new Map<number, number>();
        for (const n of copies.values()) counts.set(n, (counts.get(n) ?? 0) + 1);
        expect(Object.fromEntries(counts)).toEqual({ 1: COUNT });
    }, 120_000);

    test("with no job server answering, an upload fans out itself, and a job queued after all adds nothing twice", async () => {
        const owner = await api.signup("q_fallback");
        const FIRST = 810_000_001;
        addFollowerRows(owner, FIRST, 50);
        let mediaId = "";
        await Promise.all(queues.map((q) => q.stop()));
        try {
            const r = await api.upload(owner, owner.id, JPEG, "image/jpeg", "no queue");
            expect(r.status, JSON.stringify(r.json)).toBe(201);
            expect(r.json).toMatchObject({ fanOut: "inline", fannedOutTo: 50 });
            mediaId = r.json.media.id;
            expect([...(await copiesOnFeeds(mediaId, range(FIRST, 50))).values()].every((n) => n === 1)).toBe(true);
        } finally {
            await Promise.all(queues.map((q) => q.start()));
        }
        // The same photo's job, as if a submit the upload gave up on had been queued after all.
        const client = new GearmanClient({ servers: queues });
        try {
            await client.ready(5000);
            await client.submitBackground("fanout", `fanout:${mediaId}`, JSON.stringify({ ownerId: owner.id, mediaId }));
        } finally {
            client.close();
        }
        const work = startWork();
        await eventually(async () => ((await queued("fanout")) === 0 ? true : undefined), 20_000, "the late job to run");
        killWork(work);
        expect([...(await copiesOnFeeds(mediaId, range(FIRST, 50))).values()].every((n) => n === 1)).toBe(true);
    }, 60_000);
});
