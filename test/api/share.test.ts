/**
 * Sharing an upload to other networks: the API on the real data tier with a real gearmand and a real
 * `instagram-app work`, and an HTTPS stand-in on loopback for the destinations that checks each request as a
 * receiving service would (POST, JSON with the photo's fields, an Idempotency-Key) and answers as scripted:
 * at once, after two 503s, always 500, never, or 400. Delivered once; retried with back-off and jitter;
 * dead-lettered after the last attempt (or at once for an answer that will not change); the upload never
 * waits for any of it.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { AddressInfo } from "net";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventually } from "../harness/daemons";
import { gearmand } from "../harness/gearmand";
import { API_PASSWORDS, ApiStack } from "../harness/api-stack";
import { DEAD_LETTERS_KEY, DeadLetter } from "../../app/jobs/share-job";

const NET = "127.0.39";
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from("a photo to share")]);
const certDir = fs.mkdtempSync(path.join(os.tmpdir(), "share-tls-"));
interface Received { destination: string; at: number; key: string; body: Record<string, unknown> }
const received: Received[] = [];
let standIn: https.Server;
let port = 0;
let api: ApiStack;
let redis: Redis;
let work: ChildProcess;
const failures = new Map<string, number>();

/** How each destination answers: the stand-in's script. */
function answer(destination: string): number | "hang" {
    switch (destination) {
        case "ok": return 200;
        case "flaky": {
            const n = (failures.get("flaky") ?? 0) + 1;
            failures.set("flaky", n);
            return n <= 2 ? 503 : 200;
        }
        case "down": return 500;
        case "slow": return "hang";
        default: return 400;
    }
}

beforeAll(async () => {
    const r = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
        "-subj", `/CN=${NET}.30`, "-addext", `subjectAltName=IP:${NET}.30`, "-keyout", path.join(certDir, "key.pem"), "-out", path.join(certDir, "cert.pem")], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
    standIn = https.createServer({ key: fs.readFileSync(path.join(certDir, "key.pem")), cert: fs.readFileSync(path.join(certDir, "cert.pem")) }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (d: Buffer) => chunks.push(d));
        req.on("end", () => {
            const destination = (req.url ?? "").replace(/^\/share\//, "");
            // What a receiving service checks before it accepts anything.
            let body: Record<string, unknown> = {};
            try { body = JSON.parse(Buffer.concat(chunks).toString("utf8")); } catch { /* checked below */ }
            const key = String(req.headers["idempotency-key"] ?? "");
            if (req.method !== "POST" || req.headers["content-type"] !== "application/json" || !/^share:\d+:[a-z]+$/.test(key) || typeof body.id !== "string" || typeof body.url !== "string") {
                res.writeHead(422).end();
                return;
            }
            received.push({ destination, at: Date.now(), key, body });
            const status = answer(destination);
            if (status === "hang") return; // never answers
            res.writeHead(status, { "Content-Type": "application/json" }).end("{}");
        });
    });
    await new Promise<void>((resolve) => standIn.listen(0, `${NET}.30`, resolve));
    port = (standIn.address() as AddressInfo).port;
    const url = (name: string) => `https://${NET}.30:${port}/share/${name}`;
    const destinations = [
        { name: "ok", url: url("ok") },
        { name: "flaky", url: url("flaky"), attempts: 4 },
        { name: "down", url: url("down"), attempts: 3 },
        { name: "slow", url: url("slow"), timeoutSeconds: 1, attempts: 2 },
        { name: "rejects", url: url("rejects") },
    ];
    api = new ApiStack(NET, { INSTAGRAM_GEARMAN_SERVERS: `${NET}.21:4730`, INSTAGRAM_SHARE_DESTINATIONS: JSON.stringify(destinations) });
    await gearmand(api.daemons, `${NET}.21`).start();
    await api.start();
    redis = new Redis({ host: api.redis, port: 6379, password: API_PASSWORDS.redis });
    work = spawn(process.execPath, ["--import", "tsx", path.resolve(__dirname, "../../app/server/cli.ts"), "work", "-w", "2", "--timeout", "120"], {
        env: { ...process.env, ...api.env(), NODE_EXTRA_CA_CERTS: path.join(certDir, "cert.pem") }, stdio: "ignore", detached: true,
    });
}, 120_000);

