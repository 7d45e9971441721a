/**
 * `npm run bench:push`: how fast one job worker process sends notifications, against the loopback stand-ins
 * of APNs and FCM (tools/push-stand-ins.ts, which verify every JWT and header as Apple and Google do) run in a
 * child process so they do not share this process's event loop. Rows, side by side in one run:
 *   - APNs over one HTTP/2 connection with one provider token, one notification at a time (a push job sends
 *     to a user's few devices in turn) and with BENCH_STREAMS concurrent streams (what one connection allows);
 *   - the anchor: a new TLS connection per notification (what a sender without a long-lived connection pays);
 *   - the anchor: a provider token signed per request (what Apple forbids; its cost, measured, is why);
 *   - FCM HTTP v1 over keep-alive HTTP/1.1 with a cached OAuth2 token.
 * BENCH_NOTIFICATIONS (default 2000) per row. Loopback only, nothing leaves the machine.
 */
import { fork, ChildProcess } from "child_process";
import * as fs from "fs";
import { createPublicKey } from "crypto";
import { ApnsSender } from "../app/jobs/push/apns";
import { FcmSender } from "../app/jobs/push/fcm";
import { Notification, PushSender, SendResult } from "../app/jobs/push/send-result";
import { parseServiceAccount, ServiceAccount } from "../core/push";
import { apnsTestKey, startApnsStandIn, startFcmStandIn, testServiceAccount } from "./push-stand-ins";
import { percentile } from "../local/site-client";
import { table } from "./bench-stack";

const NET = "127.0.44";
const settings = { teamId: "TEAM123456", keyId: "KEY1234567", topic: "com.example.photos", environment: "sandbox" as const };
const COUNT = Number(process.env.BENCH_NOTIFICATIONS ?? 2000);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 100);

interface StandIns { apnsUrl: string; fcmUrl: string; tokenUri: string; ca: string }

/** The child: both stand-ins, told the public keys by the parent; answers with where they listen. */
async function standInProcess(): Promise<void> {
    process.once("message", async (m: { apnsPublic: string; fcmPublic: string; clientEmail: string }) => {
        const apns = await startApnsStandIn({ address: `${NET}.1`, ...settings, publicKey: createPublicKey(m.apnsPublic) });
        const fcm = await startFcmStandIn({ address: `${NET}.2`, projectId: "bench-project", clientEmail: m.clientEmail, publicKey: createPublicKey(m.fcmPublic) });
        process.send!({ apnsUrl: apns.url, fcmUrl: fcm.url, tokenUri: fcm.tokenUri, ca: fs.readFileSync(apns.caFile, "utf8") + fs.readFileSync(fcm.caFile, "utf8") } satisfies StandIns);
    });
}

const note: Notification = { body: "alice and 4 others liked your photo.", collapseId: "like:1234567890", data: { kind: "like", mediaId: "1234567890" } };
const iosToken = (i: number) => i.toString(16).padStart(64, "0");
const fcmToken = (i: number) => `bench-${String(i).padStart(60, "0")}`;

interface Row { name: string; seconds: number; latencies: number[]; failed: number; connections: string; tokens: string }

async function measure(name: string, sender: PushSender, token: (i: number) => string, concurrency: number, counters: () => { connections: string; tokens: string }): Promise<Row> {
    const latencies: number[] = [];
    let failed = 0;
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < COUNT) {
            const i = next++;
            const t0 = process.hrtime.bigint();
            const r: SendResult = await sender.send(token(i), note);
            latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
            if (!r.ok) failed++;
        }
    }));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { name, seconds, latencies, failed, ...counters() };
}

/** The anchor sender: a new HTTP/2 (TLS) connection for every notification, closed after it. */
class ConnectionPerSend implements PushSender {
    opened = 0;
    constructor(private readonly o: ConstructorParameters<typeof ApnsSender>[0]) {}
    async send(token: string, n: Notification): Promise<SendResult> {
        const s = new ApnsSender(this.o);
        this.opened++;
        try {
            return await s.send(token, n);
        } finally {
            s.close();
        }
    }
    close(): void {}
}

