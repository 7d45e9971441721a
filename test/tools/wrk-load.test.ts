/** The benchmark's load generator: wrk sends the requests given, whole, cycling through them; failures and its own CPU are counted. */
import * as http from "http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runWrk } from "../../tools/wrk-load";
import { requireCommand } from "../harness/daemons";

const HOST = "127.0.34.1";
let server: http.Server;
let port = 0;
const seen = { ok: 0, missing: 0, posts: [] as { host?: string; type?: string; body: string }[] };

beforeAll(async () => {
    requireCommand("wrk", "wrk");
    server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (d: Buffer) => chunks.push(d));
        req.on("end", () => {
            if (req.url === "/ok") seen.ok++;
            if (req.url === "/missing") seen.missing++;
            if (req.method === "POST") seen.posts.push({ host: req.headers.host, type: req.headers["content-type"], body: Buffer.concat(chunks).toString() });
            res.writeHead(req.url === "/missing" ? 404 : 200, { "Content-Length": "2" });
            res.end("ok");
        });
    });
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    port = (server.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("runWrk", () => {
    test("cycles through the requests as given; answers of 400 or more are failures; latency and its own CPU are reported", async () => {
        const r = await runWrk({
            origin: `http://${HOST}:${port}`, host: "site.example", connections: 4, threads: 2, seconds: 2,
            requests: [
                { method: "GET", path: "/ok" },
                { method: "POST", path: "/echo", headers: { "Content-Type": "application/json" }, body: Buffer.from('{"n":1}') },
                { method: "GET", path: "/missing" },
            ],
        });
        expect(r.requests).toBeGreaterThan(100);
        // wrk counts what it sent in the run; a few in flight at the end may be answered after it stopped counting.
        expect(Math.abs(seen.ok + seen.missing + seen.posts.length - r.requests)).toBeLessThanOrEqual(8);
        expect(Math.abs(r.failed - seen.missing)).toBeLessThanOrEqual(4);
        expect(seen.ok).toBeGreaterThan(30);
        expect(seen.posts.length).toBeGreaterThan(30);
        expect(seen.posts.every((p) => p.host === "site.example" && p.type === "application/json" && p.body === '{"n":1}')).toBe(true);
        expect(r.seconds).toBeGreaterThan(1.5);
        expect(r.p50Ms).toBeGreaterThan(0);
        expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
        expect(r.generatorUs).toBeGreaterThan(0);
    });

    test("refuses an origin that is not on loopback, and an empty list", async () => {
        await expect(runWrk({ origin: "https://10.0.0.1", host: "x", connections: 1, seconds: 1, requests: [{ method: "GET", path: "/" }] })).rejects.toThrow(/not a loopback origin/);
        await expect(runWrk({ origin: `http://${HOST}:${port}`, host: "x", connections: 1, seconds: 1, requests: [] })).rejects.toThrow(/no requests/);
    });
});
