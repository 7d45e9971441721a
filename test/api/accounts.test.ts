/**
 * Accounts and sessions against the real data tier (test/harness/api-stack.ts): no route that changes data
 * works without a valid session, a session acts only as its own user, logout, expiry and a password change
 * end sessions, cookie sessions need the CSRF token for writes, and the login limit trips and recovers.
 */
import * as http from "http";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sleep } from "../harness/daemons";
import { Account, API_PASSWORDS, ApiStack, LOGICAL, USER_PASSWORD } from "../harness/api-stack";
import { decodeId } from "../../core/ids";
import { physicalShardOf, shardSchema } from "../../core/shard-map";
import { SESSION_COOKIE } from "../../app/api/auth";
import { hashPassword, verifyPassword } from "../../app/api/passwords";

// Alice logs in many times over these tests; the limit itself is tried on an instance of its own.
const api = new ApiStack("127.0.11", { INSTAGRAM_SIGNUP_LIMIT_PER_USERNAME: "1000/60", INSTAGRAM_LOGIN_THROTTLE: "1000/60" });
const call = api.call.bind(api);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from("a photo")]);
let alice: Account;
let bob: Account;
let redis: Redis;

/** psql on the shard that holds `id`'s row, in its logical shard's schema (written as S in the query). */
function onHomeShard(id: string, query: string): string {
    const logical = decodeId(BigInt(id)).logicalShard;
    return api.shards[physicalShardOf(logical, LOGICAL, 2)].sql(query.replaceAll("S.", `${shardSchema(logical)}.`), "instagram");
}

beforeAll(async () => {
    await api.start();
    [alice, bob] = await Promise.all([api.signup("alice"), api.signup("bob")]);
    redis = new Redis({ host: api.redis, port: 6379, password: API_PASSWORDS.redis, lazyConnect: true });
    await redis.connect();
}, 120_000);
afterAll(async () => {
    redis?.disconnect();
    await api.stop();
});

/** Every route that changes data, as [method, path, body, content type]. */
function writes(victim: Account, other: Account, mediaId: string, commentId: string): [string, string, unknown, string?][] {
    return [
        ["PUT", `/api/v1/users/${victim.id}/following/${other.id}`, undefined],
        ["DELETE", `/api/v1/users/${victim.id}/following/${other.id}`, undefined],
        ["POST", `/api/v1/users/${victim.id}/media?caption=posted-by-mallory`, JPEG, "image/jpeg"],
        ["PUT", `/api/v1/users/${victim.id}/password`, { currentPassword: USER_PASSWORD, newPassword: "mallory's password" }],
        ["PUT", `/api/v1/media/${mediaId}/like`, undefined],
        ["DELETE", `/api/v1/media/${mediaId}/like`, undefined],
        ["POST", `/api/v1/media/${mediaId}/comments`, { text: "spam" }],
        ["DELETE", `/api/v1/media/${mediaId}/comments/${commentId}`, undefined],
        ["DELETE", "/api/v1/sessions/current", undefined],
    ];
}

