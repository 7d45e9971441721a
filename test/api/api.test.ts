/**
 * The API against the real data tier on loopback (test/harness/api-stack.ts): two physical shards, Redis with
 * AUTH, two memcached nodes and a media directory, served in-process. Rows land where the shard map says,
 * inputs are checked, feeds fan out and hydrate through the cache, and a dependency going away gives 503 for
 * what needs it, then recovery. Accounts, likes and comments: test/api/accounts.test.ts, social.test.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { eventually, tcpExchange } from "../harness/daemons";
import { spawnSync } from "child_process";
import { Account, API_PASSWORDS, ApiStack, LOGICAL } from "../harness/api-stack";
import { physicalShardOf } from "../../core/shard-map";
import { decodeId } from "../../core/ids";

const api = new ApiStack("127.0.10");
const call = api.call.bind(api);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from("a tiny stand-in for a photo")]);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from("png bytes")]);
const upload = (owner: Account, body: Buffer, type: string, caption: string) => api.upload(owner, owner.id, body, type, caption);
const signupAll = (names: string[]) => Promise.all(names.map((n) => api.signup(n)));
const follow = (a: Account, b: Account) => call("PUT", `/api/v1/users/${a.id}/following/${b.id}`, undefined, {}, a);
const feedOf = (a: Account, query = "") => call("GET", `/api/v1/users/${a.id}/feed${query}`, undefined, {}, a);

beforeAll(() => api.start(), 120_000);
afterAll(() => api.stop());

describe("users on two physical shards", () => {
    test("ready when both shards answer", async () => {
        const r = await call("GET", "/readyz");
        expect(r.status, JSON.stringify(r.json)).toBe(200);
        expect(r.json).toMatchObject({ status: "ready", problems: [] });
    });

    test("each new user's row is on the physical shard the map names, under an ID that carries its logical shard", async () => {
        const created = [];
        for (let i = 0; i < 24; i++) {
            const r = await call("POST", "/api/v1/users", { username: `user_${i}`, password: "a password of 30 characters.." });
            expect(r.status).toBe(201);
            expect(Object.keys(r.json).sort()).toEqual(["createdAt", "id", "username"]);
            created.push(r.json);
        }
        const physicalUsed = new Set<number>();
        for (const user of created) {
            const logical = decodeId(BigInt(user.id)).logicalShard;
            const physical = physicalShardOf(logical, LOGICAL, 2);
            physicalUsed.add(physical);
            const schema = `shard${String(logical).padStart(4, "0")}`;
            expect(api.shards[physical].sql(`SELECT username FROM ${schema}.users WHERE id = ${user.id}`, "instagram")).toBe(user.username);
            expect(api.shards[1 - physical].sql(`SELECT count(*) FROM pg_namespace WHERE nspname = '${schema}'`, "instagram")).toBe("0");
            expect((await call("GET", `/api/v1/users/${user.id}`)).json).toEqual(user);
        }
        expect(physicalUsed.size).toBe(2);
        expect((await call("POST", "/api/v1/users", { username: "user_3", password: "another password" })).status).toBe(409);
    });

    test.each([
        ["a bad username", "POST", "/api/v1/users", { username: "Not Valid!", password: "long enough" }, {}, 400, /username must be 1-30 characters/],
        ["an unknown field", "POST", "/api/v1/users", { username: "ok", password: "long enough", admin: true }, {}, 400, /unknown field\(s\): admin/],
        ["no password", "POST", "/api/v1/users", { username: "ok" }, {}, 400, /password must be a string/],
        ["a short password", "POST", "/api/v1/users", { username: "ok", password: "short" }, {}, 400, /at least 8 characters/],
        ["a password over 256 bytes", "POST", "/api/v1/users", { username: "ok", password: "é".repeat(200) }, {}, 400, /limited to 256 bytes/],
        ["a common password", "POST", "/api/v1/users", { username: "ok", password: "password" }, {}, 400, /^password is on a list of common or breached passwords; choose another$/],
        ["a run of digits", "POST", "/api/v1/users", { username: "ok", password: "12345678" }, {}, 400, /list of common or breached passwords/],
        ["a breached one in other case", "POST", "/api/v1/users", { username: "ok", password: "IloveYou1" }, {}, 400, /list of common or breached passwords/],
        ["a password of blanks", "POST", "/api/v1/users", { username: "ok", password: "        " }, {}, 400, /only blank characters/],
        ["one character repeated", "POST", "/api/v1/users", { username: "ok", password: "zzzzzzzzzz" }, {}, 400, /one character repeated/],
        ["the username as password", "POST", "/api/v1/users", { username: "some_user", password: "Some_User" }, {}, 400, /password is the username/],
        ["no JSON content type", "POST", "/api/v1/users", "username=x", { "Content-Type": "application/x-www-form-urlencoded" }, 415, /application\/json/],
        ["broken JSON", "POST", "/api/v1/users", "{nope", {}, 400, /not valid JSON/],
        ["a body over 16 KiB", "POST", "/api/v1/users", JSON.stringify({ username: "x".repeat(20_000) }), {}, 413, /limited to 16384 bytes/],
        ["a non-numeric id", "GET", "/api/v1/users/abc", undefined, {}, 400, /positive 64-bit ID/],
        ["an unknown user", "GET", "/api/v1/users/12345678901", undefined, {}, 404, /no user/],
        ["a wrong method", "PATCH", "/api/v1/users", undefined, {}, 405, /use POST, GET/],
        ["an unknown route", "GET", "/nothing", undefined, {}, 404, /no route/],
    ])("%s is answered with a JSON error", async (_what, method, path, body, headers, status, message) => {
        const r = await call(method as string, path as string, body, headers as Record<string, string>);
        expect(r.status).toBe(status);
        expect(r.json.message).toMatch(message as RegExp);
        expect(JSON.stringify(r.json)).not.toMatch(/\bat .*\.ts:\d+/);
    });

    test("following across shards writes both sides, idempotently; unfollowing removes both", async () => {
        const users = await signupAll(["ann", "bob", "cyd", "dee", "eve", "fay"]);
        const shardOf = (u: { id: string }) => physicalShardOf(decodeId(BigInt(u.id)).logicalShard, LOGICAL, 2);
        const a = users[0];
        const b = users.find((u) => shardOf(u) !== shardOf(a))!;
        expect(b).toBeDefined();
        expect((await follow(a, b)).status).toBe(204);
        expect((await follow(a, b)).status).toBe(204);
        expect((await call("GET", `/api/v1/users/${b.id}/followers`)).json).toEqual({ followers: [a.id] });
        const follows = (u: { id: string }, table: string, col: string) => api.shards[shardOf(u)].sql(`SELECT count(*) FROM shard${String(decodeId(BigInt(u.id)).logicalShard).padStart(4, "0")}.${table} WHERE ${col} = ${u.id}`, "instagram");
        expect(follows(a, "follows", "follower_id")).toBe("1");
        expect(follows(b, "followers", "followee_id")).toBe("1");
        expect((await follow(a, a)).status).toBe(409);
        expect((await call("PUT", `/api/v1/users/${a.id}/following/999999999999`, undefined, {}, a)).status).toBe(404);
        expect((await call("DELETE", `/api/v1/users/${a.id}/following/${b.id}`, undefined, {}, a)).status).toBe(204);
        expect((await call("GET", `/api/v1/users/${b.id}/followers`)).json).toEqual({ followers: [] });
        expect(follows(a, "follows", "follower_id")).toBe("0");
    });

    test("an ID whose logical shard this stack does not have answers 404 wherever an ID is taken (unfollowing one answered 500)", async () => {
        const [nix] = await signupAll(["nix"]);
        // A well-formed ID (time, logical shard, sequence) whose logical shard is past the stack's LOGICAL.
        const beyond = String((1000n << 23n) | (BigInt(LOGICAL + 5) << 10n) | 1n);
        for (const [method, path] of [
            ["DELETE", `/api/v1/users/${nix.id}/following/${beyond}`],
            ["PUT", `/api/v1/users/${nix.id}/following/${beyond}`],
            ["GET", `/api/v1/users/${beyond}`],
            ["GET", `/api/v1/users/${beyond}/followers`],
        ]) {
            const r = await call(method, path, undefined, {}, nix);
            expect(r.status, `${method} ${path}: ${JSON.stringify(r.json)}`).toBe(404);
            expect(r.json.error).toBe("not_found");
        }
    });

    test("a request target no URL parser takes, and a body the client cuts off, are the client's: 400, never a 500 or an error logged", async () => {
        const errors = vi.spyOn(console, "error");
        try {
            const { hostname, port } = new URL(api.base);
            const reply = await tcpExchange(hostname, Number(port), "GET //[x HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n", /\r\n\r\n[\s\S]*\}/);
            expect(reply).toMatch(/^HTTP\/1\.1 400 /);
            expect(reply).toMatch(/"error":"invalid_request"/);
            // A photo upload whose body stops a third of the way, then the connection closes.
            const [cut] = await signupAll(["cut"]);
            await tcpExchange(hostname, Number(port), `POST /api/v1/users/${cut.id}/media?caption=x HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${cut.token}\r\nContent-Type: image/jpeg\r\nContent-Length: 3000\r\n\r\n${"\xff".repeat(1000)}`, /$^/, { timeoutMs: 500 });
            await new Promise((resolve) => setTimeout(resolve, 300));
            expect(errors.mock.calls.map((c) => String(c[0]))).toEqual([]);
        } finally {
            errors.mockRestore();
        }
    });

    test("a shard whose pgbouncer is down: 503 naming it for its users, the other shard still serves, then recovery", async () => {
        const users = await signupAll(["gil", "hal", "ivy", "jon", "kim", "lee"]);
        const onShard = (p: number) => users.find((u) => physicalShardOf(decodeId(BigInt(u.id)).logicalShard, LOGICAL, 2) === p)!;
        await api.shards[1].stopPgbouncer();
        const ready = await call("GET", "/readyz");
        expect(ready.status).toBe(503);
        expect(ready.json.problems.join("\n")).toMatch(/shard 1:/);
        const down = await call("GET", `/api/v1/users/${onShard(1).id}`);
        expect(down.status).toBe(503);
        expect(down.json).toMatchObject({ error: "unavailable", dependency: "shard 1" });
        expect((await call("GET", `/api/v1/users/${onShard(0).id}`)).status).toBe(200);
        await api.shards[1].startPgbouncer();
        await eventually(async () => ((await call("GET", `/api/v1/users/${onShard(1).id}`)).status === 200 ? true : undefined), 15_000, "shard 1 to serve again");
        expect((await call("GET", "/readyz")).status).toBe(200);
    }, 60_000);

    test("with nothing configured the server still boots: alive, not ready, and 503 naming what is missing", async () => {
        const bare = await api.serve({});
        const get = (p: string, init?: RequestInit) => fetch(`${bare.url}${p}`, init).then(async (r) => ({ status: r.status, json: await r.json() }));
        expect((await get("/healthz")).status).toBe(200);
        const ready = (await get("/readyz")) as { status: number; json: any };
        expect(ready.status).toBe(503);
        expect(ready.json.problems).toEqual(expect.arrayContaining([expect.stringMatching(/INSTAGRAM_PGBOUNCER_HOSTS is not set/)]));
        const post: { status: number; json: any } = await get("/api/v1/users", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: "x", password: "long enough" }) });
        expect(post.status).toBe(503);
        expect(post.json.missing.length).toBeGreaterThan(0);
        bare.server.close();
    });

    test("uploads: the photo goes to the media store, its row to the owner's shard, its ID to every follower's feed", async () => {
        const [ana, ben, cal] = await signupAll(["ana_p", "ben_p", "cal_p"]);
        await follow(ben, ana);
        await follow(cal, ana);
        const posted = [];
        for (let i = 0; i < 3; i++) {
            const r = await upload(ana, JPEG, "image/jpeg", `sunset ${i}`);
            expect(r.status, JSON.stringify(r.json)).toBe(201);
            expect(r.json.fannedOutTo).toBe(2);
            posted.push(r.json.media);
        }
        const photo = posted[0];
        expect(photo).toMatchObject({ userId: ana.id, username: "ana_p", contentType: "image/jpeg", bytes: JPEG.length, caption: "sunset 0", likes: 0, comments: 0, viewerHasLiked: false });
        expect(photo.url).toMatch(/^https:\/\/media\.example\.com\/photos\/\d+\/[a-z0-9-]+\.jpg$/);
        const file = path.join(api.mediaDir, photo.url.replace("https://media.example.com/", ""));
        expect(fs.readFileSync(file)).toEqual(JPEG);
        const logical = decodeId(BigInt(photo.id)).logicalShard;
        expect(logical).toBe(decodeId(BigInt(ana.id)).logicalShard);
        expect(api.shards[physicalShardOf(logical, LOGICAL, 2)].sql(`SELECT caption FROM shard${String(logical).padStart(4, "0")}.media WHERE id = ${photo.id}`, "instagram")).toBe("sunset 0");
        for (const reader of [ben, cal, ana]) {
            const feed = await feedOf(reader, "?limit=10");
            expect(feed.status).toBe(200);
            expect(feed.json.media.map((m: { id: string }) => m.id)).toEqual(posted.map((m) => m.id).reverse());
        }
        expect((await call("GET", `/api/v1/media/${photo.id}`, undefined, {}, ana)).json).toEqual(photo);
        const { viewerHasLiked: _mine, ...anonymous } = photo;
        expect((await call("GET", `/api/v1/media/${photo.id}`)).json).toEqual(anonymous);
    });

    test("an upload reaches every follower's feed once, past the size of one fan-out script call (2,500 followers)", async () => {
        const [fay] = await signupAll(["fay_f"]);
        const logical = decodeId(BigInt(fay.id)).logicalShard;
        const schema = `shard${String(logical).padStart(4, "0")}`;
        // Followers as rows (followers live on the followee's shard); their own rows do not matter to a fan-out.
        api.shards[physicalShardOf(logical, LOGICAL, 2)].sql(`INSERT INTO ${schema}.followers (followee_id, follower_id) SELECT ${fay.id}, g FROM generate_series(900000001, 900002500) g`, "instagram");
        const r = await upload(fay, JPEG, "image/jpeg", "to many");
        expect(r.status, JSON.stringify(r.json)).toBe(201);
        expect(r.json.fannedOutTo).toBe(2500);
        const redis = (...args: string[]) => spawnSync("redis-cli", ["-h", api.redis, "-a", API_PASSWORDS.redis, "--no-auth-warning", ...args], { encoding: "utf8" }).stdout.trim();
        for (const follower of [900000001, 900001000, 900001001, 900002000, 900002001, 900002500]) expect(redis("LRANGE", `feed:${follower}`, "0", "-1")).toBe(r.json.media.id);
        expect(redis("LRANGE", `feed:${fay.id}`, "0", "-1")).toBe(r.json.media.id);
        expect(redis("EXISTS", "feed:900002501")).toBe("0");
    });

    test("feeds hydrate from memcached; after a flush they come from the shards and fill the cache again", async () => {
        const [dan, eli] = await signupAll(["dan_c", "eli_c"]);
        await follow(eli, dan);
        for (let i = 0; i < 5; i++) await upload(dan, PNG, "image/png", `p${i}`);
        // The client gives a memcached node 200 ms; under the whole suite's load one may answer later, which
        // is a miss (and a refill), so the warm reads allow a second try.
        const allCached = async () => { const r = await feedOf(eli); return r.json.cacheHits === 5 ? r : undefined; };
        const warm = await eventually(allCached, 5000, "a feed read served wholly from memcached");
        for (const node of api.memcached) await tcpExchange(node.split(":")[0], 11211, "flush_all\r\n", /OK\r\n/);
        const cold = await feedOf(eli);
        expect(cold.json.cacheHits).toBe(0);
        expect(cold.json.media).toEqual(warm.json.media);
        expect((await eventually(allCached, 5000, "the cache refilled")).json.media).toEqual(warm.json.media);
    });

    test.each([
        ["a non-photo content type", "text/plain", Buffer.from("hello"), 415, /upload a photo as image\/jpeg, image\/png, image\/webp/],
        ["bytes that are not the declared type", "image/jpeg", PNG, 400, /the body is not a image\/jpeg image/],
        ["a photo over the upload limit", "image/jpeg", Buffer.concat([JPEG, Buffer.alloc(70 * 1024)]), 413, /limited to 65536 bytes/],
    ])("an upload with %s is refused", async (_what, type, body, status, message) => {
        const owner = await api.signup(`up_${status}_${type.length}`);
        const r = await upload(owner, body as Buffer, type as string, "");
        expect(r.status).toBe(status);
        expect(r.json.message).toMatch(message as RegExp);
    });

    test("a caption over 2200 characters, an upload in another's name, or a feed limit over 100 is refused", async () => {
        const owner = await api.signup("caption_x");
        expect((await upload(owner, JPEG, "image/jpeg", "x".repeat(2201))).status).toBe(400);
        expect((await api.upload(owner, "123456789012", JPEG, "image/jpeg", "")).status).toBe(403);
        expect((await feedOf(owner, "?limit=500")).status).toBe(400);
    });

    test("captions and comments with a control character or half a surrogate pair are refused (a NUL was a 500); CRLF is stored as LF", async () => {
        const owner = await api.signup("text_x");
        const errors = vi.spyOn(console, "error");
        // (A query string cannot carry half a surrogate pair: its bytes decode as U+FFFD. JSON can, below.)
        for (const [bad, named] of [["a\u0000b", "U+0000"], ["a\u001b[31mred", "U+001B"], ["a\u0085b", "U+0085"]]) {
            const r = await upload(owner, JPEG, "image/jpeg", bad);
            expect(r.status, JSON.stringify(r.json)).toBe(400);
            expect(r.json.message).toBe(`caption holds the control character ${named}`);
        }
        const photo = (await upload(owner, JPEG, "image/jpeg", "two\r\nlines\tand a tab")).json.media;
        expect(photo.caption).toBe("two\nlines\tand a tab");
        for (const bad of ["a\u0000b", "a\u0007b", "\u009b", "x\udfff"]) {
            // JSON.stringify writes a lone surrogate as \udfff, which JSON.parse turns back into one.
            const r = await call("POST", `/api/v1/media/${photo.id}/comments`, { text: bad }, {}, owner);
            expect(r.status, JSON.stringify(r.json)).toBe(400);
            expect(r.json.message).toMatch(bad.startsWith("x") ? /^text holds half of a UTF-16 surrogate pair/ : /^text holds the control character U\+00(00|07|9B)$/);
        }
        const comment = await call("POST", `/api/v1/media/${photo.id}/comments`, { text: "fine\r\nsecond line" }, {}, owner);
        expect(comment.status).toBe(201);
        expect(comment.json.text).toBe("fine\nsecond line");
        expect(errors).not.toHaveBeenCalled();
        errors.mockRestore();
    });

    test("an upload whose row PostgreSQL refuses leaves no bytes behind in the media store", async () => {
        const owner = await api.signup("orphan_x");
        const logical = decodeId(BigInt(owner.id)).logicalShard;
        const shard = api.shards[physicalShardOf(logical, LOGICAL, 2)];
        const table = `shard${String(logical).padStart(4, "0")}.media`;
        const files = () => (fs.existsSync(path.join(api.mediaDir, "photos", owner.id)) ? fs.readdirSync(path.join(api.mediaDir, "photos", owner.id)) : []);
        // A constraint the INSERT breaks (SQLSTATE 23514): the statement fails after the bytes were stored.
        shard.sql(`ALTER TABLE ${table} ADD CONSTRAINT refuse_for_test CHECK (caption <> 'refused')`, "instagram");
        const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
        try {
            expect((await upload(owner, JPEG, "image/jpeg", "refused")).status).toBe(500);
            expect(files()).toEqual([]);
            expect((await upload(owner, JPEG, "image/jpeg", "kept")).status).toBe(201);
            expect(files()).toHaveLength(1);
        } finally {
            errors.mockRestore();
            shard.sql(`ALTER TABLE ${table} DROP CONSTRAINT refuse_for_test`, "instagram");
        }
    });

    test("a memcached node lost: feeds are still served, from the shards", async () => {
        const [fox, gus] = await signupAll(["fox_m", "gus_m"]);
        await follow(gus, fox);
        for (let i = 0; i < 4; i++) await upload(fox, JPEG, "image/jpeg", `m${i}`);
        await api.daemons.stopOne("memcached-1");
        const feed = await feedOf(gus);
        expect(feed.status).toBe(200);
        expect(feed.json.media).toHaveLength(4);
    });

    test("Redis stopped: uploads and feeds answer 503 naming it, /readyz says so; it recovers by itself when Redis is back", async () => {
        const hal = await api.signup("hal_r");
        await api.daemons.stopOne("redis");
        const up = await upload(hal, JPEG, "image/jpeg", "");
        expect(up.status).toBe(503);
        expect(up.json).toMatchObject({ error: "unavailable", dependency: "redis" });
        expect((await feedOf(hal)).json).toMatchObject({ dependency: "redis" });
        expect((await call("POST", "/api/v1/sessions", { username: "hal_r", password: "wrong password" })).json).toMatchObject({ dependency: "redis" });
        const ready = await call("GET", "/readyz");
        expect(ready.status).toBe(503);
        expect(ready.json.problems.join("\n")).toMatch(/redis:/);
        expect((await call("GET", `/api/v1/users/${hal.id}`)).status).toBe(200);
        await api.startRedis();
        // This Redis keeps nothing on disk: the sessions went with it, so Hal logs in again.
        const again = await eventually(() => api.login("hal_r").catch(() => undefined), 15_000, "logins to work again");
        expect((await upload(again, JPEG, "image/jpeg", "back")).status).toBe(201);
        expect((await call("GET", "/readyz")).status).toBe(200);
    }, 60_000);
});
