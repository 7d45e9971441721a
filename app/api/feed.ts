/**
 * Photos and feeds, as Instagram built them: a photo's row lives on its owner's shard; on upload its ID is
 * pushed onto each follower's feed list in Redis (bounded); reading a feed takes the IDs from Redis and
 * hydrates them from memcached (one multi-get across the ring), falling back to the shards for misses
 * (one query per logical shard) and filling the cache.
 */
import Redis from "ioredis";
import { MemcachedPool } from "./memcached";
import { ShardRouter, Unavailable } from "./shards";
import { NotFound, Users } from "./users";
import { MediaStore } from "./media-store";

export const FEED_LENGTH = 500;
const CACHE_TTL_SECONDS = 3600;

export interface Media {
    readonly id: string;
    readonly userId: string;
    readonly url: string;
    readonly contentType: string;
    readonly bytes: number;
    readonly caption: string;
    readonly createdAt: string;
}

interface MediaRow { id: string; user_id: string; object_key: string; content_type: string; bytes: number; caption: string; created_at: Date }

export class Feeds {
    constructor(
        private readonly shards: ShardRouter,
        private readonly users: Users,
        private readonly store: MediaStore,
        private readonly redis: Redis | undefined,
        private readonly cache: MemcachedPool | undefined,
        private readonly mediaBaseUrl: string,
    ) {}

    private toMedia(r: MediaRow): Media {
        return {
            id: String(r.id),
            userId: String(r.user_id),
            url: `${this.mediaBaseUrl.replace(/\/$/, "")}/${r.object_key}`,
            contentType: r.content_type,
            bytes: r.bytes,
            caption: r.caption,
            createdAt: new Date(r.created_at).toISOString(),
        };
    }

    private requireRedis(): Redis {
        if (!this.redis || this.redis.status !== "ready") throw new Unavailable("redis");
        return this.redis;
    }

    /** Store the bytes, record the row on the owner's shard, push the ID onto the followers' feeds. */
    async upload(owner: bigint, body: Buffer, contentType: string, ext: string, caption: string): Promise<{ media: Media; fannedOutTo: number }> {
        await this.users.get(owner);
        const redis = this.requireRedis();
        const shard = this.shards.logicalShardOfId(owner);
        const key = `photos/${owner}/${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}.${ext}`;
        try {
            await this.store.put(key, body, contentType);
        } catch (e) {
            throw new Unavailable(this.store.name, e as Error);
        }
        const [row] = await this.shards.query<MediaRow>(shard,
            `INSERT INTO ${this.shards.schema(shard)}.media (user_id, object_key, content_type, bytes, caption) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
            [String(owner), key, contentType, body.length, caption]);
        const media = this.toMedia(row);
        const followers = await this.users.followers(owner);
        const pipeline = redis.pipeline();
        for (const f of [String(owner), ...followers]) pipeline.lpush(`feed:${f}`, media.id).ltrim(`feed:${f}`, 0, FEED_LENGTH - 1);
        const results = await pipeline.exec();
        if (results?.some(([err]) => err)) throw new Unavailable("redis");
        await this.cache?.set(`media:${media.id}`, JSON.stringify(media), CACHE_TTL_SECONDS);
        return { media, fannedOutTo: followers.length };
    }

    async get(id: bigint): Promise<Media> {
        const [media] = await this.hydrate([String(id)]);
        if (!media) throw new NotFound(`no media ${id}`);
        return media;
    }

    /** Newest first, up to `limit`. */
    async feed(user: bigint, limit: number): Promise<{ media: Media[]; cacheHits: number }> {
        await this.users.get(user);
        let ids: string[];
        try {
            ids = await this.requireRedis().lrange(`feed:${user}`, 0, limit - 1);
        } catch (e) {
            throw e instanceof Unavailable ? e : new Unavailable("redis", e as Error);
        }
        const cached = this.cache ? await this.cache.getMulti(ids.map((id) => `media:${id}`)) : new Map<string, Buffer>();
        const media = await this.hydrate(ids, cached);
        return { media, cacheHits: cached.size };
    }

    /** Media by ID, in the given order: from the cache where it has them, else from the shards (one query per logical shard). */
    private async hydrate(ids: string[], cached?: Map<string, Buffer>): Promise<Media[]> {
        const found = new Map<string, Media>();
        const hits = cached ?? (this.cache ? await this.cache.getMulti(ids.map((id) => `media:${id}`)) : new Map<string, Buffer>());
        for (const [key, value] of hits) found.set(key.slice("media:".length), JSON.parse(value.toString("utf8")));
        const misses = ids.filter((id) => !found.has(id));
        const byShard = new Map<number, string[]>();
        for (const id of misses) {
            const shard = this.shards.logicalShardOfId(BigInt(id));
            if (shard < this.shards.logicalShards) byShard.set(shard, [...(byShard.get(shard) ?? []), id]);
        }
        await Promise.all([...byShard].map(async ([shard, shardIds]) => {
            const rows = await this.shards.query<MediaRow>(shard, `SELECT * FROM ${this.shards.schema(shard)}.media WHERE id = ANY($1::bigint[])`, [shardIds]);
            for (const row of rows) {
                const media = this.toMedia(row);
                found.set(media.id, media);
                await this.cache?.set(`media:${media.id}`, JSON.stringify(media), CACHE_TTL_SECONDS);
            }
        }));
        return ids.map((id) => found.get(id)).filter((m): m is Media => m !== undefined);
    }
}
