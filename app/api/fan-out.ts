/**
 * Pushing a new photo onto its owner's followers' feeds, in batches of followers read from the owner's shard
 * in follower-ID order, each batch one Redis script. Idempotent: the script keeps, per photo, the highest
 * follower ID it has delivered to (`fanout:<media id>`), skips followers at or below it and advances it in
 * the same atomic step, so a fan-out run again — a worker killed mid-job, a submit that timed out and was
 * queued anyway, the inline fallback after a queued job — pushes the photo onto no feed twice.
 */
import Redis from "ioredis";
import { ShardRouter } from "./shards";
import { readyRedis, redisCall } from "./redis";

export const FEED_LENGTH = 500;
/** Followers per batch: one query and one script call each, so Redis serves other clients in between. */
export const FAN_OUT_BATCH = 1000;
/** How long a photo's delivery cursor is kept: longer than any job can wait in the queue or be retried. */
export const FAN_OUT_CURSOR_TTL_SECONDS = 7 * 24 * 3600;

export const fanOutCursorKey = (mediaId: string) => `fanout:${mediaId}`;
export const feedKey = (userId: string) => `feed:${userId}`;

/**
 * KEYS[1] the cursor, KEYS[2..] the feeds; ARGV[1] the photo, ARGV[2] the feeds' last index, ARGV[3] the
 * cursor's TTL, ARGV[4..] the follower ID of each feed (ascending). IDs are 64-bit: compared as decimal
 * strings (length, then text), never as Lua numbers (doubles).
 */
const FAN_OUT_BATCH_SCRIPT = `
local function above(a, b)
    if #a ~= #b then return #a > #b end
    return a > b
end
local cursor = redis.call('GET', KEYS[1])
local pushed = 0
local last = cursor
for i = 2, #KEYS do
    local follower = ARGV[i + 2]
    if not cursor or above(follower, cursor) then
        redis.call('LPUSH', KEYS[i], ARGV[1])
        redis.call('LTRIM', KEYS[i], 0, tonumber(ARGV[2]))
        pushed = pushed + 1
        if not last or above(follower, last) then last = follower end
    end
end
if last then redis.call('SET', KEYS[1], last, 'EX', tonumber(ARGV[3])) end
return pushed`;

/**
 * LPUSH the ID onto each feed (KEYS) and trim each to its length: the owner's own feed at upload, and the
 * inline fan-out of a stack without a queue (one command for the whole list instead of two per feed).
 */
const PUSH_TO_FEEDS_SCRIPT = `
for _, feed in ipairs(KEYS) do
    redis.call('LPUSH', feed, ARGV[1])
    redis.call('LTRIM', feed, 0, tonumber(ARGV[2]))
end
return #KEYS`;

type FanOutRedis = Redis & {
    fanOutBatch(numberOfKeys: number, ...args: string[]): Promise<number>;
    pushToFeeds(numberOfKeys: number, ...args: string[]): Promise<number>;
};

export function withFeedScripts(redis: Redis): FanOutRedis {
    if (!("fanOutBatch" in redis)) redis.defineCommand("fanOutBatch", { lua: FAN_OUT_BATCH_SCRIPT });
    if (!("pushToFeeds" in redis)) redis.defineCommand("pushToFeeds", { lua: PUSH_TO_FEEDS_SCRIPT });
    return redis as FanOutRedis;
}

/** Push `mediaId` onto the feeds (one script call per FAN_OUT_BATCH of them; not idempotent). */
export async function pushToFeeds(redis: Redis, feeds: readonly string[], mediaId: string): Promise<void> {
    const r = withFeedScripts(readyRedis(redis));
    const calls: Promise<number>[] = [];
    for (let i = 0; i < feeds.length; i += FAN_OUT_BATCH) {
        const batch = feeds.slice(i, i + FAN_OUT_BATCH);
        calls.push(redisCall(() => r.pushToFeeds(batch.length, ...batch, mediaId, String(FEED_LENGTH - 1))));
    }
    await Promise.all(calls);
}

export interface FanOutResult {
    /** Followers whose feed got the photo in this run. */
    readonly pushed: number;
    /** Followers read (including those an earlier run had already delivered to). */
    readonly followers: number;
    readonly batches: number;
}

/** Deliver photo `mediaId` of `ownerId` to every follower's feed that does not have it yet from an earlier run. */
export async function fanOutToFollowers(shards: ShardRouter, redis: Redis, ownerId: string, mediaId: string, batchSize = FAN_OUT_BATCH): Promise<FanOutResult> {
    const r = withFeedScripts(readyRedis(redis));
    const shard = shards.logicalShardOfId(BigInt(ownerId));
    const s = shards.schema(shard);
    const cursorKey = fanOutCursorKey(mediaId);
    // Start after what an earlier run delivered (the script skips those anyway; this spares the reads).
    let after = (await redisCall(() => r.get(cursorKey))) ?? "-1";
    let pushed = 0;
    let followers = 0;
    let batches = 0;
    for (;;) {
        const rows = await shards.query<{ follower_id: string }>(shard,
            `SELECT follower_id::text FROM ${s}.followers WHERE followee_id = $1 AND follower_id > $2 ORDER BY follower_id LIMIT $3`,
            [ownerId, after, batchSize]);
        if (rows.length === 0) break;
        const ids = rows.map((row) => row.follower_id);
        pushed += await redisCall(() => r.fanOutBatch(ids.length + 1, cursorKey, ...ids.map(feedKey), mediaId, String(FEED_LENGTH - 1), String(FAN_OUT_CURSOR_TTL_SECONDS), ...ids));
        followers += ids.length;
        batches++;
        after = ids[ids.length - 1];
        if (rows.length < batchSize) break;
    }
    return { pushed, followers, batches };
}
