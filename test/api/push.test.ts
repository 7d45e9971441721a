/**
 * Push notifications end to end: the API on the real data tier, a real gearmand, a real `instagram-app work`
 * and loopback stand-ins for APNs (HTTP/2, JWT checked against the key's public half) and FCM (with its OAuth2
 * token endpoint). A follow sends exactly one notification per device; a burst of likes sends one; a token
 * the service calls dead is removed from the shard; a 429 is retried; the counters reach the stats file.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventually } from "../harness/daemons";
import { gearmand } from "../harness/gearmand";
import { Account, ApiStack } from "../harness/api-stack";
import { apnsTestKey, ApnsStandIn, FcmStandIn, startApnsStandIn, startFcmStandIn, testServiceAccount } from "../../tools/push-stand-ins";
import { PUSH_COALESCE_MS } from "../../core/push";

const NET = "127.0.43";
const settings = { teamId: "TEAM123456", keyId: "KEY1234567", topic: "com.example.photos" };
const ios = (n: number) => n.toString(16).padStart(64, "0");
const android = (n: number) => `fcm-${String(n).padStart(60, "0")}`;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "push-test-"));
const statsFile = path.join(scratch, "work.stats");
let api: ApiStack;
let apns: ApnsStandIn;
let fcm: FcmStandIn;
let work: ChildProcess;

beforeAll(async () => {
    const key = apnsTestKey();
    apns = await startApnsStandIn({ address: `${NET}.30`, ...settings, publicKey: key.publicKey });
    const sa = testServiceAccount("photos-test");
    fcm = await startFcmStandIn({ address: `${NET}.31`, projectId: "photos-test", clientEmail: sa.clientEmail, publicKey: sa.publicKey });
    const ca = path.join(scratch, "ca.pem");
    fs.writeFileSync(ca, fs.readFileSync(apns.caFile, "utf8") + fs.readFileSync(fcm.caFile, "utf8"));
    api = new ApiStack(NET, {
        INSTAGRAM_GEARMAN_SERVERS: `${NET}.21:4730`,
        INSTAGRAM_APNS_TEAM_ID: settings.teamId, INSTAGRAM_APNS_KEY_ID: settings.keyId, INSTAGRAM_APNS_TOPIC: settings.topic,
        INSTAGRAM_APNS_ENVIRONMENT: "sandbox", INSTAGRAM_APNS_ENDPOINT: apns.url, INSTAGRAM_APNS_KEY: key.privateKey,
        INSTAGRAM_FCM_PROJECT_ID: "photos-test", INSTAGRAM_FCM_ENDPOINT: fcm.url, INSTAGRAM_FCM_SERVICE_ACCOUNT: sa.json(fcm.tokenUri),
    });
    await gearmand(api.daemons, `${NET}.21`).start();
    await api.start();
    work = spawn(process.execPath, ["--import", "tsx", path.resolve(__dirname, "../../app/server/cli.ts"), "work", "-w", "1", "--timeout", "120", "--stats-file", statsFile], {
        env: { ...process.env, ...api.env(), NODE_EXTRA_CA_CERTS: ca }, stdio: ["ignore", "ignore", "inherit"], detached: true,
    });
}, 120_000);

afterAll(async () => {
    try { process.kill(-work.pid!, "SIGKILL"); } catch { /* gone */ }
    await apns?.close();
    await fcm?.close();
    await api?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
});

const register = (as: Account, platform: string, token: string) => api.call("POST", "/api/v1/devices", { platform, token }, {}, as);
const forToken = (s: ApnsStandIn | FcmStandIn, token: string) => s.delivered().filter((r) => r.token === token);
const settle = () => new Promise((r) => setTimeout(r, PUSH_COALESCE_MS + 1500));

describe("devices", () => {
    test("registration checks the platform and the token's form, and needs a session", async () => {
        const u = await api.signup("devices_owner");
        expect((await api.call("POST", "/api/v1/devices", { platform: "ios", token: ios(1) })).status).toBe(401);
        expect((await register(u, "windows", ios(1))).json).toMatchObject({ error: "invalid_request", message: "platform must be one of ios, android" });
        expect((await register(u, "ios", "ABC")).json.message).toMatch(/APNs device token/);
        expect((await register(u, "android", "short")).json.message).toMatch(/FCM registration token/);
        expect((await api.call("POST", "/api/v1/devices", { platform: "ios", token: ios(1), extra: 1 }, {}, u)).status).toBe(400);
        expect((await register(u, "ios", ios(1))).status).toBe(201);
        expect((await register(u, "ios", ios(1))).status).toBe(200);
        expect((await register(u, "android", android(1))).status).toBe(201);
        const listed = await api.call("GET", "/api/v1/devices", undefined, {}, u);
        expect(listed.json.devices.map((d: { token: string }) => d.token).sort()).toEqual([android(1), ios(1)].sort());
        expect((await api.call("DELETE", `/api/v1/devices/${ios(1)}`, undefined, {}, u)).status).toBe(204);
        expect((await api.call("DELETE", `/api/v1/devices/${ios(1)}`, undefined, {}, u)).status).toBe(404);
    });

    test("a user keeps the newest ten devices", async () => {
        const u = await api.signup("many_devices");
        for (let i = 0; i < 12; i++) expect((await register(u, "ios", ios(1000 + i))).status).toBe(201);
        const listed = (await api.call("GET", "/api/v1/devices", undefined, {}, u)).json.devices as { token: string }[];
        expect(listed.map((d) => d.token).sort()).toEqual(Array.from({ length: 10 }, (_, i) => ios(1002 + i)).sort());
    });

    test("/readyz says push is on for both platforms", async () => {
        const r = await api.call("GET", "/readyz");
        expect(r.status).toBe(200);
        expect(r.json.push).toMatchObject({ apns: "on", fcm: "on", queued: true });
    });
});

