/**
 * The API's users and follows against two real physical shards (PostgreSQL + pgbouncer from the generated
 * configs, 8 logical shards), served in-process: rows land where the shard map says, inputs are checked,
 * and a shard's pgbouncer going away gives 503 for that shard only, then recovery.
 */
import * as http from "http";
import { AddressInfo } from "net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Daemons, eventually, requireCommand } from "../harness/daemons";
import { ShardHost, startShardHost } from "../harness/postgres";
import { createApp } from "../../app/api/app";
import { shardMap, physicalShardOf } from "../../components/shard-map";
import { decodeId } from "../../cloud-init/configs/postgres-sql";

const PASSWORDS = { app: "AppPassw0rdForTests00000000000001", pgbouncer: "BouncerPassw0rdForTests000000001" };
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
    };
}

async function serve(environment: NodeJS.ProcessEnv): Promise<{ server: http.Server; url: string }> {
    const s = http.createServer(createApp({ workerId: 1, count: () => undefined }, environment));
    await new Promise<void>((resolve) => s.listen(0, "127.0.10.100", resolve));
    return { server: s, url: `http://127.0.10.100:${(s.address() as AddressInfo).port}` };
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
    ({ server, url: base } = await serve(env()));
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
});
