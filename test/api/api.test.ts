/**
 * The API against the real data tier on loopback: two physical shards (PostgreSQL + pgbouncer from the
 * generated configs, 8 logical shards), Redis with AUTH, two memcached nodes and a media directory, served
 * in-process. Rows land where the shard map says, inputs are checked, feeds fan out and hydrate through the
 * cache, and a dependency going away gives 503 for what needs it, then recovery.
 */
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { redisConf } from "../../cloud-init/configs/redis";
import { AddressInfo } from "net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Daemons, eventually, requireCommand, tcpExchange } from "../harness/daemons";
import { ShardHost, startShardHost } from "../harness/postgres";
import { createApp } from "../../app/api/app";
import { shardMap, physicalShardOf } from "../../core/shard-map";
import { decodeId } from "../../core/ids";

const PASSWORDS = { app: "AppPassw0rdForTests00000000000001", pgbouncer: "BouncerPassw0rdForTests000000001", redis: "RedisPassw0rdForTests00000000001" };
const REDIS = "127.0.10.5";
const MEMCACHED = ["127.0.10.6:11211", "127.0.10.7:11211"];
let mediaDir: string;
const LOGICAL = 8;
const daemons = new Daemons();
let shards: ShardHost[];
let server: http.Server;
let base: string;

function env(): NodeJS.ProcessEnv {
    return {
        INSTAGRAM_LOGICAL_SHARDS: String(LOGICAL),
        INSTAGRAM_SHARD_MAP: JSON.stringify(shardMap(LOGICAL, 2)),
        INSTAGRAM_PGBOUNCER_HOSTS: "127.0.10.1:6432,127.0.10.2:6432",
        INSTAGRAM_DB_PASSWORD: PASSWORDS.app,
        INSTAGRAM_REDIS: `${REDIS}:6379`,
        INSTAGRAM_REDIS_PASSWORD: PASSWORDS.redis,
        INSTAGRAM_MEMCACHED: MEMCACHED.join(","),
        INSTAGRAM_MEDIA_DIR: mediaDir,
        INSTAGRAM_MEDIA_BASE_URL: "https://media.example.com",
        INSTAGRAM_MAX_UPLOAD_BYTES: String(64 * 1024),
    };
}

async function startRedis(): Promise<void> {
    const dir = daemons.track(fs.mkdtempSync(path.join(os.tmpdir(), "api-redis-")));
    fs.writeFileSync(path.join(dir, "auth.conf"), `requirepass ${PASSWORDS.redis}\n`);
    fs.writeFileSync(path.join(dir, "redis.conf"), redisConf({ bind: REDIS, maxMemoryMiB: 64, dataDir: dir, persistent: false, secretsInclude: path.join(dir, "auth.conf"), redisMajor: 7 }));
    daemons.start("redis", "redis-server", [path.join(dir, "redis.conf")]);
    await daemons.waitFor("redis", REDIS, 6379);
}

async function serve(environment: NodeJS.ProcessEnv): Promise<{ server: http.Server; url: string }> {
    const s = http.createServer(createApp({ workerId: 1, count: () => undefined }, environment));
    await new Promise<void>((resolve) => s.listen(0, "127.0.10.100", resolve));
    return { server: s, url: `http://127.0.10.100:${(s.address() as AddressInfo).port}` };
}

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from("a tiny stand-in for a photo")]);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from("png bytes")]);

async function upload(owner: string, body: Buffer, type: string, caption: string): Promise<{ status: number; json: any }> {
    const res = await fetch(`${base}/api/v1/users/${owner}/media?caption=${encodeURIComponent(caption)}`, { method: "POST", headers: { "Content-Type": type }, body });
    return { status: res.status, json: await res.json() };
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
    const res = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? headers : { "Content-Type": "application/json", ...headers },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
    requireCommand("pgbouncer", "pgbouncer");
    const map = shardMap(LOGICAL, 2);
    shards = [
        await startShardHost(daemons, "api-shard-0", "127.0.10.1", map[0].firstLogicalShard, map[0].lastLogicalShard, PASSWORDS),
        await startShardHost(daemons, "api-shard-1", "127.0.10.2", map[1].firstLogicalShard, map[1].lastLogicalShard, PASSWORDS),
    ];
    await startRedis();
    for (const [i, node] of MEMCACHED.entries()) {
        daemons.start(`memcached-${i}`, "memcached", ["-l", node.split(":")[0], "-p", "11211", "-U", "0", "-m", "16", "-u", "memcache"]);
        await daemons.waitFor(`memcached-${i}`, node.split(":")[0], 11211);
    }
    mediaDir = daemons.track(fs.mkdtempSync(path.join(os.tmpdir(), "api-media-")));
    ({ server, url: base } = await serve(env()));
    await eventually(async () => ((await call("GET", "/readyz")).status === 200 ? true : undefined), 10_000, "the API to be ready");
}, 120_000);