describe("notifications", () => {
    test("a follow sends exactly one notification to each of the user's devices", async () => {
        const star = await api.signup("followed_star");
        const fan = await api.signup("a_fan");
        await register(star, "ios", ios(2001));
        await register(star, "android", android(2001));
        expect((await api.call("PUT", `/api/v1/users/${fan.id}/following/${star.id}`, undefined, {}, fan)).status).toBe(204);
        await eventually(() => (forToken(apns, ios(2001)).length > 0 && forToken(fcm, android(2001)).length > 0 ? true : undefined), 15_000, "the follow's notifications");
        await settle();
        expect(forToken(apns, ios(2001))).toHaveLength(1);
        expect(forToken(fcm, android(2001))).toHaveLength(1);
        expect(forToken(apns, ios(2001))[0].payload).toMatchObject({ aps: { alert: { body: "a_fan started following you." } }, kind: "follow" });
        expect(forToken(fcm, android(2001))[0].payload).toMatchObject({ message: { notification: { body: "a_fan started following you." }, data: { kind: "follow" } } });
        // A repeated follow is not a new follower: nothing more.
        expect((await api.call("PUT", `/api/v1/users/${fan.id}/following/${star.id}`, undefined, {}, fan)).status).toBe(204);
        await settle();
        expect(forToken(apns, ios(2001))).toHaveLength(1);
    });

    test("a burst of five likes is one notification that names the newest likers", async () => {
        const owner = await api.signup("liked_owner");
        await register(owner, "ios", ios(3001));
        const photo = await api.upload(owner, owner.id, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from("p")]), "image/jpeg", "liked");
        const likers = await Promise.all(["l1", "l2", "l3", "l4", "l5"].map((n) => api.signup(`liker_${n}`)));
        for (const l of likers) expect((await api.call("PUT", `/api/v1/media/${photo.json.media.id}/like`, undefined, {}, l)).status).toBe(200);
        await eventually(() => (forToken(apns, ios(3001)).length > 0 ? true : undefined), 15_000, "the likes' notification");
        await settle();
        const got = forToken(apns, ios(3001));
        expect(got).toHaveLength(1);
        expect(got[0].payload).toMatchObject({ aps: { alert: { body: "liker_l5, liker_l4 and 3 others liked your photo." } }, kind: "like", mediaId: photo.json.media.id, events: "5" });
        expect(got[0].headers["apns-collapse-id"]).toBe(`like:${photo.json.media.id}`);
    });

    test("a token APNs answers 410 for, or FCM UNREGISTERED, is deleted from the shard; the others get theirs", async () => {
        const u = await api.signup("dead_tokens");
        const fan = await api.signup("dead_tokens_fan");
        apns.behaviour.set(ios(4001), { kind: "fail", status: 410, reason: "Unregistered" });
        fcm.behaviour.set(android(4001), { kind: "fail", status: 404, reason: "UNREGISTERED" });
        for (const [p, t] of [["ios", ios(4001)], ["ios", ios(4002)], ["android", android(4001)]]) await register(u, p, t);
        await api.call("PUT", `/api/v1/users/${fan.id}/following/${u.id}`, undefined, {}, fan);
        const left = await eventually(async () => {
            const devices = (await api.call("GET", "/api/v1/devices", undefined, {}, u)).json.devices as { token: string }[];
            return devices.length === 1 ? devices : undefined;
        }, 15_000, "the dead tokens to be deleted");
        expect(left.map((d) => d.token)).toEqual([ios(4002)]);
        expect(forToken(apns, ios(4002))).toHaveLength(1);
        expect(apns.requests.filter((r) => r.token === ios(4001))).toHaveLength(1);
    });

    test("a 429 is retried after a pause, and delivered once", async () => {
        const u = await api.signup("throttled");
        const fan = await api.signup("throttled_fan");
        apns.behaviour.set(ios(5001), { kind: "fail", status: 429, reason: "TooManyRequests", times: 1 });
        await register(u, "ios", ios(5001));
        await api.call("PUT", `/api/v1/users/${fan.id}/following/${u.id}`, undefined, {}, fan);
        await eventually(() => (forToken(apns, ios(5001)).length > 0 ? true : undefined), 15_000, "the retried notification");
        const tries = apns.requests.filter((r) => r.token === ios(5001));
        expect(tries.map((r) => r.status)).toEqual([429, 200]);
    });

    test("the job workers' stats file counts sent, failed and removed", async () => {
        const stats = await eventually(() => {
            const text = fs.existsSync(statsFile) ? fs.readFileSync(statsFile, "utf8") : "";
            // follow (2 devices), likes (1), dead tokens (1 of 3), 429 (1): 5 sent.
            return /push_tokens_removed 2/.test(text) && /push_sent 5/.test(text) ? text : undefined;
        }, 10_000, "the push counters in the stats file");
        // The two dead tokens and the one 429 that was retried: a notification failed is counted per device, not per try.
        expect(stats).toMatch(/push_failed 2\n/);
        expect(stats).toMatch(/jobs_push_done \d+/);
    });
});
