/**
 * The APNs and FCM senders against loopback stand-ins that check each request as Apple's and Google's
 * services do (tools/push-stand-ins.ts): the provider token is signed once and reused, and refreshed after
 * its age limit; all sends go over one HTTP/2 connection; dead tokens, 429s and other refusals come back as
 * what the push job acts on; FCM's access token is fetched once and again only near its expiry.
 */
import * as fs from "fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ApnsSender, apnsPayload } from "../../app/jobs/push/apns";
import { FcmSender } from "../../app/jobs/push/fcm";
import { Notification } from "../../app/jobs/push/send-result";
import { apnsTestKey, ApnsStandIn, FcmStandIn, startApnsStandIn, startFcmStandIn, testServiceAccount } from "../../tools/push-stand-ins";
import { APNS_MAX_PAYLOAD_BYTES, APNS_TOKEN_REFRESH_SECONDS, FCM_TOKEN_MARGIN_SECONDS, parseServiceAccount, ServiceAccount } from "../../core/push";

const NET = "127.0.42";
const settings = { teamId: "TEAM123456", keyId: "KEY1234567", topic: "com.example.photos", environment: "sandbox" as const };
const note: Notification = { body: "alice liked your photo.", collapseId: "like:1", data: { kind: "like", mediaId: "1" } };
const ios = (n: number) => n.toString(16).padStart(64, "0");
let clock = Date.now();
const now = () => clock;
let apnsKey: ReturnType<typeof apnsTestKey>;
let apns: ApnsStandIn;
let fcm: FcmStandIn;
let account: ServiceAccount;

beforeAll(async () => {
    apnsKey = apnsTestKey();
    apns = await startApnsStandIn({ address: `${NET}.1`, ...settings, publicKey: apnsKey.publicKey, now });
    const sa = testServiceAccount("photos-test");
    fcm = await startFcmStandIn({ address: `${NET}.2`, projectId: "photos-test", clientEmail: sa.clientEmail, publicKey: sa.publicKey, expiresIn: 3600, now });
    account = parseServiceAccount(sa.json(fcm.tokenUri)) as ServiceAccount;
});

afterAll(async () => {
    await apns?.close();
    await fcm?.close();
});

describe("APNs over HTTP/2 with a provider token", () => {
    test("20 notifications: one connection, one provider token, every header and the payload as Apple checks them", async () => {
        const sender = new ApnsSender({ settings, key: apnsKey.privateKey, endpoint: apns.url, now, ca: fs.readFileSync(apns.caFile, "utf8") });
        const before = apns.requests.length;
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => sender.send(ios(i + 1), note)));
        expect(results.every((r) => r.ok)).toBe(true);
        const seen = apns.requests.slice(before);
        expect(seen).toHaveLength(20);
        expect(new Set(seen.map((r) => r.auth)).size).toBe(1);
        expect(sender.tokensSigned).toBe(1);
        expect(sender.connectionsOpened).toBe(1);
        expect(seen[0].headers).toMatchObject({ "apns-topic": settings.topic, "apns-push-type": "alert", "apns-priority": "10", "apns-collapse-id": "like:1" });
        expect(Number(seen[0].headers["apns-expiration"])).toBeGreaterThan(clock / 1000);
        expect(seen[0].payload).toEqual({ aps: { alert: { body: "alice liked your photo." }, sound: "default" }, kind: "like", mediaId: "1" });
        sender.close();
    });

    test("the provider token is reused until its refresh age, then signed again (never per request)", async () => {
        const sender = new ApnsSender({ settings, key: apnsKey.privateKey, endpoint: apns.url, now, ca: fs.readFileSync(apns.caFile, "utf8") });
        const before = apns.requests.length;
        expect((await sender.send(ios(100), note)).ok).toBe(true);
        clock += (APNS_TOKEN_REFRESH_SECONDS - 60) * 1000;
        expect((await sender.send(ios(101), note)).ok).toBe(true);
        expect(sender.tokensSigned).toBe(1);
        clock += 120 * 1000;
        expect((await sender.send(ios(102), note)).ok).toBe(true);
        expect(sender.tokensSigned).toBe(2);
        const auths = apns.requests.slice(before).map((r) => r.auth);
        expect(auths[0]).toBe(auths[1]);
        expect(auths[2]).not.toBe(auths[1]);
        sender.close();
    });

    test("a token Apple calls expired is re-signed once; older than an hour it would be refused", async () => {
        const sender = new ApnsSender({ settings, key: apnsKey.privateKey, endpoint: apns.url, now, ca: fs.readFileSync(apns.caFile, "utf8") });
        expect((await sender.send(ios(200), note)).ok).toBe(true);
        // Suspend the refresh rule by moving the stand-in's clock past the hour: the sender re-signs on 403.
        clock += 3700 * 1000;
        const signed = sender.tokensSigned;
        const r = await sender.send(ios(201), note);
        expect(r.ok).toBe(true);
        expect(sender.tokensSigned).toBe(signed + 1);
        sender.close();
    });

    test("410 and BadDeviceToken mean a dead token; 429 and 5xx a retry; another 400 neither", async () => {
        const sender = new ApnsSender({ settings, key: apnsKey.privateKey, endpoint: apns.url, now, ca: fs.readFileSync(apns.caFile, "utf8") });
        apns.behaviour.set(ios(300), { kind: "fail", status: 410, reason: "Unregistered" });
        apns.behaviour.set(ios(301), { kind: "fail", status: 400, reason: "BadDeviceToken" });
        apns.behaviour.set(ios(302), { kind: "fail", status: 429, reason: "TooManyRequests" });
        apns.behaviour.set(ios(303), { kind: "fail", status: 503, reason: "ServiceUnavailable" });
        apns.behaviour.set(ios(304), { kind: "fail", status: 400, reason: "BadTopic" });
        const [gone, bad, busy, down, other] = await Promise.all([300, 301, 302, 303, 304].map((n) => sender.send(ios(n), note)));
        expect(gone).toMatchObject({ ok: false, status: 410, reason: "Unregistered", unregistered: true, retry: false });
        expect(bad).toMatchObject({ status: 400, reason: "BadDeviceToken", unregistered: true, retry: false });
        expect(busy).toMatchObject({ status: 429, reason: "TooManyRequests", unregistered: false, retry: true });
        expect(down).toMatchObject({ status: 503, retry: true, unregistered: false });
        expect(other).toMatchObject({ status: 400, reason: "BadTopic", retry: false, unregistered: false });
        sender.close();
    });

    test("a body too long for 4 KB is shortened to fit, and the stand-in takes it", async () => {
        const long: Notification = { ...note, body: "é".repeat(5000) };
        expect(Buffer.byteLength(apnsPayload(long))).toBeLessThanOrEqual(APNS_MAX_PAYLOAD_BYTES);
        expect(Buffer.byteLength(apnsPayload(long))).toBeGreaterThan(APNS_MAX_PAYLOAD_BYTES - 64);
        const sender = new ApnsSender({ settings, key: apnsKey.privateKey, endpoint: apns.url, now, ca: fs.readFileSync(apns.caFile, "utf8") });
        expect((await sender.send(ios(400), long)).ok).toBe(true);
        sender.close();
    });

    test("a connection the server ends is replaced by the next send", async () => {
        const sender = new ApnsSender({ settings, key: apnsKey.privateKey, endpoint: apns.url, now, ca: fs.readFileSync(apns.caFile, "utf8") });
        expect((await sender.send(ios(500), note)).ok).toBe(true);
        (sender as unknown as { session: { destroy(): void } }).session.destroy();
        await new Promise((r) => setTimeout(r, 50));
        expect((await sender.send(ios(501), note)).ok).toBe(true);
        expect(sender.connectionsOpened).toBe(2);
        sender.close();
    });
});

