/**
 * `npm run local` end to end: the whole stack on loopback (127.0.12.0/24), two physical shards with
 * standbys, the search tier's PostGIS primary and standby, Redis with a replica, two memcached nodes, two
 * gearmand and two app hosts (running the job workers) behind the TLS edge. Through the edge
 * over HTTPS: users, follows, uploads and feeds, each row on the shard the map names, photos served from the
 * media store, Munin counting uploads. Then faults under bounded load (gearmand among them), each counted, each recovered from
 * without help, and no acknowledged upload lost; then down and up again with the data still there.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { contextFor } from "../../local/session";
import { hostDir, LocalContext, mediaDir, pidFile } from "../../local/context";
import { HSTS_HEADER } from "../../core/tls-policy";
import { hostNamed, hostsOf } from "../../local/plan";
import { readState, writeState } from "../../local/state";
import { envOf, promote } from "../../local/stack";
import { edgeCertificate } from "../../local/services/edge";
import { pgbouncerService } from "../../local/services/pgbouncer";
import { postgresService, psqlAsPostgres, shardPaths } from "../../local/services/postgres";
import { redisService } from "../../local/services/redis";
import { gearmandService } from "../../local/services/gearman";
import { pidAlive, runningPid } from "../../local/processes";
import { loadLoop, LoadResult, pngBytes, SiteClient } from "../../local/site-client";
import { decodeId } from "../../core/ids";
import { physicalShardOf, shardSchema } from "../../core/shard-map";
import { eventually, tcpExchange } from "../harness/daemons";
import { runLocal } from "../harness/local-cli";
import { apnsTestKey, ApnsStandIn, startApnsStandIn } from "../../tools/push-stand-ins";
import { PUSH_COALESCE_MS } from "../../core/push";

const NET = "127.0.12";
const LOGICAL = 16;
let dir: string;
let ctx: LocalContext;
let site: SiteClient;
const users: string[] = [];
const acknowledged: string[] = [];
const faults: { fault: string; requests: number; failed: number; failures: Record<string, number>; outageS?: number }[] = [];

const local = (...args: string[]) => runLocal(dir, args);

const APNS = { teamId: "TEAM123456", keyId: "KEY1234567", topic: "com.example.photos" };
let apns: ApnsStandIn;
const UP = ["up", "--stack", "dev", "--net", NET, "--workers", "2",
    "--set", "instagram:physicalShards=2", "--set", `instagram:logicalShards=${LOGICAL}`, "--set", "instagram:shardStandby=true",
    "--set", "instagram:redisReplica=true", "--set", "instagram:memcachedNodes=2", "--set", "instagram:appServers=2", "--set", "instagram:gearmanServers=2",
    "--set", "instagram:searchServers=2"];

beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("the local stack runs daemons as their own users and binds ports 80/443: run as root (as CI does)");
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-stack-"));
    fs.chmodSync(dir, 0o755);
    // iOS push to a loopback stand-in of APNs that checks each request as Apple does (the key's file, like a .p8).
    const key = apnsTestKey();
    fs.writeFileSync(path.join(dir, "AuthKey.p8"), key.privateKey, { mode: 0o600 });
    apns = await startApnsStandIn({ address: `${NET}.218`, ...APNS, publicKey: key.publicKey });
    const push = ["--set", `instagram:apnsTeamId=${APNS.teamId}`, "--set", `instagram:apnsKeyId=${APNS.keyId}`, "--set", `instagram:apnsTopic=${APNS.topic}`,
        "--set", `instagram:apnsKey=@${path.join(dir, "AuthKey.p8")}`, "--apns-endpoint", apns.url, "--push-ca", apns.caFile];
    const r = await local(...UP, ...push);
    if (r.status !== 0) throw new Error(`local up failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    ctx = contextFor(dir, readState(dir)!, () => undefined);
    site = new SiteClient(`${NET}.1`, edgeCertificate(ctx), "dev.example.com");
}, 180_000);

afterAll(async () => {
    site?.close();
    await apns?.close();
    if (dir) {
        const r = await local("down");
        if (r.status !== 0) console.error(r.stdout, r.stderr);
        if (faults.length) console.log(`faults under load:\n${faults.map((f) => `  ${f.fault}: ${f.failed} of ${f.requests} failed ${JSON.stringify(f.failures)}, over ${f.outageS ?? 0} s`).join("\n")}`);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}, 120_000);

/** Run the load for `seconds`, calling `fault` after `after` ms; keep the acknowledged uploads. */
async function underLoad(name: string, fault: () => Promise<void>, o: { seconds?: number; after?: number } = {}): Promise<LoadResult> {
    const load = loadLoop(site, users, { seconds: o.seconds ?? 5, concurrency: 4, uploadShare: 0.3 });
    await new Promise((resolve) => setTimeout(resolve, o.after ?? 1000));
    await fault();
    const result = await load;
    acknowledged.push(...result.acknowledged);
    const outageS = result.lastFailureMs === undefined ? undefined : (result.lastFailureMs - result.firstFailureMs!) / 1000;
    faults.push({ fault: name, requests: result.requests, failed: result.failed, failures: result.failures, outageS });
    return result;
}

