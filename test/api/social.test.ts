/**
 * Likes, comments and the activity feed against the real data tier (test/harness/api-stack.ts): concurrent
 * likes count exactly, the counts and the viewer's likes on a feed page come from the caches (a feed page
 * is served with every shard's pgbouncer stopped), comments paginate without gaps or repeats while others
 * are added, and the activity feed tells a photo's owner who followed, liked and commented, trimmed.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventually, tcpExchange } from "../harness/daemons";
import { Account, ApiStack, LOGICAL } from "../harness/api-stack";
import { decodeId } from "../../core/ids";
import { physicalShardOf, shardSchema } from "../../core/shard-map";
import { ACTIVITY_LENGTH } from "../../app/api/activity";
import { CountersCache } from "../../app/api/counters";
import { RedisReader } from "../../app/api/redis-reader";
import Redis from "ioredis";
import { API_PASSWORDS } from "../harness/api-stack";

const api = new ApiStack("127.0.13");
const call = api.call.bind(api);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from("a photo")]);
let owner: Account;
let fans: Account[];

beforeAll(async () => {
    await api.start();
    owner = await api.signup("owner");
    fans = await Promise.all(Array.from({ length: 16 }, (_, i) => api.signup(`fan_${i}`)));
}, 120_000);
afterAll(() => api.stop());

const post = async (who: Account, caption: string) => {
    const r = await api.upload(who, who.id, JPEG, "image/jpeg", caption);
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    return r.json.media as { id: string };
};
const like = (who: Account, id: string) => call("PUT", `/api/v1/media/${id}/like`, undefined, {}, who);
const unlike = (who: Account, id: string) => call("DELETE", `/api/v1/media/${id}/like`, undefined, {}, who);
const comment = (who: Account, id: string, text: string) => call("POST", `/api/v1/media/${id}/comments`, { text }, {}, who);
function onShard(id: string, query: string): string {
    const logical = decodeId(BigInt(id)).logicalShard;
    return api.shards[physicalShardOf(logical, LOGICAL, 2)].sql(query.replaceAll("S.", `${shardSchema(logical)}.`), "instagram");
}

describe("likes", () => {
    test("concurrent likes on one photo count exactly, repeated ones count once, and unlikes take back exactly theirs", async () => {
        const photo = await post(owner, "popular");
        // Every fan likes twice at once: 32 concurrent statements, 16 likes.
        const first = await Promise.all(fans.flatMap((f) => [like(f, photo.id), like(f, photo.id)]));
        expect(first.every((r) => r.status === 200)).toBe(true);
        expect((await call("GET", `/api/v1/media/${photo.id}`)).json.likes).toBe(16);
        expect(onShard(photo.id, `SELECT like_count || ' ' || (SELECT count(*) FROM S.likes WHERE media_id = ${photo.id}) FROM S.media WHERE id = ${photo.id}`)).toBe("16 16");
        // Half unlike (twice each) while the other half like again: 16 → 8.
        await Promise.all(fans.flatMap((f, i) => (i % 2 === 0 ? [unlike(f, photo.id), unlike(f, photo.id)] : [like(f, photo.id)])));
        expect(onShard(photo.id, `SELECT like_count || ' ' || (SELECT count(*) FROM S.likes WHERE media_id = ${photo.id}) FROM S.media WHERE id = ${photo.id}`)).toBe("8 8");
        const seen = await call("GET", `/api/v1/media/${photo.id}`, undefined, {}, fans[1]);
        expect(seen.json).toMatchObject({ likes: 8, comments: 0, viewerHasLiked: true });
        expect((await call("GET", `/api/v1/media/${photo.id}`, undefined, {}, fans[0])).json.viewerHasLiked).toBe(false);
    });

    test("a like answers the new count and the viewer's state; liking a photo that does not exist is 404", async () => {
        const photo = await post(owner, "one like");
        expect((await like(fans[2], photo.id)).json).toEqual({ likes: 1, comments: 0, viewerHasLiked: true });
        expect((await like(fans[2], photo.id)).json).toEqual({ likes: 1, comments: 0, viewerHasLiked: true });
        expect((await unlike(fans[2], photo.id)).json).toEqual({ likes: 0, comments: 0, viewerHasLiked: false });
        expect((await like(fans[2], "123456789012")).status).toBe(404);
        expect((await like(fans[2], "abc")).status).toBe(400);
    });

    test("a feed page's counts and likes come from the caches: served with both pgbouncers stopped, and right after writes", async () => {
        const reader = fans[3];
        await call("PUT", `/api/v1/users/${reader.id}/following/${owner.id}`, undefined, {}, reader);
        const photos: { id: string }[] = [];
        for (let i = 0; i < 5; i++) photos.push(await post(owner, `cached ${i}`));
        await like(reader, photos[1].id);
        await like(fans[4], photos[1].id);
        await comment(fans[4], photos[2].id, "nice");
        const warm = await call("GET", `/api/v1/users/${reader.id}/feed?limit=5`, undefined, {}, reader);
        expect(warm.status).toBe(200);
        const byId = (feed: any) => new Map(feed.media.map((m: any) => [m.id, m]));
        expect(byId(warm.json).get(photos[1].id)).toMatchObject({ likes: 2, viewerHasLiked: true, username: "owner" });
        expect(byId(warm.json).get(photos[2].id)).toMatchObject({ comments: 1, viewerHasLiked: false });
        await Promise.all(api.shards.map((s) => s.stopPgbouncer()));
        try {
            const cold = await call("GET", `/api/v1/users/${reader.id}/feed?limit=5`, undefined, {}, reader);
            expect(cold.status, JSON.stringify(cold.json)).toBe(200);
            expect(cold.json.media).toEqual(warm.json.media);
        } finally {
            await Promise.all(api.shards.map((s) => s.startPgbouncer()));
        }
        // A write updates what the caches answer: no stale count after a like or an unlike.
        await eventually(async () => ((await unlike(reader, photos[1].id)).status === 200 ? true : undefined), 10_000, "the shards to answer again");
        const after = await call("GET", `/api/v1/users/${reader.id}/feed?limit=5`, undefined, {}, reader);
        expect(byId(after.json).get(photos[1].id)).toMatchObject({ likes: 1, viewerHasLiked: false });
        // With the caches emptied, the shards give the same answer and fill them again.
        for (const node of api.memcached) await tcpExchange(node.split(":")[0], 11211, "flush_all\r\n", /OK\r\n/);
        const fromShards = await call("GET", `/api/v1/users/${reader.id}/feed?limit=5`, undefined, {}, reader);
        expect(fromShards.json.cacheHits).toBe(0);
        expect(fromShards.json.media).toEqual(after.json.media);
    });
});

describe("the counters' cache", () => {
    test("never goes back in time: an older copy is dropped, a fill never overwrites the viewer's own like", async () => {
        const redis = new Redis({ host: api.redis, port: 6379, password: API_PASSWORDS.redis });
        const reader = new RedisReader({ host: api.redis, port: 6379, password: API_PASSWORDS.redis }).start();
        try {
            await eventually(() => (redis.status === "ready" ? true : undefined), 5000, "Redis");
            await eventually(() => (reader.ready ? true : undefined), 5000, "the read connection");
            const cache = new CountersCache(redis, reader);
            await cache.storeCounts("900", { version: 5, likes: 7, comments: 1 });
            await cache.storeCounts("900", { version: 3, likes: 9, comments: 0 }); // answered late
            await cache.storeCounts("901", { version: 2, likes: 1, comments: 0 });
            await cache.storeCounts("901", { version: 4, likes: 2, comments: 3 });
            await cache.setLiked("900", "42", true);
            await cache.fillLiked("900", "42", false); // a read from before the like
            await cache.fillLiked("901", "42", false);
            const read = await cache.read(["900", "901", "902"], "42");
            expect(read.get("900")).toEqual({ counts: { version: 5, likes: 7, comments: 1 }, liked: true });
            expect(read.get("901")).toEqual({ counts: { version: 4, likes: 2, comments: 3 }, liked: false });
            expect(read.get("902")).toEqual({ counts: undefined });
            expect(await redis.ttl("counts:900")).toBeGreaterThan(500);
        } finally {
            redis.disconnect();
            reader.close();
        }
    });
});

describe("comments", () => {
    test("create, list newest first, delete own; the photo's owner may delete any; others get 403", async () => {
        const photo = await post(owner, "discuss");
        const a = (await comment(fans[5], photo.id, "first!")).json;
        expect(a).toMatchObject({ mediaId: photo.id, user: { id: fans[5].id, username: "fan_5" }, text: "first!" });
        const b = (await comment(fans[6], photo.id, "second")).json;
        expect((await call("GET", `/api/v1/media/${photo.id}/comments`)).json).toEqual({ comments: [b, a], next: null });
        expect((await call("GET", `/api/v1/media/${photo.id}`)).json.comments).toBe(2);
        expect((await call("DELETE", `/api/v1/media/${photo.id}/comments/${a.id}`, undefined, {}, fans[6])).status).toBe(403);
        expect((await call("DELETE", `/api/v1/media/${photo.id}/comments/${a.id}`, undefined, {}, fans[5])).status).toBe(204);
        expect((await call("DELETE", `/api/v1/media/${photo.id}/comments/${a.id}`, undefined, {}, fans[5])).status).toBe(404);
        expect((await call("DELETE", `/api/v1/media/${photo.id}/comments/${b.id}`, undefined, {}, owner)).status).toBe(204);
        expect((await call("GET", `/api/v1/media/${photo.id}/comments`)).json).toEqual({ comments: [], next: null });
        expect((await call("GET", `/api/v1/media/${photo.id}`)).json.comments).toBe(0);
        expect(onShard(photo.id, `SELECT comment_count FROM S.media WHERE id = ${photo.id}`)).toBe("0");
    });

    test.each([
        ["an empty comment", { text: "  " }, 400, /non-empty string/],
        ["a comment over 2200 characters", { text: "x".repeat(2201) }, 400, /limited to 2200 characters/],
        ["an unknown field", { text: "hi", at: 1 }, 400, /unknown field/],
    ])("%s is refused", async (_what, body, status, message) => {
        const photo = await post(owner, "strict");
        const r = await call("POST", `/api/v1/media/${photo.id}/comments`, body, {}, fans[7]);
        expect(r.status).toBe(status);
        expect(r.json.message).toMatch(message);
    });

    test("pages have no gaps and no repeats while comments are being added", async () => {
        const photo = await post(owner, "busy thread");
        const before: string[] = [];
        for (let i = 0; i < 30; i++) before.push((await comment(fans[i % fans.length], photo.id, `early ${i}`)).json.id);
        let adding = true;
        const writer = (async () => {
            for (let i = 0; adding && i < 40; i++) await comment(fans[(i + 3) % fans.length], photo.id, `late ${i}`);
        })();
        const seen: string[] = [];
        let cursor: string | null = "";
        while (cursor !== null) {
            const page: any = await call("GET", `/api/v1/media/${photo.id}/comments?limit=7${cursor ? `&before=${cursor}` : ""}`);
            expect(page.status).toBe(200);
            seen.push(...page.json.comments.map((c: any) => c.id));
            cursor = page.json.next;
        }
        adding = false;
        await writer;
        expect(new Set(seen).size).toBe(seen.length);
        for (const id of before) expect(seen).toContain(id);
        const sorted = [...seen].sort((x, y) => (BigInt(y) > BigInt(x) ? 1 : -1));
        expect(seen).toEqual(sorted);
        expect((await call("GET", `/api/v1/media/${photo.id}/comments?limit=101`)).status).toBe(400);
        expect((await call("GET", `/api/v1/media/${photo.id}/comments?before=x`)).status).toBe(400);
        expect((await call("GET", "/api/v1/media/123456789012/comments")).status).toBe(404);
    });
});

describe("the activity feed", () => {
    test("a follow, a like and a comment reach the photo's owner, newest first; acting on your own photo does not", async () => {
        const star = await api.signup("star");
        const fan = fans[8];
        const photo = await post(star, "famous");
        await call("PUT", `/api/v1/users/${fan.id}/following/${star.id}`, undefined, {}, fan);
        await call("PUT", `/api/v1/users/${fan.id}/following/${star.id}`, undefined, {}, fan); // a repeat is not news
        await like(fan, photo.id);
        await like(fan, photo.id);
        await comment(fan, photo.id, "love it");
        await like(star, photo.id);
        await comment(star, photo.id, "thanks");
        const r = await call("GET", `/api/v1/users/${star.id}/activity`, undefined, {}, star);
        expect(r.json.activity.map((a: any) => [a.type, a.actor.username])).toEqual([["comment", "fan_8"], ["like", "fan_8"], ["follow", "fan_8"]]);
        expect(r.json.activity[0]).toMatchObject({ mediaId: photo.id, text: "love it", commentId: expect.any(String), at: expect.any(String) });
    });

    test(`it keeps the newest ${ACTIVITY_LENGTH} entries`, async () => {
        const busy = await api.signup("busy");
        const photo = await post(busy, "trim me");
        for (let i = 0; i < ACTIVITY_LENGTH + 5; i++) await comment(fans[i % fans.length], photo.id, `c${i}`);
        const r = await call("GET", `/api/v1/users/${busy.id}/activity?limit=${ACTIVITY_LENGTH}`, undefined, {}, busy);
        expect(r.json.activity).toHaveLength(ACTIVITY_LENGTH);
        expect(r.json.activity[0].text).toBe(`c${ACTIVITY_LENGTH + 4}`);
        expect(r.json.activity[ACTIVITY_LENGTH - 1].text).toBe("c5");
    });
});

describe("the web client", () => {
    test("/ is the page, under a strict Content-Security-Policy; its script and style sheet are cached for good", async () => {
        const page = await fetch(`${api.base}/`);
        expect(page.status).toBe(200);
        expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
        expect(page.headers.get("content-security-policy")).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https://media.example.com; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
        const html = await page.text();
        const script = /<script src="(\/static\/app-[0-9a-f]{16}\.js)"/.exec(html)![1];
        const style = /<link rel="stylesheet" href="(\/static\/app-[0-9a-f]{16}\.css)"/.exec(html)![1];
        for (const [asset, type] of [[script, "text/javascript"], [style, "text/css"]]) {
            const r = await fetch(`${api.base}${asset}`);
            expect(r.status).toBe(200);
            expect(r.headers.get("content-type")).toMatch(type);
            expect(r.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
        }
        const again = await fetch(`${api.base}/`, { headers: { "If-None-Match": page.headers.get("etag")! } });
        expect(again.status).toBe(304);
        expect((await fetch(`${api.base}/static/app-0000000000000000.js`)).status).toBe(404);
    });
});