describe("FCM HTTP v1 with an OAuth2 access token", () => {
    const android = (n: number) => `fcm-token-${String(n).padStart(40, "x")}`;

    test("the access token is fetched once by the JWT bearer grant, and sends carry it", async () => {
        const sender = new FcmSender({ projectId: "photos-test", account, endpoint: fcm.url, now, ca: fs.readFileSync(fcm.caFile, "utf8") });
        const before = fcm.tokensIssued();
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => sender.send(android(i), note)));
        expect(results.every((r) => r.ok), JSON.stringify(results)).toBe(true);
        expect(fcm.tokensIssued() - before).toBe(1);
        const last = fcm.requests[fcm.requests.length - 1];
        expect(last.payload).toMatchObject({ message: { token: expect.stringMatching(/^fcm-token-/), notification: { body: note.body }, data: note.data, android: { collapse_key: "like:1", priority: "high" } } });
        sender.close();
    });

    test("it is fetched again only within the margin of its expiry", async () => {
        const sender = new FcmSender({ projectId: "photos-test", account, endpoint: fcm.url, now, ca: fs.readFileSync(fcm.caFile, "utf8") });
        await sender.send(android(50), note);
        clock += (3600 - FCM_TOKEN_MARGIN_SECONDS - 60) * 1000;
        await sender.send(android(51), note);
        expect(sender.tokensFetched).toBe(1);
        clock += 120 * 1000;
        expect((await sender.send(android(52), note)).ok).toBe(true);
        expect(sender.tokensFetched).toBe(2);
        sender.close();
    });

    test("UNREGISTERED is a dead token; 429 and 503 are retries", async () => {
        const sender = new FcmSender({ projectId: "photos-test", account, endpoint: fcm.url, now, ca: fs.readFileSync(fcm.caFile, "utf8") });
        fcm.behaviour.set(android(60), { kind: "fail", status: 404, reason: "UNREGISTERED" });
        fcm.behaviour.set(android(61), { kind: "fail", status: 429, reason: "QUOTA_EXCEEDED" });
        fcm.behaviour.set(android(62), { kind: "fail", status: 503, reason: "UNAVAILABLE" });
        const [gone, busy, down] = await Promise.all([60, 61, 62].map((n) => sender.send(android(n), note)));
        expect(gone).toMatchObject({ ok: false, status: 404, reason: "UNREGISTERED", unregistered: true, retry: false });
        expect(busy).toMatchObject({ status: 429, reason: "QUOTA_EXCEEDED", retry: true, unregistered: false });
        expect(down).toMatchObject({ status: 503, retry: true });
        sender.close();
    });
});