afterAll(async () => {
    server?.close();
    await daemons.cleanup();
});

describe("users on two physical shards", () => {
    test("ready when both shards answer", async () => {
        const r = await call("GET", "/readyz");
        expect(r.status, JSON.stringify(r.json)).toBe(200);
        expect(r.json).toMatchObject({ status: "ready", problems: [] });
    });

    test("each new user's row is on the physical shard the map names, under an ID that carries its logical shard", async () => {
        const created = [];
        for (let i = 0; i < 24; i++) {
            const r = await call("POST", "/api/v1/users", { username: `user_${i}` });
            expect(r.status).toBe(201);
            created.push(r.json);
        }
        const physicalUsed = new Set<number>();
        for (const user of created) {
            const logical = decodeId(BigInt(user.id)).logicalShard;
            const physical = physicalShardOf(logical, LOGICAL, 2);
            physicalUsed.add(physical);
            const schema = `shard${String(logical).padStart(4, "0")}`;
            expect(shards[physical].sql(`SELECT username FROM ${schema}.users WHERE id = ${user.id}`, "instagram")).toBe(user.username);
            expect(shards[1 - physical].sql(`SELECT count(*) FROM pg_namespace WHERE nspname = '${schema}'`, "instagram")).toBe("0");
            expect((await call("GET", `/api/v1/users/${user.id}`)).json).toEqual(user);
        }
        expect(physicalUsed.size).toBe(2);
        expect((await call("POST", "/api/v1/users", { username: "user_3" })).status).toBe(409);
    });

    test.each([
        ["a bad username", "POST", "/api/v1/users", { username: "Not Valid!" }, {}, 400, /username must be 1-30 characters/],
        ["an unknown field", "POST", "/api/v1/users", { username: "ok", admin: true }, {}, 400, /unknown field\(s\): admin/],
        ["no JSON content type", "POST", "/api/v1/users", "username=x", { "Content-Type": "application/x-www-form-urlencoded" }, 415, /application\/json/],
        ["broken JSON", "POST", "/api/v1/users", "{nope", {}, 400, /not valid JSON/],
        ["a body over 16 KiB", "POST", "/api/v1/users", JSON.stringify({ username: "x".repeat(20_000) }), {}, 413, /limited to 16384 bytes/],
        ["a non-numeric id", "GET", "/api/v1/users/abc", undefined, {}, 400, /positive 64-bit ID/],
        ["an unknown user", "GET", "/api/v1/users/12345678901", undefined, {}, 404, /no user/],
        ["a wrong method", "PATCH", "/api/v1/users", undefined, {}, 405, /use POST/],
        ["an unknown route", "GET", "/nothing", undefined, {}, 404, /no route/],
    ])("%s is answered with a JSON error", async (_what, method, path, body, headers, status, message) => {
        const r = await call(method as string, path as string, body, headers as Record<string, string>);
        expect(r.status).toBe(status);
        expect(r.json.message).toMatch(message as RegExp);
        expect(JSON.stringify(r.json)).not.toMatch(/\bat .*\.ts:\d+/);
    });

    test("following across shards writes both sides, idempotently; unfollowing removes both", async () => {
        const users = await Promise.all(["ann", "bob", "cyd", "dee", "eve", "fay"].map(async (u) => (await call("POST", "/api/v1/users", { username: u })).json));
        const shardOf = (u: { id: string }) => physicalShardOf(decodeId(BigInt(u.id)).logicalShard, LOGICAL, 2);
        const a = users[0];
        const b = users.find((u) => shardOf(u) !== shardOf(a))!;
        expect(b).toBeDefined();
        expect((await call("PUT", `/api/v1/users/${a.id}/following/${b.id}`)).status).toBe(204);
        expect((await call("PUT", `/api/v1/users/${a.id}/following/${b.id}`)).status).toBe(204);
        expect((await call("GET", `/api/v1/users/${b.id}/followers`)).json).toEqual({ followers: [a.id] });
        const follows = (u: { id: string }, table: string, col: string) => shards[shardOf(u)].sql(`SELECT count(*) FROM shard${String(decodeId(BigInt(u.id)).logicalShard).padStart(4, "0")}.${table} WHERE ${col} = ${u.id}`, "instagram");
        expect(follows(a, "follows", "follower_id")).toBe("1");
        expect(follows(b, "followers", "followee_id")).toBe("1");
        expect((await call("PUT", `/api/v1/users/${a.id}/following/${a.id}`)).status).toBe(409);
        expect((await call("PUT", `/api/v1/users/${a.id}/following/999999999999`)).status).toBe(404);
        expect((await call("DELETE", `/api/v1/users/${a.id}/following/${b.id}`)).status).toBe(204);
        expect((await call("GET", `/api/v1/users/${b.id}/followers`)).json).toEqual({ followers: [] });
        expect(follows(a, "follows", "follower_id")).toBe("0");
    });

    test("a shard whose pgbouncer is down: 503 naming it for its users, the other shard still serves, then recovery", async () => {
        const users = await Promise.all(["gil", "hal", "ivy", "jon", "kim", "lee"].map(async (u) => (await call("POST", "/api/v1/users", { username: u })).json));
        const onShard = (p: number) => users.find((u) => physicalShardOf(decodeId(BigInt(u.id)).logicalShard, LOGICAL, 2) === p)!;
        await shards[1].stopPgbouncer();
        const ready = await call("GET", "/readyz");
        expect(ready.status).toBe(503);
        expect(ready.json.problems.join("\n")).toMatch(/shard 1:/);
        const down = await call("GET", `/api/v1/users/${onShard(1).id}`);
        expect(down.status).toBe(503);
        expect(down.json).toMatchObject({ error: "unavailable", dependency: "shard 1" });
        expect((await call("GET", `/api/v1/users/${onShard(0).id}`)).status).toBe(200);
        await shards[1].startPgbouncer();
        await eventually(async () => ((await call("GET", `/api/v1/users/${onShard(1).id}`)).status === 200 ? true : undefined), 15_000, "shard 1 to serve again");
        expect((await call("GET", "/readyz")).status).toBe(200);
    }, 60_000);

    test("with nothing configured the server still boots: alive, not ready, and 503 naming what is missing", async () => {
        const bare = await serve({});
        const get = (p: string, init?: RequestInit) => fetch(`${bare.url}${p}`, init).then(async (r) => ({ status: r.status, json: await r.json() }));
        expect((await get("/healthz")).status).toBe(200);
        const ready = (await get("/readyz")) as { status: number; json: any };
        expect(ready.status).toBe(503);
        expect(ready.json.problems).toEqual(expect.arrayContaining([expect.stringMatching(/INSTAGRAM_PGBOUNCER_HOSTS is not set/)]));
        const post: { status: number; json: any } = await get("/api/v1/users", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: "x" }) });
        expect(post.status).toBe(503);
        expect(post.json.missing.length).toBeGreaterThan(0);
        bare.server.close();
    });

    test("uploads: the photo goes to the media store, its row to the owner's shard, its ID to every follower's feed", async () => {
        const [ana, ben, cal] = await Promise.all(["ana_p", "ben_p", "cal_p"].map(async (u) => (await call("POST", "/api/v1/users", { username: u })).json));
        await call("PUT", `/api/v1/users/${ben.id}/following/${ana.id}`);
        await call("PUT", `/api/v1/users/${cal.id}/following/${ana.id}`);
        const posted = [];
        for (let i = 0; i < 3; i++) {
            const r = await upload(ana.id, JPEG, "image/jpeg", `sunset ${i}`);
            expect(r.status, JSON.stringify(r.json)).toBe(201);
            expect(r.json.fannedOutTo).toBe(2);
            posted.push(r.json.media);
        }
        const photo = posted[0];
        expect(photo).toMatchObject({ userId: ana.id, contentType: "image/jpeg", bytes: JPEG.length, caption: "sunset 0" });
        expect(photo.url).toMatch(/^https:\/\/media\.example\.com\/photos\/\d+\/[a-z0-9-]+\.jpg$/);
        const file = path.join(mediaDir, photo.url.replace("https://media.example.com/", ""));
        expect(fs.readFileSync(file)).toEqual(JPEG);
        const logical = decodeId(BigInt(photo.id)).logicalShard;
        expect(logical).toBe(decodeId(BigInt(ana.id)).logicalShard);
        expect(shards[physicalShardOf(logical, LOGICAL, 2)].sql(`SELECT caption FROM shard${String(logical).padStart(4, "0")}.media WHERE id = ${photo.id}`, "instagram")).toBe("sunset 0");
        for (const reader of [ben, cal, ana]) {
            const feed = await call("GET", `/api/v1/users/${reader.id}/feed?limit=10`);
            expect(feed.status).toBe(200);
            expect(feed.json.media.map((m: { id: string }) => m.id)).toEqual(posted.map((m) => m.id).reverse());
        }
        expect((await call("GET", `/api/v1/media/${photo.id}`)).json).toEqual(photo);
    });

    test("feeds hydrate from memcached; after a flush they come from the shards and fill the cache again", async () => {
        const [dan, eli] = await Promise.all(["dan_c", "eli_c"].map(async (u) => (await call("POST", "/api/v1/users", { username: u })).json));
        await call("PUT", `/api/v1/users/${eli.id}/following/${dan.id}`);
        for (let i = 0; i < 5; i++) await upload(dan.id, PNG, "image/png", `p${i}`);
        const warm = await call("GET", `/api/v1/users/${eli.id}/feed`);
        expect(warm.json.cacheHits).toBe(5);
        for (const node of MEMCACHED) await tcpExchange(node.split(":")[0], 11211, "flush_all\r\n", /OK\r\n/);
        const cold = await call("GET", `/api/v1/users/${eli.id}/feed`);
        expect(cold.json.cacheHits).toBe(0);
        expect(cold.json.media).toEqual(warm.json.media);
        expect((await call("GET", `/api/v1/users/${eli.id}/feed`)).json.cacheHits).toBe(5);
    });

    test.each([
        ["a non-photo content type", "text/plain", Buffer.from("hello"), 415, /upload a photo as image\/jpeg, image\/png, image\/webp/],
        ["bytes that are not the declared type", "image/jpeg", PNG, 400, /the body is not a image\/jpeg image/],
        ["a photo over the upload limit", "image/jpeg", Buffer.concat([JPEG, Buffer.alloc(70 * 1024)]), 413, /limited to 65536 bytes/],
    ])("an upload with %s is refused", async (_what, type, body, status, message) => {
        const owner = (await call("POST", "/api/v1/users", { username: `up_${status}_${type.length}` })).json;
        const r = await upload(owner.id, body as Buffer, type as string, "");
        expect(r.status).toBe(status);
        expect(r.json.message).toMatch(message as RegExp);
    });

    test("a caption over 2200 characters, or an unknown owner, is refused", async () => {
        const owner = (await call("POST", "/api/v1/users", { username: "caption_x" })).json;
        expect((await upload(owner.id, JPEG, "image/jpeg", "x".repeat(2201))).status).toBe(400);
        expect((await upload("123456789012", JPEG, "image/jpeg", "")).status).toBe(404);
        expect((await call("GET", "/api/v1/users/1/feed?limit=500")).status).toBe(400);
    });

    test("a memcached node lost: feeds are still served, from the shards", async () => {
        const [fox, gus] = await Promise.all(["fox_m", "gus_m"].map(async (u) => (await call("POST", "/api/v1/users", { username: u })).json));
        await call("PUT", `/api/v1/users/${gus.id}/following/${fox.id}`);
        for (let i = 0; i < 4; i++) await upload(fox.id, JPEG, "image/jpeg", `m${i}`);
        await daemons.stopOne("memcached-1");
        const feed = await call("GET", `/api/v1/users/${gus.id}/feed`);
        expect(feed.status).toBe(200);
        expect(feed.json.media).toHaveLength(4);
    });

    test("Redis stopped: uploads and feeds answer 503 naming it, /readyz says so; it recovers by itself when Redis is back", async () => {
        const hal = (await call("POST", "/api/v1/users", { username: "hal_r" })).json;
        await daemons.stopOne("redis");
        const up = await upload(hal.id, JPEG, "image/jpeg", "");
        expect(up.status).toBe(503);
        expect(up.json).toMatchObject({ error: "unavailable", dependency: "redis" });
        expect((await call("GET", `/api/v1/users/${hal.id}/feed`)).json).toMatchObject({ dependency: "redis" });
        const ready = await call("GET", "/readyz");
        expect(ready.status).toBe(503);
        expect(ready.json.problems.join("\n")).toMatch(/redis:/);
        expect((await call("GET", `/api/v1/users/${hal.id}`)).status).toBe(200);
        await startRedis();
        await eventually(async () => ((await upload(hal.id, JPEG, "image/jpeg", "back")).status === 201 ? true : undefined), 15_000, "uploads to work again");
        expect((await call("GET", "/readyz")).status).toBe(200);
    }, 60_000);
});
