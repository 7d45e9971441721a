/**
 * A photo's like and comment counts and whether a viewer liked it, cached in Redis so that a feed page whose
 * items are cached costs no query. The shard row is the truth (counts change in the same statement as the
 * like or comment); the cache is written after each change and filled on a miss, and it never goes back in
 * time: each copy carries the row's counts_version, and a write older than the one cached is dropped (two
 * likes answered out of order, or a reader's fill racing a like). A liked flag is set by the viewer's own
 * like or unlike, and filled only where none is cached (SET NX), so a fill never overwrites a newer write.
 * Entries expire, which bounds how long a copy can be wrong after a write whose cache update was lost.
 */
import Redis from "ioredis";
import { RedisReader } from "./redis-reader";

export interface MediaCounts {
    readonly likes: number;
    readonly comments: number;
    readonly version: number;
}

/** A photo row's counters, as the statements that change them return them. */
export interface CountsRow {
    like_count: number;
    comment_count: number;
    /** bigint: pg hands it over as text. */
    counts_version: string;
}

export function countsOf(row: CountsRow): MediaCounts {
    return { likes: row.like_count, comments: row.comment_count, version: Number(row.counts_version) };
}

export const COUNTS_TTL_SECONDS = 600;
export const LIKED_TTL_SECONDS = 3600;

const countsKey = (mediaId: string) => `counts:${mediaId}`;
const likedKey = (mediaId: string, viewer: string) => `liked:${mediaId}:${viewer}`;

/**
 * A copy is the string "<version> <likes> <comments>", so a page's copies and likes are one MGET. Stored only
 * if the cached version is older than ours (or nothing is cached).
 */
const STORE_IF_NEWER = `
local cached = redis.call('GET', KEYS[1])
if cached then
    local version = tonumber(string.match(cached, '^(%d+) '))
    if version and version >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. ARGV[3], 'EX', ARGV[4])
return 1`;

function parseCounts(text: string | null): MediaCounts | undefined {
    const m = text === null ? null : /^(\d+) (\d+) (\d+)$/.exec(text);
    return m ? { version: Number(m[1]), likes: Number(m[2]), comments: Number(m[3]) } : undefined;
}

type CounterRedis = Redis & { storeCountsIfNewer(key: string, version: string, likes: string, comments: string, ttl: string): Promise<number> };

export interface CachedMeta {
    counts?: MediaCounts;
    liked?: boolean;
}

export class CountersCache {
    private readonly redis?: CounterRedis;

    /** Reads go to `reader`, writes to `redis`. */
    constructor(redis: Redis | undefined, private readonly reader: RedisReader | undefined) {
        if (redis && !("storeCountsIfNewer" in redis)) redis.defineCommand("storeCountsIfNewer", { numberOfKeys: 1, lua: STORE_IF_NEWER });
        this.redis = redis as CounterRedis | undefined;
    }

    private usable(): CounterRedis | undefined {
        return this.redis && this.redis.status === "ready" ? this.redis : undefined;
    }

    /** What the cache holds for these photos: one MGET of their copies and the viewer's likes. */
    async read(ids: readonly string[], viewer?: string): Promise<Map<string, CachedMeta>> {
        const found = new Map<string, CachedMeta>();
        const reader = this.reader;
        if (!reader?.ready || ids.length === 0) return found;
        const keys = [...ids.map(countsKey), ...(viewer ? ids.map((id) => likedKey(id, viewer)) : [])];
        const values = await reader.mget(keys).catch(() => undefined);
        if (!values) return found;
        ids.forEach((id, i) => {
            const liked = viewer ? values[ids.length + i] : null;
            found.set(id, { counts: parseCounts(values[i]), ...(liked === null ? {} : { liked: liked === "1" }) });
        });
        return found;
    }

    /** The counts a write or a shard read returned; dropped when the cache already holds a newer version. */
    async storeCounts(mediaId: string, counts: MediaCounts): Promise<void> {
        await this.usable()?.storeCountsIfNewer(countsKey(mediaId), String(counts.version), String(counts.likes), String(counts.comments), String(COUNTS_TTL_SECONDS)).catch(() => undefined);
    }

    /**
     * A deleted photo: its counts go, so no read can serve it from the caches alone (hydrate needs both the
     * record and the counts cached, and goes to the shard, which no longer has it).
     */
    async forget(mediaId: string): Promise<void> {
        await this.usable()?.del(countsKey(mediaId)).catch(() => undefined);
    }

    /** After the viewer's own like or unlike. */
    async setLiked(mediaId: string, viewer: string, liked: boolean): Promise<void> {
        await this.usable()?.set(likedKey(mediaId, viewer), liked ? "1" : "0", "EX", LIKED_TTL_SECONDS).catch(() => undefined);
    }

    /** From a shard read: only where nothing is cached, so it cannot undo a like made since the read. */
    async fillLiked(mediaId: string, viewer: string, liked: boolean): Promise<void> {
        await this.usable()?.set(likedKey(mediaId, viewer), liked ? "1" : "0", "EX", LIKED_TTL_SECONDS, "NX").catch(() => undefined);
    }
}