async function send(method: string, path: string, body: unknown, type: string | undefined, headers: Record<string, string>) {
    const res = await fetch(`${api.base}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { "Content-Type": type ?? "application/json" }), ...headers },
        body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json().catch(() => undefined), headers: res.headers };
}

/** A login from a chosen loopback address (the app counts failures by the client's address). */
function loginFrom(url: string, localAddress: string, username: string, password: string): Promise<{ status: number; retryAfter?: string; message?: string }> {
    return new Promise((resolve, reject) => {
        const body = JSON.stringify({ username, password });
        const req = http.request(`${url}/api/v1/sessions`, { method: "POST", localAddress, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } }, (res) => {
            let text = "";
            res.on("data", (d) => (text += d));
            res.on("end", () => resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"] as string | undefined, message: (JSON.parse(text) as { message?: string }).message }));
        });
        req.on("error", reject);
        req.end(body);
    });
}

describe("accounts and sessions", () => {
    test("the password is stored as a self-describing scrypt hash, never as itself", async () => {
        const stored = onHomeShard(alice.id, `SELECT password_hash FROM S.users WHERE id = ${alice.id}`);
        expect(stored).not.toContain(USER_PASSWORD);
        expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
        expect((await verifyPassword(USER_PASSWORD, stored)).ok).toBe(true);
        expect((await verifyPassword("not the password", stored)).ok).toBe(false);
    });

    test("a hash at an older, cheaper cost still logs in and is replaced by one at today's cost", async () => {
        const carol = await api.signup("carol");
        const cheap = await hashPassword(USER_PASSWORD, { N: 16384, r: 8, p: 1 });
        onHomeShard(carol.id, `UPDATE S.users SET password_hash = '${cheap}' WHERE id = ${carol.id}`);
        await api.login("carol");
        expect(onHomeShard(carol.id, `SELECT password_hash FROM S.users WHERE id = ${carol.id}`)).toMatch(/^scrypt\$32768\$8\$1\$/);
        await api.login("carol");
    });

    test("a common password is refused as a new password, yet an account that already has one still logs in (the list applies to new passwords only)", async () => {
        const fran = await api.signup("fran");
        const change = await call("PUT", `/api/v1/users/${fran.id}/password`, { currentPassword: USER_PASSWORD, newPassword: "qwertyuiop" }, {}, fran);
        expect(change.status).toBe(400);
        expect(change.json.message).toBe("newPassword is on a list of common or breached passwords; choose another");
        expect((await call("PUT", `/api/v1/users/${fran.id}/password`, { currentPassword: USER_PASSWORD, newPassword: "FRAN" + "fran".repeat(2) }, {}, fran)).status).toBe(200);
        // A password set before the list existed.
        onHomeShard(fran.id, `UPDATE S.users SET password_hash = '${await hashPassword("qwertyuiop")}' WHERE id = ${fran.id}`);
        await api.login("fran", "qwertyuiop");
    });

    test("login answers {token, user}; a wrong password and an unknown username get the same 401", async () => {
        const r = await call("POST", "/api/v1/sessions", { username: "alice", password: USER_PASSWORD });
        expect(r.status).toBe(201);
        expect(r.json.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(r.json.user).toEqual({ id: alice.id, username: "alice", createdAt: expect.any(String) });
        const wrong = await call("POST", "/api/v1/sessions", { username: "alice", password: "not my password" });
        const unknown = await call("POST", "/api/v1/sessions", { username: "nobody_here", password: "not my password" });
        expect([wrong.status, unknown.status]).toEqual([401, 401]);
        expect(wrong.json).toEqual(unknown.json);
        expect(JSON.stringify(wrong.json)).not.toContain("not my password");
        const long = await call("POST", "/api/v1/sessions", { username: "alice", password: "x".repeat(257) });
        expect(long.status).toBe(400);
        expect(long.json.message).toBe("password is limited to 256 bytes");
        expect((await call("GET", "/api/v1/sessions/current", undefined, {}, alice)).json.user).toMatchObject({ id: alice.id, username: "alice" });
    });

    test("Redis holds only the token's hash, with the session's TTL", async () => {
        const keys = await redis.keys("session:*");
        expect(keys.length).toBeGreaterThan(0);
        for (const key of keys) expect(key).not.toContain(alice.token);
        const dump = JSON.stringify(await Promise.all(keys.map((k) => redis.get(k))));
        expect(dump).not.toContain(alice.token);
        const ttl = Math.max(...(await Promise.all(keys.map((k) => redis.ttl(k)))));
        expect(ttl).toBeGreaterThan(30 * 24 * 3600 - 120);
        expect(ttl).toBeLessThanOrEqual(30 * 24 * 3600);
    });

    test("no route that changes data works without a session, with a made-up one, or as another user", async () => {
        const photo = (await api.upload(bob, bob.id, JPEG, "image/jpeg", "bob's")).json.media;
        const comment = (await call("POST", `/api/v1/media/${photo.id}/comments`, { text: "bob's own comment" }, {}, bob)).json;
        const forged = { Authorization: `Bearer ${"A".repeat(43)}` };
        for (const [method, path, body, type] of writes(bob, alice, photo.id, comment.id)) {
            const anonymous = await send(method, path, body, type, {});
            expect(anonymous.status, `${method} ${path} anonymous`).toBe(401);
            expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
            expect((await send(method, path, body, type, forged)).status, `${method} ${path} forged`).toBe(401);
            expect((await send(method, path, body, type, { Authorization: "Basic YWxpY2U6cGFzcw==" })).status, `${method} ${path} basic`).toBe(401);
        }
        // Alice's valid session, acting as Bob: 403 where the path names a user.
        for (const [method, path, body, type] of writes(bob, alice, photo.id, comment.id).slice(0, 4)) {
            const r = await send(method, path, body, type, { Authorization: `Bearer ${alice.token}` });
            expect(r.status, `${method} ${path} as alice`).toBe(403);
        }
        expect((await call("DELETE", `/api/v1/media/${photo.id}/comments/${comment.id}`, undefined, {}, alice)).status).toBe(403);
        expect(onHomeShard(bob.id, `SELECT count(*) FROM S.media WHERE user_id = ${bob.id}`)).toBe("1");
        expect(onHomeShard(bob.id, "SELECT count(*) FROM S.likes")).toBe("0");
        expect((await call("GET", `/api/v1/users/${bob.id}/followers`)).json.followers).toEqual([]);
        expect((await call("GET", `/api/v1/media/${photo.id}`)).json).toMatchObject({ likes: 0, comments: 1 });
        await api.login("bob");
    });

    test("private reads need the session of their owner: the feed and the activity", async () => {
        for (const path of [`/api/v1/users/${bob.id}/feed`, `/api/v1/users/${bob.id}/activity`]) {
            expect((await call("GET", path)).status).toBe(401);
            expect((await call("GET", path, undefined, {}, alice)).status).toBe(403);
            expect((await call("GET", path, undefined, {}, bob)).status).toBe(200);
        }
    });

    test("logout ends the session: the token no longer works, other sessions do", async () => {
        const first = await api.login("alice");
        const second = await api.login("alice");
        expect((await call("DELETE", "/api/v1/sessions/current", undefined, {}, first)).status).toBe(204);
        expect((await call("GET", "/api/v1/sessions/current", undefined, {}, first)).status).toBe(401);
        expect((await call("PUT", `/api/v1/users/${alice.id}/following/${bob.id}`, undefined, {}, first)).status).toBe(401);
        expect((await call("GET", "/api/v1/sessions/current", undefined, {}, second)).status).toBe(200);
    });

    test("a session expires after its TTL", async () => {
        const shortLived = await api.serveReady({ INSTAGRAM_SESSION_TTL_SECONDS: "2" });
        try {
            const login: any = await fetch(`${shortLived.url}/api/v1/sessions`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: "bob", password: USER_PASSWORD }) }).then((r) => r.json());
            expect(login.expiresInSeconds).toBe(2);
            const current = () => fetch(`${shortLived.url}/api/v1/sessions/current`, { headers: { Authorization: `Bearer ${login.token}` } }).then((r) => r.status);
            expect(await current()).toBe(200);
            await sleep(3000);
            expect(await current()).toBe(401);
        } finally {
            shortLived.server.close();
        }
    });

    test("a password change needs the current password, and ends every other session", async () => {
        const dave = await api.signup("dave");
        const elsewhere = await api.login("dave");
        const wrong = await call("PUT", `/api/v1/users/${dave.id}/password`, { currentPassword: "not it at all", newPassword: "a new password" }, {}, dave);
        expect(wrong.status).toBe(403);
        expect((await call("PUT", `/api/v1/users/${dave.id}/password`, { currentPassword: USER_PASSWORD, newPassword: "short" }, {}, dave)).status).toBe(400);
        const ok = await call("PUT", `/api/v1/users/${dave.id}/password`, { currentPassword: USER_PASSWORD, newPassword: "a new password" }, {}, dave);
        expect(ok.status).toBe(200);
        expect(ok.json).toEqual({ changed: true, otherSessionsEnded: 1 });
        expect((await call("GET", "/api/v1/sessions/current", undefined, {}, elsewhere)).status).toBe(401);
        expect((await call("GET", "/api/v1/sessions/current", undefined, {}, dave)).status).toBe(200);
        expect((await call("POST", "/api/v1/sessions", { username: "dave", password: USER_PASSWORD })).status).toBe(401);
        await api.login("dave", "a new password");
    });

    test("cookie sessions: HttpOnly, Secure, SameSite; writes need the CSRF token; logout clears the cookie", async () => {
        const r = await call("POST", "/api/v1/sessions", { username: "alice", password: USER_PASSWORD, cookie: true });
        expect(r.status).toBe(201);
        expect(r.json.token).toBeUndefined();
        const setCookie = r.headers.get("set-cookie")!;
        expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; Max-Age=\\d+; Path=/; HttpOnly; Secure; SameSite=Lax$`));
        const cookie = setCookie.split(";")[0];
        const csrf = r.json.csrfToken as string;
        expect((await send("GET", "/api/v1/sessions/current", undefined, undefined, { Cookie: cookie })).json).toMatchObject({ user: { id: alice.id }, csrfToken: csrf });
        const followPath = `/api/v1/users/${alice.id}/following/${bob.id}`;
        expect((await send("PUT", followPath, undefined, undefined, { Cookie: cookie })).status).toBe(403);
        expect((await send("PUT", followPath, undefined, undefined, { Cookie: cookie, "X-CSRF-Token": "x".repeat(43) })).status).toBe(403);
        expect((await send("PUT", followPath, undefined, undefined, { Cookie: cookie, "X-CSRF-Token": csrf })).status).toBe(204);
        const out = await send("DELETE", "/api/v1/sessions/current", undefined, undefined, { Cookie: cookie, "X-CSRF-Token": csrf });
        expect(out.status).toBe(204);
        expect(out.headers.get("set-cookie")).toMatch(new RegExp(`^${SESSION_COOKIE}=; Max-Age=0;`));
        expect((await send("GET", "/api/v1/sessions/current", undefined, undefined, { Cookie: cookie })).status).toBe(401);
    });

    test("failed logins slow down the address that makes them, 2^n s after the free ones, while the owner logs in from elsewhere; a success starts afresh", async () => {
        expect((await call("POST", "/api/v1/users", { username: "gina", password: USER_PASSWORD })).status).toBe(201);
        const throttled = await api.serveReady({ INSTAGRAM_LOGIN_THROTTLE: "3/60" });
        try {
            const login = (from: string, password: string) => loginFrom(throttled.url, from, "gina", password);
            const guesser = "127.0.0.2";
            for (let i = 0; i < 3; i++) expect((await login(guesser, "wrong password")).status).toBe(401);
            const slowed = await login(guesser, "wrong password");
            expect(slowed.status).toBe(429);
            expect(slowed.retryAfter).toBe("1");
            expect(slowed.message).toMatch(/too many failed logins for this username from this address/);
            // The owner, elsewhere, is not locked out by the guesser.
            expect((await login("127.0.0.3", USER_PASSWORD)).status).toBe(201);
            await sleep(1100);
            expect((await login(guesser, "wrong password")).status).toBe(401);
            const longer = await login(guesser, "wrong password");
            expect(longer.status).toBe(429);
            expect(longer.retryAfter).toBe("2");
            await sleep(2100);
            // The right password from the guesser's address too: its failures are forgotten.
            expect((await login(guesser, USER_PASSWORD)).status).toBe(201);
            expect((await login(guesser, "wrong password")).status).toBe(401);
        } finally {
            throttled.server.close();
        }
    });

    test("a parallel burst of guesses gets no more than the free failures past the check", async () => {
        const throttled = await api.serveReady({ INSTAGRAM_LOGIN_THROTTLE: "3/60" });
        try {
            const statuses = await Promise.all(Array.from({ length: 20 }, () => loginFrom(throttled.url, "127.0.0.6", "alice", "wrong password").then((r) => r.status)));
            expect(statuses.filter((st) => st === 401)).toHaveLength(3);
            expect(statuses.filter((st) => st === 429)).toHaveLength(17);
        } finally {
            throttled.server.close();
        }
    });

    test("an address failing at many usernames (a spray) is refused for any username, other addresses are not", async () => {
        const capped = await api.serveReady({ INSTAGRAM_LOGIN_FAILURES_PER_ADDRESS: "4/60" });
        try {
            const sprayer = "127.0.0.4";
            for (const name of ["alice", "bob", "gina", "nobody_x"]) expect((await loginFrom(capped.url, sprayer, name, "Summer2026!")).status).toBe(401);
            const refused = await loginFrom(capped.url, sprayer, "alice", USER_PASSWORD);
            expect(refused.status).toBe(429);
            expect(refused.message).toMatch(/too many failed logins from this address/);
            expect(Number(refused.retryAfter)).toBeGreaterThan(50);
            expect((await loginFrom(capped.url, "127.0.0.5", "alice", USER_PASSWORD)).status).toBe(201);
        } finally {
            capped.server.close();
        }
    });

    test("the per-address limit counts signups and logins together", async () => {
        const strict = await api.serveReady({ INSTAGRAM_AUTH_LIMIT_PER_ADDRESS: "3/60" });
        try {
            const post = (p: string, body: object) => fetch(`${strict.url}${p}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.status);
            expect(await post("/api/v1/users", { username: "frank", password: USER_PASSWORD })).toBe(201);
            expect(await post("/api/v1/sessions", { username: "frank", password: USER_PASSWORD })).toBe(201);
            expect(await post("/api/v1/sessions", { username: "alice", password: USER_PASSWORD })).toBe(201);
            expect(await post("/api/v1/users", { username: "grace", password: USER_PASSWORD })).toBe(429);
            expect(await post("/api/v1/sessions", { username: "frank", password: USER_PASSWORD })).toBe(429);
        } finally {
            strict.server.close();
        }
        const keys = await redis.keys("ratelimit:*");
        expect(keys.join(" ")).not.toMatch(/frank|alice|127\.0\./);
    });

    test("a bad auth setting makes the server not ready, naming it", async () => {
        const bad = await api.serve({ ...api.env(), INSTAGRAM_PASSWORD_SCRYPT: "N=1000,r=8,p=1", INSTAGRAM_LOGIN_THROTTLE: "lots" });
        try {
            const ready: any = await fetch(`${bad.url}/readyz`).then((r) => r.json());
            expect(ready.problems.join("\n")).toMatch(/INSTAGRAM_PASSWORD_SCRYPT: N must be a power of two/);
            expect(ready.problems.join("\n")).toMatch(/INSTAGRAM_LOGIN_THROTTLE: expected <attempts/);
        } finally {
            bad.server.close();
        }
    });
});
