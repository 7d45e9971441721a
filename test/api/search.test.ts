/**
 * Geo-search: photos with a location, indexed on a real PostGIS (the search tier's SQL) by the `index` job of
 * a real `instagram-app work` through a real gearmand, and searched with Instagram's v1 parameters. The
 * index's answers are checked against a brute-force great-circle filter over the same points, at the
 * poles, across the antimeridian and on the equator; bad parameters get 400 naming the parameter; a deleted
 * photo leaves the search; a search tier that is down answers 503 for search only.
 */
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventually } from "../harness/daemons";
import { gearmand } from "../harness/gearmand";
import { Account, ApiStack } from "../harness/api-stack";
import { SearchHost, startSearchHost } from "../harness/search";
import { SearchIndex } from "../../app/api/search";
import { haversineMetres, LatLng } from "../../core/geo";
import { reindexFromShards } from "../../app/jobs/reindex";
import { buildServices } from "../../app/api/services";
import { loadApiConfig } from "../../app/api/config";

const NET = "127.0.45";
const PASSWORD = "SearchPassw0rdForTests0000000001";
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from("a photo with a place")]);
let api: ApiStack;
let host: SearchHost;
let index: SearchIndex;
let work: ChildProcess;
let owner: Account;

beforeAll(async () => {
    api = new ApiStack(NET, { INSTAGRAM_GEARMAN_SERVERS: `${NET}.21:4730`, INSTAGRAM_SEARCH: `${NET}.40:5432`, INSTAGRAM_SEARCH_PASSWORD: PASSWORD });
    host = await startSearchHost(api.daemons, "search-0", `${NET}.40`, PASSWORD);
    await gearmand(api.daemons, `${NET}.21`).start();
    await api.start();
    index = new SearchIndex({ host: `${NET}.40`, port: 5432, password: PASSWORD });
    work = spawn(process.execPath, ["--import", "tsx", path.resolve(__dirname, "../../app/server/cli.ts"), "work", "-w", "1", "--timeout", "120"], {
        env: { ...process.env, ...api.env() }, stdio: ["ignore", "ignore", "inherit"], detached: true,
    });
    owner = await api.signup("traveller");
}, 120_000);

afterAll(async () => {
    try { process.kill(-work.pid!, "SIGKILL"); } catch { /* gone */ }
    await index?.close();
    await api?.stop();
});

const upload = (query: string, as = owner) => fetch(`${api.base}/api/v1/users/${as.id}/media?${query}`, { method: "POST", headers: { "Content-Type": "image/jpeg", Authorization: `Bearer ${as.token}` }, body: JPEG })
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    .then(async (r) => ({ status: r.status, json: (await r.json()) as any }));
const search = (query: string) => api.call("GET", `/api/v1/media/search?${query}`);

describe("locations on upload", () => {
    test.each([
        ["lat=40.7", "lat and lng go together: give both or neither"],
        ["lat=91&lng=0", "lat 91: must be from -90 to 90"],
        ["lat=0&lng=-180.5", "lng -180.5: must be from -180 to 180"],
        ["lat=abc&lng=0", "lat must be a number of degrees from -90 to 90"],
        ["lat=1e3&lng=0", "lat must be a number of degrees from -90 to 90"],
    ])("%s is refused: %s", async (query, message) => {
        const r = await upload(query);
        expect(r.status).toBe(400);
        expect(r.json.message).toContain(message);
    });

    test("a photo with a location is stored with it, queued for the index, and found by a search", async () => {
        const r = await upload("caption=empire&lat=40.748440&lng=-73.985664");
        expect(r.status).toBe(201);
        expect(r.json.media.location).toEqual({ latitude: 40.74844, longitude: -73.985664 });
        expect(r.json.search).toBe("queued");
        const t0 = Date.now();
        const found = await eventually(async () => {
            const s = await search("lat=40.7486&lng=-73.9864&distance=500");
            return s.json.media?.some((m: { id: string }) => m.id === r.json.media.id) ? s.json.media : undefined;
        }, 10_000, "the photo in the search");
        console.log(`indexed and found ${Date.now() - t0} ms after the upload`);
        const hit = found.find((m: { id: string }) => m.id === r.json.media.id);
        expect(hit).toMatchObject({ caption: "empire", location: { latitude: 40.74844, longitude: -73.985664 } });
        expect(hit.distance).toBeGreaterThan(50);
        expect(hit.distance).toBeLessThan(80);
        expect((await api.call("GET", `/api/v1/media/${r.json.media.id}`)).json.location).toEqual({ latitude: 40.74844, longitude: -73.985664 });
    });

    test("a photo without a location is not indexed", async () => {
        const r = await upload("caption=nowhere");
        expect(r.status).toBe(201);
        expect(r.json.search).toBeUndefined();
        expect(r.json.media.location).toBeUndefined();
    });
});