afterAll(async () => {
    try { process.kill(-work.pid!, "SIGKILL"); } catch { /* gone */ }
    redis?.disconnect();
    standIn?.close();
    await api?.stop();
    fs.rmSync(certDir, { recursive: true, force: true });
});

const deadLetters = async (): Promise<DeadLetter[]> => (await redis.lrange(DEAD_LETTERS_KEY, 0, -1)).map((t) => JSON.parse(t));

describe("sharing an upload", () => {
    test("an upload shared to five destinations answers at once; each is delivered, retried or dead-lettered as its answers call for", async () => {
        const owner = await api.signup("sharer");
        const t0 = Date.now();
        const up = await fetch(`${api.base}/api/v1/users/${owner.id}/media?caption=shared&share=ok,flaky,down,slow,rejects`, {
            method: "POST", headers: { "Content-Type": "image/jpeg", Authorization: `Bearer ${owner.token}` }, body: JPEG,
        });
        const json = (await up.json()) as { shares: unknown; media: { id: string } };
        expect(up.status, JSON.stringify(json)).toBe(201);
        expect(Date.now() - t0).toBeLessThan(1000);
        expect(json.shares).toEqual(["ok", "flaky", "down", "slow", "rejects"].map((destination) => ({ destination, queued: true })));
        const id = json.media.id as string;

        // Delivered once, with the photo's fields and the job's idempotency key.
        await eventually(() => (received.some((x) => x.destination === "ok") ? true : undefined), 15_000, "the ok destination to get it");
        const ok = received.filter((x) => x.destination === "ok");
        expect(ok).toHaveLength(1);
        expect(ok[0].key).toBe(`share:${id}:ok`);
        expect(ok[0].body).toMatchObject({ id, userId: owner.id, username: "sharer", caption: "shared" });

        // Two 503s, then delivered: three attempts, the pauses between them 0.5-1 s and then 1-2 s (back-off with jitter).
        await eventually(() => (received.filter((x) => x.destination === "flaky").length === 3 ? true : undefined), 20_000, "flaky's third attempt");
        const flaky = received.filter((x) => x.destination === "flaky").map((x) => x.at);
        expect(flaky[1] - flaky[0]).toBeGreaterThanOrEqual(450);
        expect(flaky[1] - flaky[0]).toBeLessThan(1500);
        expect(flaky[2] - flaky[1]).toBeGreaterThanOrEqual(950);
        expect(flaky[2] - flaky[1]).toBeLessThan(2500);

        // Dead letters: down after its 3 attempts, slow after 2 timeouts, rejects after one answer (400 will not change).
        const letters = await eventually(async () => {
            const all = (await deadLetters()).filter((l) => l.mediaId === id);
            return all.length === 3 ? all : undefined;
        }, 30_000, "three dead letters");
        const byDestination = Object.fromEntries(letters.map((l) => [l.destination, l]));
        expect(byDestination.down).toMatchObject({ attempts: 3, lastError: "HTTP 500" });
        expect(byDestination.slow).toMatchObject({ attempts: 2, lastError: "no answer within 1 s" });
        expect(byDestination.rejects).toMatchObject({ attempts: 1, lastError: "HTTP 400" });
        expect(received.filter((x) => x.destination === "down")).toHaveLength(3);
        expect(received.filter((x) => x.destination === "flaky")).toHaveLength(3);
        expect(byDestination.ok).toBeUndefined();
        expect(byDestination.flaky).toBeUndefined();
    }, 60_000);

    test("a destination the site does not have is refused before anything is written", async () => {
        const owner = await api.signup("sharer_bad");
        const up = await fetch(`${api.base}/api/v1/users/${owner.id}/media?share=ok,myspace`, {
            method: "POST", headers: { "Content-Type": "image/jpeg", Authorization: `Bearer ${owner.token}` }, body: JPEG,
        });
        expect(up.status).toBe(400);
        expect(((await up.json()) as { message: string }).message).toMatch(/share: myspace is not a destination of this site \(ok, flaky, down, slow, rejects\)/);
        expect((await api.call("GET", `/api/v1/users/${owner.id}/feed`, undefined, {}, owner)).json.media).toEqual([]);
    });
});