async function main(): Promise<void> {
    if (!Number.isInteger(COUNT) || COUNT < 10 || COUNT > 1_000_000 || !Number.isInteger(STREAMS) || STREAMS < 1 || STREAMS > 1000) {
        console.error("bench:push: BENCH_NOTIFICATIONS must be 10 to 1000000 and BENCH_STREAMS 1 to 1000");
        process.exit(2);
    }
    const key = apnsTestKey();
    const sa = testServiceAccount("bench-project");
    const child: ChildProcess = fork(__filename, [], { env: { ...process.env, BENCH_PUSH_ROLE: "stand-in" }, execArgv: process.execArgv });
    try {
        const where = await new Promise<StandIns>((resolve, reject) => {
            child.once("message", (m) => resolve(m as StandIns));
            child.once("exit", (code) => reject(new Error(`the stand-ins' process exited (${code})`)));
            child.send({ apnsPublic: key.publicKey.export({ type: "spki", format: "pem" }), fcmPublic: sa.publicKey.export({ type: "spki", format: "pem" }), clientEmail: sa.clientEmail });
        });
        const apnsOptions = { settings, key: key.privateKey, endpoint: where.apnsUrl, ca: where.ca };
        const rows: Row[] = [];
        // Warm-up: the TLS handshake and JIT, not measured.
        const warm = new ApnsSender(apnsOptions);
        await Promise.all(Array.from({ length: 50 }, (_, i) => warm.send(iosToken(i), note)));
        warm.close();

        const sequential = new ApnsSender(apnsOptions);
        rows.push(await measure("APNs, one HTTP/2 connection, 1 at a time", sequential, iosToken, 1, () => ({ connections: String(sequential.connectionsOpened), tokens: String(sequential.tokensSigned) })));
        sequential.close();
        const concurrent = new ApnsSender(apnsOptions);
        rows.push(await measure(`APNs, one HTTP/2 connection, ${STREAMS} streams`, concurrent, iosToken, STREAMS, () => ({ connections: String(concurrent.connectionsOpened), tokens: String(concurrent.tokensSigned) })));
        concurrent.close();
        const perSend = new ConnectionPerSend(apnsOptions);
        rows.push(await measure("anchor: APNs, a new connection per notification", perSend, iosToken, 1, () => ({ connections: String(perSend.opened), tokens: String(perSend.opened) })));
        // A token per request: the same sender, its token forgotten before every send.
        const signing = new ApnsSender(apnsOptions);
        const forgetful: PushSender = { send: (t, n) => { (signing as unknown as { token?: unknown }).token = undefined; return signing.send(t, n); }, close: () => signing.close() };
        rows.push(await measure("anchor: APNs, a provider token signed per request", forgetful, iosToken, 1, () => ({ connections: String(signing.connectionsOpened), tokens: String(signing.tokensSigned) })));
        signing.close();
        const fcm = new FcmSender({ projectId: "bench-project", account: parseServiceAccount(sa.json(where.tokenUri)) as ServiceAccount, endpoint: where.fcmUrl, ca: where.ca });
        rows.push(await measure("FCM HTTP v1, keep-alive (4 sockets), 1 at a time", fcm, fcmToken, 1, () => ({ connections: "≤4", tokens: String(fcm.tokensFetched) })));
        fcm.close();

        console.log(`\nbench:push: ${COUNT} notifications per row from this process to loopback stand-ins in another (node ${process.version}; the stand-ins verify each JWT, as Apple does)\n`);
        console.log(table(["sender", "per second", "p50 ms", "p99 ms", "failed", "connections", "tokens signed/fetched"], rows.map((r) => [
            r.name, (COUNT / r.seconds).toFixed(0), percentile(r.latencies, 50).toFixed(2), percentile(r.latencies, 99).toFixed(2), String(r.failed), r.connections, r.tokens,
        ])));
    } finally {
        child.kill();
    }
}

if (process.env.BENCH_PUSH_ROLE === "stand-in") void standInProcess();
else main().catch((e) => { console.error(`bench:push: ${(e as Error).message}`); process.exit(1); });
