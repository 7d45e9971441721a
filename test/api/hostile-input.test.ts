/**
 * Hostile input against every route the API serves (app/api/app.ts's ROUTES), on the real data tier: IDs
 * out of every range and encoding, path segments that are not IDs, bodies of every wrong shape and type with
 * control characters, half surrogate pairs and oversized strings, wrong and missing content types, signed in
 * and not. Nothing may answer 500 (a 503 is a dependency this stack does not have: search, the queue), every
 * answer is the API's JSON error shape or the route's own, and no stack trace leaves the server.
 */
import * as http from "http";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { Account, ApiStack } from "../harness/api-stack";
import { ROUTES } from "../../app/api/app";

const api = new ApiStack("127.0.53");
let owner: Account;
let photoId: string;
const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);

beforeAll(async () => {
    await api.start();
    owner = await api.signup("probe_owner");
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from("probe")]);
    photoId = (await api.upload(owner, owner.id, jpeg, "image/jpeg", "probe")).json.media.id;
}, 120_000);
afterAll(async () => {
    errors.mockRestore();
    await api.stop();
});

/** An ID whose timestamp is fine and whose logical shard (8191) this 8-shard stack does not have. */
const SHARDLESS_ID = String((1000n << 23n) | (8191n << 10n));
const SEGMENTS = [
    "0", "-1", "9223372036854775807", "9223372036854775808", "18446744073709551616", SHARDLESS_ID, "1".repeat(5000),
    "%00", "%ZZ", "%", "..%2f..%2fetc", "%2e%2e", "%F0%9F%98%80", "%ED%A0%80", "1e3", "%201", "0x10", "null", "search",
];
const HOSTILE_VALUES: unknown[] = [null, 0, -1, 1e308, true, [], {}, [[["deep"]]], "", " ", "a\u0000b", "\ud800", "\u202e", "x".repeat(20_000)];
const FIELDS = ["username", "password", "text", "platform", "token", "currentPassword", "newPassword", "cookie", "destination", "caption"];
const RAW_BODIES: [string, string][] = [
    ["application/json", "{"], ["application/json", "[]"], ["application/json", "null"], ["application/json", '"a string"'], ["application/json", "1"],
    ["application/json", "[".repeat(5000) + "]".repeat(5000)], ["application/json", JSON.stringify({ __proto__: { admin: true }, constructor: { prototype: {} } })],
    ["text/plain", "username=x"], ["application/x-www-form-urlencoded", "username=x&password=y"], ["multipart/form-data; boundary=x", "--x\r\nbroken"],
    ["image/jpeg", "not a jpeg"], ["image/png", ""], ["application/json; charset=utf-16", "{}"],
];

interface Answer { status: number; body: string; what: string }

function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
    const url = new URL(api.base);
    return new Promise((resolve, reject) => {
        const req = http.request({ host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body === undefined ? {} : { "Content-Length": String(Buffer.byteLength(body)) }) } }, (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (d) => (text += d));
            res.on("end", () => resolve({ status: res.statusCode!, body: text, what: `${method} ${path.slice(0, 120)}${body === undefined ? "" : ` <${headers["Content-Type"]}> ${body.slice(0, 80)}`}` }));
        });
        req.on("error", reject);
        req.end(body);
    });
}

/** A route's path with `segment` for each capture, or undefined for a pattern that is not a plain path. */
function pathOf(pattern: RegExp, segments: (i: number) => string): string | undefined {
    let i = 0;
    const path = pattern.source.replace(/^\^/, "").replace(/\$$/, "").replace(/\(\[\^\/\]\+\)/g, () => segments(i++)).replace(/\\\//g, "/").replace(/\\\./g, ".");
    return /[()[\]*+?|\\^$]/.test(path) ? undefined : path;
}

const problems = (answers: Answer[]) => answers.filter((a) => a.status >= 500 && a.status !== 503 || /\bat .*\.(ts|js):\d+/.test(a.body)).map((a) => `${a.status} ${a.what}: ${a.body.slice(0, 200)}`);

/**
 * Before each route's batch: the owner signed in and the photo there, since a route before it (a logout, a
 * password change, a delete) may have ended or removed them, and a 401 or 404 would hide the handler.
 */
async function fresh(): Promise<void> {
    if ((await api.call("GET", "/api/v1/sessions/current", undefined, {}, owner)).status !== 200) owner = await api.login("probe_owner");
    if ((await api.call("GET", `/api/v1/media/${photoId}`)).status !== 200) {
        const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from("probe")]);
        photoId = (await api.upload(owner, owner.id, jpeg, "image/jpeg", "probe")).json.media.id;
    }
}