describe("the search's parameters", () => {
    test.each([
        ["lng=0", "lat and lng go together"],
        ["", "lat and lng are required"],
        ["lat=0&lng=0&distance=5001", "distance must be a whole number from 1 to 5000"],
        ["lat=0&lng=0&distance=-1", "distance must be a whole number from 1 to 5000"],
        ["lat=0&lng=0&count=0", "count must be a whole number from 1 to 100"],
        ["lat=0&lng=0&count=101", "count must be a whole number from 1 to 100"],
        ["lat=0&lng=0&min_timestamp=20&max_timestamp=10", "min_timestamp is after max_timestamp"],
        ["lat=0&lng=0&min_timestamp=yesterday", "min_timestamp must be a whole number"],
        ["lat=0&lng=0&order=random", "order must be nearest or newest"],
        ["lat=0&lng=0&radius=10", "unknown parameter radius"],
    ])("%s → 400: %s", async (query, message) => {
        const r = await search(query);
        expect(r.status).toBe(400);
        expect(r.json.message).toContain(message);
    });
});

/** `count` points scattered within `spreadM` metres of `center` (wrapping the antimeridian), seeded. */
function scatter(center: LatLng, count: number, spreadM: number, seed: number): LatLng[] {
    let x = seed;
    const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    return Array.from({ length: count }, () => {
        const r = spreadM * Math.sqrt(rnd());
        const theta = 2 * Math.PI * rnd();
        const dLat = (r * Math.cos(theta)) / 111_195;
        const latitude = Math.max(-90, Math.min(90, center.latitude + dLat));
        const cos = Math.max(Math.cos((latitude * Math.PI) / 180), 1e-6);
        let longitude = center.longitude + (r * Math.sin(theta)) / (111_195 * cos);
        longitude = ((((longitude + 180) % 360) + 360) % 360) - 180;
        return { latitude, longitude };
    });
}

describe("the index against a brute-force great-circle filter", () => {
    const places: [string, LatLng][] = [
        ["the north pole", { latitude: 89.995, longitude: 10 }],
        ["the south pole", { latitude: -89.999, longitude: -120 }],
        ["the antimeridian", { latitude: -16.5, longitude: 179.999 }],
        ["the equator at the prime meridian", { latitude: 0, longitude: 0 }],
    ];
    let nextId = 9_000_000_000_000_000_000n;

    test.each(places)("around %s: every point within the distance, none farther, nearest first", async (_name, center) => {
        const points = scatter(center, 400, 8000, Math.abs(Math.round(center.latitude * 1000 + center.longitude)) + 7);
        const ids = points.map(() => String(nextId++));
        for (let i = 0; i < points.length; i += 50) {
            await Promise.all(points.slice(i, i + 50).map((location, j) => index.upsert({ mediaId: ids[i + j], userId: "1", location, takenAt: new Date(1_700_000_000_000 + (i + j) * 1000) })));
        }
        for (const distanceM of [1000, 5000]) {
            const hits = await index.search({ center, distanceM, count: 100_000, order: "nearest" });
            const expected = points.map((p, i) => ({ id: ids[i], d: haversineMetres(center, p) })).filter((p) => p.d <= distanceM);
            // None missed and none farther (a point within a centimetre of the edge may fall either side of it).
            const got = new Set(hits.map((h) => h.mediaId));
            for (const p of expected) if (p.d < distanceM - 0.01) expect(got.has(p.id), `point ${p.id} at ${p.d} m`).toBe(true);
            const byId = new Map(points.map((p, i) => [ids[i], p]));
            for (const h of hits) {
                expect(haversineMetres(center, byId.get(h.mediaId)!)).toBeLessThanOrEqual(distanceM + 0.01);
                expect(Math.abs(h.distanceM - haversineMetres(center, byId.get(h.mediaId)!))).toBeLessThan(0.5);
            }
            expect(hits.length).toBeGreaterThan(0);
            for (let i = 1; i < hits.length; i++) expect(hits[i].distanceM).toBeGreaterThanOrEqual(hits[i - 1].distanceM - 0.001);
        }
        // Newest first, within a time window.
        const window = await index.search({ center, distanceM: 5000, count: 10, order: "newest", minTimestamp: 1_700_000_100, maxTimestamp: 1_700_000_300 });
        const times = window.map((h) => Number(ids.indexOf(h.mediaId)));
        expect(times.every((t) => t >= 100 && t <= 300)).toBe(true);
        for (let i = 1; i < times.length; i++) expect(times[i]).toBeLessThan(times[i - 1]);
    });
});