/** Seconds between the first and the last failed request of a load run (0 when none failed). */
const outage = (r: LoadResult) => (r.lastFailureMs === undefined ? 0 : (r.lastFailureMs - r.firstFailureMs!) / 1000);

/** The site answers again (a feed read and an upload) within 20 s. */
async function recovers(): Promise<void> {
    await eventually(async () => {
        const feed = await site.feed(users[0]).catch(() => undefined);
        const upload = await site.upload(users[1], pngBytes(1e6 + acknowledged.length)).catch(() => undefined);
        if (upload?.status === 201) acknowledged.push(upload.json().media.id);
        return feed?.status === 200 && upload?.status === 201 ? true : undefined;
    }, 20_000, "the site to serve feeds and uploads again");
}

describe("npm run local", () => {
    test("up prints progress per host and daemon, the site URL and a health summary; a second up changes nothing", async () => {
        const again = await local("up");
        expect(again.status, again.stderr).toBe(0);
        expect(again.stdout).toContain("local: already running (stack dev); nothing was changed.");
        expect(again.stdout).toContain(`site:  https://${NET}.1/`);
        expect(again.stdout).toMatch(/health: all \d+ daemons on 16 hosts healthy/);
        const status = await local("status");
        expect(status.status).toBe(0);
        expect(status.stdout).toMatch(/ok {3}shard-0-standby +127\.0\.12\.81 +postgres +standby, streaming/);
        expect(status.stdout).toMatch(/ok {3}redis-replica +127\.0\.12\.211 +redis +replica, link up/);
        expect(status.stdout).toMatch(/ok {3}search-primary +127\.0\.12\.208 +postgres +primary/);
        expect(status.stdout).toMatch(/ok {3}search-standby +127\.0\.12\.209 +postgres +standby, streaming/);
        expect(status.stdout).toMatch(/ok {3}search-primary +127\.0\.12\.208 +pgbouncer +listening on 127\.0\.12\.208:6432/);
    });

    test("users, follows, uploads and feeds through the edge over HTTPS; rows on the shards the map names", async () => {
        for (let i = 0; i < 8; i++) users.push(await site.createUser(`local_user_${i}`));
        for (const follower of users.slice(1)) await site.follow(follower, users[0]);
        const photo = pngBytes(42);
        const up = await site.upload(users[0], photo, "first");
        expect(up.status).toBe(201);
        const media = up.json().media;
        acknowledged.push(media.id);
        // The followers' fan-out is a job for the app hosts' job workers (the dev stack has no worker hosts).
        expect(up.json()).toMatchObject({ fanOut: "queued", fannedOutTo: null });
        for (const follower of users.slice(1)) {
            await eventually(async () => ((await site.feed(follower)).json().media.some((m: { id: string }) => m.id === media.id) ? true : undefined), 10_000, `the photo on ${follower}'s feed`);
        }

        for (const id of users) {
            const logical = decodeId(BigInt(id)).logicalShard;
            const physical = physicalShardOf(logical, LOGICAL, 2);
            for (const primary of hostsOf(ctx.plan, "shard-primary")) {
                const paths = shardPaths(ctx, primary);
                if (primary.shard!.physicalShard === physical) {
                    expect(psqlAsPostgres(paths, `SELECT count(*) FROM ${shardSchema(logical)}.users WHERE id = ${id}`), `user ${id} on ${primary.name}`).toBe("1");
                } else {
                    expect(psqlAsPostgres(paths, `SELECT count(*) FROM pg_namespace WHERE nspname = '${shardSchema(logical)}'`), `${shardSchema(logical)} on ${primary.name}`).toBe("0");
                }
            }
        }
        // The photo is in the media store and served by the CDN's stand-in under the media URL.
        expect(media.url).toMatch(new RegExp(`^https://${NET.replace(/\./g, "\\.")}\\.1/media/`));
        const served = await site.request("GET", new URL(media.url).pathname);
        expect(served.status).toBe(200);
        expect(served.body.equals(photo)).toBe(true);
        expect(fs.readFileSync(path.join(mediaDir(ctx), new URL(media.url).pathname.replace(/^\/media\//, ""))).equals(photo)).toBe(true);
    });

    test("the edge: HSTS and no nginx version, the HTTP redirect to the site's name, only photos served (one Cache-Control, nosniff), TLS 1.2+ with AEAD suites, and the client's own address", async () => {
        const edge = `${NET}.1`;
        const ca = fs.readFileSync(edgeCertificate(ctx));
        const get = (port: number, urlPath: string, headers: Record<string, string> = {}) => new Promise<{ status: number; rawHeaders: string[]; headers: Record<string, unknown> }>((resolve, reject) => {
            const options = { host: edge, port, path: urlPath, headers, timeout: 10_000 };
            const req = port === 443 ? https.get({ ...options, ca, servername: "dev.example.com" }) : http.get(options);
            req.on("response", (res) => { res.resume(); res.on("end", () => resolve({ status: res.statusCode!, rawHeaders: res.rawHeaders, headers: res.headers })); });
            req.on("error", reject);
        });
        const count = (raw: string[], name: string) => raw.filter((h, i) => i % 2 === 0 && h.toLowerCase() === name).length;

        const probe = `/readyz?probe=${Date.now()}`;
        const ready = await get(443, probe, { "X-Forwarded-For": "203.0.113.9" });
        expect(ready.headers["strict-transport-security"]).toBe(HSTS_HEADER);
        expect(ready.headers.server).toBe("nginx");
        // The app host logged the client's own address: a forged X-Forwarded-For is replaced at the edge.
        const logged = hostsOf(ctx.plan, "app").map((h) => fs.readFileSync(hostDir(ctx, h, "nginx", "access.log"), "utf8")).join("").split("\n").find((l) => l.includes(probe));
        expect(logged, probe).toBeDefined();
        expect(logged!.split(" ")[0]).toMatch(/^127\./);

        const redirect = await get(80, "/some/page?x=1", { Host: "evil.example" });
        expect(redirect.status).toBe(301);
        expect(redirect.headers.location).toBe("https://dev.example.com/some/page?x=1");

        const photo = (await site.feed(users[0])).json().media[0];
        const served = await get(443, new URL(photo.url).pathname);
        expect(served.status).toBe(200);
        expect(count(served.rawHeaders, "cache-control")).toBe(1);
        expect(served.headers).toMatchObject({ "cache-control": "public, max-age=31536000, immutable", "x-content-type-options": "nosniff", "strict-transport-security": HSTS_HEADER });
        expect(count(served.rawHeaders, "expires")).toBe(0);
        // A file the media store is still writing is not served, nor anything that is not a photo.
        const stored = path.join(mediaDir(ctx), new URL(photo.url).pathname.replace(/^\/media\//, ""));
        fs.writeFileSync(`${stored}.4242.tmp`, "half a photo");
        expect((await get(443, `${new URL(photo.url).pathname}.4242.tmp`)).status).toBe(404);
        fs.rmSync(`${stored}.4242.tmp`);

        const handshake = (...args: string[]) => spawnSync("openssl", ["s_client", "-connect", `${edge}:443`, "-servername", "dev.example.com", ...args], { input: "", encoding: "utf8", timeout: 15_000 });
        expect(handshake("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256").status).toBe(0);
        // The client side allows what the server must refuse (SECLEVEL=0), so a failure is the server's.
        for (const refused of [["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA"], ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA256"], ["-tls1_2", "-cipher", "AES128-GCM-SHA256"]]) {
            expect(handshake(...refused).status, refused.join(" ")).not.toBe(0);
        }
    });

    test("a follow sends exactly one push notification, from the app hosts' job workers to the APNs stand-in", async () => {
        const [star, fan] = [await site.createUser("push_star"), await site.createUser("push_fan")];
        const token = "ab".repeat(32);
        const registered = await site.requestAs(star, "POST", "/api/v1/devices", { platform: "ios", token });
        expect(registered.status, registered.body.toString()).toBe(201);
        await site.follow(fan, star);
        await eventually(() => (apns.delivered().some((r) => r.token === token) ? true : undefined), 15_000, "the follow's notification at the stand-in");
        await new Promise((resolve) => setTimeout(resolve, PUSH_COALESCE_MS + 2000));
        const got = apns.delivered().filter((r) => r.token === token);
        expect(got).toHaveLength(1);
        expect(got[0].payload).toMatchObject({ aps: { alert: { body: "push_fan started following you." } }, kind: "follow" });
        expect(got[0].headers["apns-topic"]).toBe(APNS.topic);
    });

    test("munin-node on the app hosts reports the uploads to the Munin master's address", async () => {
        const munin = hostsOf(ctx.plan, "munin")[0].address;
        let answers: string[] = [];
        const total = await eventually(async () => {
            answers = [];
            for (const app of hostsOf(ctx.plan, "app")) {
                answers.push(await tcpExchange(app.address, 4949, "fetch instagram_uploads\nquit\n", /(?!)/, { localAddress: munin, timeoutMs: 5000 }));
            }
            const sum = answers.reduce((n, out) => n + Number(/uploads\.value (\d+)/.exec(out)?.[1] ?? NaN), 0);
            return sum >= acknowledged.length ? sum : undefined;
        }, 10_000, "Munin's upload counters to reach the uploads made").catch((e: Error) => { throw new Error(`${e.message}; munin-node answered: ${JSON.stringify(answers)}`); });
        expect(total).toBe(acknowledged.length);
    });

    test("geo-search: a photo with a location is found within 5 s, through the primary's pgbouncer; the standby holds it too; deleted, it is gone within 5 s", async () => {
        const owner = await site.createUser("geo_owner");
        const at = { latitude: 37.8199, longitude: -122.4783 };
        const t0 = Date.now();
        const up = await site.upload(owner, pngBytes(7), "bridge", at);
        expect(up.status).toBe(201);
        const id: string = up.json().media.id;
        expect(up.json()).toMatchObject({ search: "queued", media: { location: at } });
        const found = async () => (await site.search({ lat: at.latitude, lng: at.longitude, distance: 200 })).json().media.map((m: { id: string }) => m.id) as string[];
        await eventually(async () => ((await found()).includes(id) ? true : undefined), 5_000, "the photo in the search");
        const foundMs = Date.now() - t0;
        const standby = shardPaths(ctx, hostNamed(ctx.plan, "search-standby")!);
        await eventually(() => (psqlAsPostgres(standby, `SELECT count(*) FROM media_locations WHERE media_id = ${id}`, "search") === "1" ? true : undefined), 5_000, "the entry on the search standby");
        const bad = await site.search({ lat: 91, lng: 0 });
        expect(bad.status).toBe(400);
        expect(bad.body.toString()).toContain("lat");
        const t1 = Date.now();
        expect((await site.deletePhoto(owner, id)).status).toBe(200);
        await eventually(async () => ((await found()).includes(id) ? undefined : true), 5_000, "the photo gone from the search");
        console.log(`one machine: located upload searchable after ${foundMs} ms; deleted photo gone after ${Date.now() - t1} ms`);
    });

    test("npm run local -- search reindex, under a search load: every search answered, lost entries back, stale ones gone", async () => {
        const owner = await site.createUser("geo_reindex");
        const at = { latitude: -33.8568, longitude: 151.2153 };
        const ids: string[] = [];
        for (let i = 0; i < 12; i++) ids.push((await site.upload(owner, pngBytes(100 + i), `opera ${i}`, { latitude: at.latitude + i * 1e-4, longitude: at.longitude })).json().media.id);
        acknowledged.push(...ids);
        const primary = shardPaths(ctx, hostNamed(ctx.plan, "search-primary")!);
        const indexed = () => Number(psqlAsPostgres(primary, `SELECT count(*) FROM media_locations WHERE media_id IN (${ids.join(",")})`, "search"));
        await eventually(() => (indexed() === ids.length ? true : undefined), 10_000, "the photos indexed");
        // The index misses four photos (lost writes) and holds an entry whose photo is gone (a missed delete).
        psqlAsPostgres(primary, `DELETE FROM media_locations WHERE media_id IN (${ids.slice(0, 4).join(",")})`, "search");
        psqlAsPostgres(primary, `INSERT INTO media_locations (media_id, user_id, location, taken_at) VALUES (1, 1, ST_SetSRID(ST_MakePoint(${at.longitude}, ${at.latitude}), 4326)::geography, now() - interval '1 day')`, "search");
        let searches = 0;
        const failed: string[] = [];
        let stop = false;
        const load = (async () => {
            while (!stop) {
                const r = await site.search({ lat: at.latitude, lng: at.longitude, distance: 1000, count: 50 }).catch((e: Error) => ({ status: 0, body: Buffer.from(e.message) }));
                searches++;
                if (r.status !== 200) failed.push(`${r.status} ${r.body}`);
            }
        })();
        const r = await local("search", "reindex");
        stop = true;
        await load;
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/reindex: done in [\d.]+ s: \d+ photos written from 16 logical shards, 1 stale entries removed/);
        expect(searches).toBeGreaterThan(0);
        expect(failed).toEqual([]);
        expect(indexed()).toBe(ids.length);
        expect(psqlAsPostgres(primary, "SELECT count(*) FROM media_locations WHERE media_id = 1", "search")).toBe("0");
    });

    test("the search primary stopped: searches are read from the standby; both stopped: 503 for search only; back, the upload made meanwhile is found", async () => {
        const [primary, standby] = [hostNamed(ctx.plan, "search-primary")!, hostNamed(ctx.plan, "search-standby")!];
        const owner = await site.createUser("geo_outage");
        const before = (await site.upload(owner, pngBytes(70), "before the outage", { latitude: 10, longitude: 10 })).json().media.id as string;
        const near = async (lat: number) => site.search({ lat, lng: 10, distance: 100 });
        await eventually(async () => ((await near(10)).json().media.some((m: { id: string }) => m.id === before) ? true : undefined), 5_000, "the photo in the search");
        acknowledged.push(before);
        await postgresService.stop(ctx, primary);
        let during: string | undefined;
        try {
            const fromStandby = await near(10);
            expect(fromStandby.status).toBe(200);
            expect(fromStandby.json().media.map((m: { id: string }) => m.id)).toContain(before);
            const ready = await site.request("GET", "/readyz");
            expect(ready.status).toBe(200);
            expect(ready.json().search).toMatch(/^standby only \(writes wait\): primary /);
            await postgresService.stop(ctx, standby);
            const r = await near(10);
            expect(r.status).toBe(503);
            expect(r.json().dependency).toBe("search");
            const up = await site.upload(users[0], pngBytes(77), "while search is down", { latitude: 20, longitude: 10 });
            expect(up.status).toBe(201);
            during = up.json().media.id;
            acknowledged.push(during!);
            expect((await site.feed(users[0])).status).toBe(200);
            expect((await site.request("GET", "/readyz")).json().search).toMatch(/^down: /);
        } finally {
            const env = envOf(ctx, readState(dir)!);
            await postgresService.start(ctx, primary, env);
            await postgresService.start(ctx, standby, env);
        }
        // The index job waited for the primary (RetryJob) and wrote the entry once it was back.
        await eventually(async () => ((await near(20)).json().media?.some((m: { id: string }) => m.id === during) ? true : undefined), 30_000, "the upload made during the outage in the search");
    });

    test("HUP of an app host's server under load: every request answered", async () => {
        const app = hostNamed(ctx.plan, "app-0")!;
        const master = runningPid(pidFile(ctx, app, "instagram-app"))!;
        const result = await underLoad("HUP app-0", async () => { process.kill(master, "SIGHUP"); });
        expect(result.requests).toBeGreaterThan(20);
        expect(result.failed).toBe(0);
    });

    test("kill -9 of a worker under load: replaced; at most the requests it was serving fail", async () => {
        const app = hostNamed(ctx.plan, "app-1")!;
        const master = runningPid(pidFile(ctx, app, "instagram-app"))!;
        const workers = () => spawnSync("pgrep", ["-P", String(master)], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean).map(Number);
        const victim = workers()[0];
        const result = await underLoad("kill -9 worker on app-1", async () => { process.kill(victim, "SIGKILL"); });
        expect(result.failed).toBeLessThanOrEqual(4);
        await eventually(() => (workers().length === 2 && !workers().includes(victim) ? true : undefined), 10_000, "a replacement worker");
    });

    test("restart of a shard's pgbouncer under load: a bounded burst of 503s, then it serves again by itself", async () => {
        const host = hostNamed(ctx.plan, "shard-1-primary")!;
        const env = envOf(ctx, readState(dir)!);
        const result = await underLoad("restart pgbouncer on shard-1-primary", async () => {
            await pgbouncerService.stop(ctx, host);
            await new Promise((resolve) => setTimeout(resolve, 500));
            await pgbouncerService.start(ctx, host, env);
        });
        // Only requests to that shard fail, and only while pgbouncer is down (0.5 s plus its start).
        expect(outage(result)).toBeLessThan(3);
        await recovers();
    });

    test("Redis stopped and started under load: uploads and feeds fail while it is down, then recover by themselves", async () => {
        const host = hostNamed(ctx.plan, "redis-primary")!;
        const env = envOf(ctx, readState(dir)!);
        const result = await underLoad("stop/start Redis primary", async () => {
            await redisService.stop(ctx, host);
            await new Promise((resolve) => setTimeout(resolve, 1000));
            await redisService.start(ctx, host, env);
        }, { seconds: 6 });
        expect(result.failed).toBeGreaterThan(0);
        expect(Object.keys(result.failures)).toEqual(["503"]);
        // Down for 1 s plus the restart; ioredis reconnects within a second or two.
        expect(outage(result)).toBeLessThan(5);
        await recovers();
    });

    test("gearmand stopped, one and then both, under load: no failed request; uploads fan out through the other or inline, and every follower's feed holds each photo once", async () => {
        const [first, second] = hostsOf(ctx.plan, "gearman");
        const env = envOf(ctx, readState(dir)!);
        const photos: string[] = [];
        const result = await underLoad("gearmand stopped (one, then both)", async () => {
            await gearmandService.stop(ctx, first);
            for (let i = 0; i < 4; i++) photos.push((await site.upload(users[0], pngBytes(9000 + i), "one queue down")).json().media.id);
            await gearmandService.stop(ctx, second);
            for (let i = 0; i < 4; i++) {
                const r = await site.upload(users[0], pngBytes(9100 + i), "no queue");
                expect(r.json().fanOut).toBe("inline");
                photos.push(r.json().media.id);
            }
            await Promise.all([gearmandService.start(ctx, first, env), gearmandService.start(ctx, second, env)]);
        }, { seconds: 4 });
        expect(result.failed).toBe(0);
        acknowledged.push(...photos);
        // The whole feed list from Redis: under this load a follower's feed gets more than a page (100) of newer photos.
        const password = fs.readFileSync(path.join(dir, "secrets", "redis-auth"), "utf8").trim();
        const feedList = (user: string) => spawnSync("redis-cli", ["-h", hostsOf(ctx.plan, "redis-primary")[0].address, "-a", password, "--no-auth-warning", "LRANGE", `feed:${user}`, "0", "-1"], { encoding: "utf8" }).stdout.split("\n");
        for (const follower of users.slice(1)) {
            const copies = await eventually(() => {
                const ids = feedList(follower);
                return photos.every((p) => ids.includes(p)) ? photos.map((p) => ids.filter((id) => id === p).length) : undefined;
            }, 15_000, `every photo on ${follower}'s feed`);
            expect(copies.every((n) => n === 1), `copies on ${follower}'s feed: ${copies}`).toBe(true);
        }
    });

    test("a shard's primary stopped and its standby promoted under load: the directory names the standby, and the shard serves again through it", async () => {
        const primary = hostNamed(ctx.plan, "shard-0-primary")!;
        const result = await underLoad("shard-0 primary stopped, standby promoted", async () => {
            await postgresService.stop(ctx, primary);
            await new Promise((resolve) => setTimeout(resolve, 1000));
            writeState(dir, await promote(ctx, readState(dir)!, 0));
        }, { seconds: 7 });
        // Requests to shard 0 fail from the stop until pgbouncer points at the promoted standby.
        expect(Object.keys(result.failures)).toEqual(["503"]);
        expect(outage(result)).toBeLessThan(6);
        await recovers();
        const status = await local("status");
        expect(status.stdout).toMatch(/ok {3}shard-0-primary +127\.0\.12\.80 +postgres +retired \(its standby was promoted\)/);
        expect(status.stdout).toMatch(/ok {3}shard-0-standby +127\.0\.12\.81 +postgres +primary/);
        const shards = await local("shards", "status");
        expect(shards.stdout).toMatch(/physical 0 {2}127\.0\.12\.81:6432 /);
        // The app routes by the directory: with the old primary's pgbouncer gone too, shard 0 still serves.
        await pgbouncerService.stop(ctx, primary);
        const onShard0 = users.find((u) => physicalShardOf(decodeId(BigInt(u)).logicalShard, LOGICAL, 2) === 0)!;
        await eventually(async () => ((await site.upload(onShard0, pngBytes(7e6))).status === 201 ? true : undefined), 10_000, "an upload to a user on shard 0");
        await recovers();
        await pgbouncerService.start(ctx, primary, envOf(ctx, readState(dir)!));
    });

    test("no acknowledged upload was lost: every one is readable", async () => {
        expect(acknowledged.length).toBeGreaterThan(50);
        const missing: string[] = [];
        for (const id of acknowledged) {
            const r = await site.request("GET", `/api/v1/media/${id}`);
            if (r.status !== 200) missing.push(`${id}: ${r.status}`);
        }
        expect(missing).toEqual([]);
    });

    test("down stops every process cleanly and keeps the data; up finds the same users and photos", async () => {
        const pids = fs.readdirSync(path.join(dir, "run"), { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile() && e.name.endsWith(".pid"))
            .map((e) => runningPid(path.join(e.parentPath, e.name)))
            .filter((p): p is number => p !== undefined);
        expect(pids.length).toBeGreaterThan(20);
        const down = await local("down");
        expect(down.status, down.stderr).toBe(0);
        expect(down.stdout).toMatch(/shard-1-primary +postgres +stopped cleanly/);
        expect(down.stdout).toMatch(/redis-primary +redis +saved and stopped/);
        for (const pid of pids) expect(pidAlive(pid), `pid ${pid} after down`).toBe(false);
        const again = await local("up");
        expect(again.status, again.stdout + again.stderr).toBe(0);
        expect(again.stdout).toMatch(/health: all \d+ daemons on 16 hosts healthy/);
        const before = site;
        site = new SiteClient(`${NET}.1`, edgeCertificate(ctx), "dev.example.com");
        site.adoptSessions(before);
        before.close();
        expect((await site.request("GET", `/api/v1/users/${users[3]}`)).json().username).toBe("local_user_3");
        const sample = acknowledged.filter((_, i) => i % 10 === 0);
        for (const id of sample) expect((await site.request("GET", `/api/v1/media/${id}`)).status, id).toBe(200);
        expect((await site.feed(users[2])).status).toBe(200);
    });
});