/** How many answers came from a handler that got past authentication and found its object (so the probe reached the code). */
const reached = (answers: Answer[]) => answers.filter((a) => ![401, 403, 404, 405].includes(a.status)).length;

describe("hostile input on every route", () => {
    const methodsOf = (method: string) => (method === "GET" ? ["GET", "HEAD"] : [method]);
    const auth = () => ({ Authorization: `Bearer ${owner.token}` });
    const validSegment = (pattern: RegExp) => (i: number) => (i === 0 && /media|devices/.test(pattern.source) && !/users/.test(pattern.source) ? photoId : i === 0 ? owner.id : photoId);

    test("path segments that are not IDs, or IDs out of range: never a 500, signed in or not", async () => {
        const answers: Answer[] = [];
        let tried = 0;
        for (const [method, pattern] of ROUTES) {
            await fresh();
            for (const segment of SEGMENTS) {
                const path = pathOf(pattern, () => segment);
                if (!path || !path.includes(segment)) continue;
                for (const m of methodsOf(method)) {
                    for (const headers of [{}, auth()]) {
                        answers.push(await send(m, path, headers, m === "GET" || m === "HEAD" ? undefined : "{}"));
                        tried++;
                    }
                }
            }
        }
        expect(tried).toBeGreaterThan(500);
        expect(problems(answers)).toEqual([]);
    }, 300_000);

    test("bodies of every wrong shape, type and encoding on every route that takes one: never a 500", async () => {
        const answers: Answer[] = [];
        const writes = ROUTES.filter(([method]) => method !== "GET");
        expect(writes.length).toBeGreaterThan(10);
        // Deletes last, so that the photo and the session the other routes need are there for them.
        for (const [method, pattern] of [...writes.filter(([m]) => m !== "DELETE"), ...writes.filter(([m]) => m === "DELETE")]) {
            await fresh();
            const path = pathOf(pattern, validSegment(pattern));
            if (!path) continue;
            for (const [type, body] of RAW_BODIES) answers.push(await send(method, path, { ...auth(), "Content-Type": type }, body));
            for (const field of FIELDS) {
                for (const value of HOSTILE_VALUES) {
                    answers.push(await send(method, path, { ...auth(), "Content-Type": "application/json" }, JSON.stringify({ [field]: value })));
                }
            }
            // Every field at once, each with a plausible string but a control character.
            answers.push(await send(method, path, { ...auth(), "Content-Type": "application/json" }, JSON.stringify(Object.fromEntries(FIELDS.map((f) => [f, `probe\u0007${f}`])))));
        }
        expect(reached(answers)).toBeGreaterThan(answers.length / 2);
        expect(problems(answers)).toEqual([]);
    }, 300_000);

    test("query strings with hostile values on every GET: never a 500", async () => {
        const answers: Answer[] = [];
        for (const [method, pattern] of ROUTES.filter(([m]) => m === "GET")) {
            await fresh();
            const path = pathOf(pattern, validSegment(pattern));
            if (!path) continue;
            for (const query of ["limit=-1", "limit=1e9", "limit=%00", "before=abc", "before=" + SHARDLESS_ID, "before=-5", "username=%00", "username=" + "a".repeat(5000), "lat=NaN&lng=Infinity", "lat=91&lng=0", "distance=1e99", "order=%ZZ", "cursor=%ED%A0%80", "limit=1&limit=2"]) {
                answers.push(await send(method, `${path}?${query}`, auth()));
            }
        }
        expect(problems(answers)).toEqual([]);
    }, 300_000);
});