describe("deleting and faults", () => {
    test("a deleted photo leaves the search, its page and the owner's feed; only the owner may delete it", async () => {
        const r = await upload("caption=gone&lat=51.5007&lng=-0.1246");
        const id = r.json.media.id as string;
        await eventually(async () => ((await search("lat=51.5007&lng=-0.1246&distance=100")).json.media.some((m: { id: string }) => m.id === id) ? true : undefined), 10_000, "the photo in the search");
        const stranger = await api.signup("stranger");
        expect((await api.call("DELETE", `/api/v1/media/${id}`, undefined, {}, stranger)).status).toBe(403);
        const del = await api.call("DELETE", `/api/v1/media/${id}`, undefined, {}, owner);
        expect(del.status).toBe(200);
        expect(del.json).toEqual({ deleted: true, search: "queued" });
        expect((await api.call("GET", `/api/v1/media/${id}`)).status).toBe(404);
        expect((await api.call("DELETE", `/api/v1/media/${id}`, undefined, {}, owner)).status).toBe(404);
        const feed = await api.call("GET", `/api/v1/users/${owner.id}/feed`, undefined, {}, owner);
        expect(feed.json.media.map((m: { id: string }) => m.id)).not.toContain(id);
        await eventually(async () => (await index.search({ center: { latitude: 51.5007, longitude: -0.1246 }, distanceM: 100, count: 10, order: "nearest" })).every((h) => h.mediaId !== id) ? true : undefined, 10_000, "the entry gone from the index");
    });

    test("the search tier stopped: search answers 503 naming it, everything else serves; started again, search serves", async () => {
        await host.stop();
        try {
            const r = await search("lat=40.7486&lng=-73.9864");
            expect(r.status).toBe(503);
            expect(r.json.dependency).toBe("search");
            expect((await api.call("GET", `/api/v1/users/${owner.id}/feed`, undefined, {}, owner)).status).toBe(200);
            const ready = await api.call("GET", "/readyz");
            expect(ready.status).toBe(200);
            expect(ready.json.search).toMatch(/^down: /);
            // An upload with a location still succeeds; its index job waits for the tier (RetryJob) and runs after.
            const up = await upload("caption=while-down&lat=48.8584&lng=2.2945");
            expect(up.status).toBe(201);
            (globalThis as { whileDown?: string }).whileDown = up.json.media.id;
        } finally {
            await host.start();
        }
        const id = (globalThis as { whileDown?: string }).whileDown!;
        await eventually(async () => {
            const s = await search("lat=48.8584&lng=2.2945&distance=100");
            return s.status === 200 && s.json.media.some((m: { id: string }) => m.id === id) ? true : undefined;
        }, 20_000, "the photo uploaded while the tier was down, indexed once it was back");
    });
});

describe("reindex", () => {
    test("rebuilds the index from the shards while searches go on: every located photo back, stale entries gone, no search failed", async () => {
        const photos: { id: string; at: LatLng }[] = [];
        for (let i = 0; i < 30; i++) {
            const at = { latitude: 35.6586 + i * 0.0001, longitude: 139.7454 };
            const r = await upload(`caption=tokyo-${i}&lat=${at.latitude.toFixed(6)}&lng=${at.longitude}`);
            photos.push({ id: r.json.media.id, at });
        }
        // The index loses some entries and holds one for a photo that no longer exists.
        await eventually(async () => ((await index.search({ center: photos[0].at, distanceM: 1000, count: 100, order: "nearest" })).length >= 30 ? true : undefined), 15_000, "the photos indexed");
        host.sql(`DELETE FROM media_locations WHERE media_id IN (${photos.slice(0, 10).map((p) => p.id).join(",")})`, "search");
        await index.upsert({ mediaId: "8999999999999999999", userId: "1", location: photos[0].at, takenAt: new Date() });
        const services = buildServices(loadApiConfig({ ...process.env, ...api.env() }));
        let searches = 0;
        let failed = 0;
        let running = true;
        const load = (async () => {
            while (running) {
                const r = await search(`lat=${photos[0].at.latitude}&lng=${photos[0].at.longitude}&distance=1000`);
                searches++;
                if (r.status !== 200) failed++;
            }
        })();
        const report = await reindexFromShards(services.shards!, new SearchIndex({ host: `${NET}.40`, port: 5432, password: PASSWORD }, 60_000));
        running = false;
        await load;
        expect(failed).toBe(0);
        expect(searches).toBeGreaterThan(0);
        expect(report.indexed).toBeGreaterThanOrEqual(30);
        expect(report.removed).toBeGreaterThanOrEqual(1);
        const hits = await index.search({ center: photos[0].at, distanceM: 1000, count: 100, order: "nearest" });
        expect(hits.map((h) => h.mediaId).sort()).toEqual(photos.map((p) => p.id).sort());
        console.log(`reindex: ${report.indexed} photos over ${report.logicalShards} logical shards in ${report.seconds} s, ${report.removed} stale removed; ${searches} searches meanwhile, ${failed} failed`);
    });
});
