/**
 * Photos and feeds, as Instagram built them: a photo's row lives on its owner's shard; on upload its ID is
 * pushed onto each follower's feed list in Redis (bounded); reading a feed takes the IDs from Redis and
 * hydrates them: the photos' fixed fields from memcached (one multi-get across the ring) and their counts
 * and the viewer's likes from Redis (one MGET), at the same time, falling back to the shards only for
 * what either cache lacks (one query per logical shard) and filling the caches.
 */
import Redis from "ioredis";
import { MemcachedPool } from "./memcached";
import { ShardRouter, Unavailable } from "./shards";
import { NotFound, Users } from "./users";
import { MediaStore } from "./media-store";
import { CachedMeta, CountersCache, countsOf, CountsRow, MediaCounts } from "./counters";
import { SessionUser } from "./sessions";
import { execAll, readyRedis, redisCall } from "./redis";

export const FEED_LENGTH = 500;
const CACHE_TTL_SECONDS = 3600;

/** What never changes about a photo: cached whole in memcached. */
export interface MediaRecord {
    readonly id: string;
    readonly userId: string;
    readonly username: string;
    readonly url: string;
    readonly contentType: string;
    readonly bytes: number;
    readonly caption: string;
    readonly createdAt: string;
}

/** A photo as the API shows it: with its counts and, for a signed-in viewer, whether they liked it. */
export interface Media extends MediaRecord {
    readonly likes: number;
    readonly comments: number;
    readonly viewerHasLiked?: boolean;
}

interface MediaRow extends CountsRow {
    id: string; user_id: string; username: string | null; object_key: string; content_type: string; bytes: number; caption: string; created_at: Date;
    viewer_liked: boolean | null;
}

const mediaKey = (id: string) => `media:${id}`;

/** A photo as shown: its fixed fields, its counts, and whether the viewer liked it when there is a viewer. */
const withCounts = (record: MediaRecord, counts: MediaCounts, viewerHasLiked?: boolean): Media =>
    ({ ...record, likes: counts.likes, comments: counts.comments, ...(viewerHasLiked === undefined ? {} : { viewerHasLiked }) });

/** The logical shard of a photo's ID; NotFound when this stack has no such logical shard. */
export function photoShard(shards: ShardRouter, mediaId: bigint): number {
    const shard = shards.knownLogicalShardOf(mediaId);
    if (shard === undefined) throw new NotFound(`no media ${mediaId}`);
    return shard;
}

export class Feeds {
    constructor(
        private readonly shards: ShardRouter,
        private readonly users: Users,
        private readonly store: MediaStore,
        private readonly redis: Redis | undefined,
        private readonly cache: MemcachedPool | undefined,
        private readonly counters: CountersCache,
        private readonly mediaBaseUrl: string,
    ) {}

    private toRecord(r: MediaRow): MediaRecord {
        return {
            id: String(r.id),
            userId: String(r.user_id),
            username: r.username ?? "",
            url: `${this.mediaBaseUrl.replace(/\/$/, "")}/${r.object_key}`,
            contentType: r.content_type,
            bytes: r.bytes,
            caption: r.caption,
            createdAt: new Date(r.created_at).toISOString(),
        };
    }

    /** Store the bytes, record the row on the owner's shard, push the ID onto the owner's and followers' feeds. */
    async upload(owner: SessionUser, body: Buffer, contentType: string, ext: string, caption: string): Promise<{ media: Media; fannedOutTo: number }> {
        const redis = readyRedis(this.redis);
        const shard = this.shards.logicalShardOfId(BigInt(owner.id));
        const s = this.shards.schema(shard);
        const key = `photos/${owner.id}/${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}.${ext}`;
        try {
            await this.store.put(key, body, contentType);
        } catch (e) {
            throw new Unavailable(this.store.name, e as Error);
        }
        const [[row], followers] = await Promise.all([
            this.shards.query<MediaRow>(shard,
                `INSERT INTO ${s}.media (user_id, object_key, content_type, bytes, caption) VALUES ($1, $2, $3, $4, $5) RETURNING *, $6::text AS username`,
                [owner.id, key, contentType, body.length, caption, owner.username]),
            this.users.followers(BigInt(owner.id)),
        ]);
        const record = this.toRecord(row);
        const pipeline = redis.pipeline();
        for (const f of [owner.id, ...followers]) pipeline.lpush(`feed:${f}`, record.id).ltrim(`feed:${f}`, 0, FEED_LENGTH - 1);
        await execAll(pipeline);
        await Promise.all([
            this.cache?.set(mediaKey(record.id), JSON.stringify(record), CACHE_TTL_SECONDS),
            this.counters.storeCounts(record.id, { likes: 0, comments: 0, version: 0 }),
        ]);
        return { media: withCounts(record, { likes: 0, comments: 0, version: 0 }, false), fannedOutTo: followers.length };
    }

    async get(id: bigint, viewer?: string): Promise<Media> {
        const [media] = await this.hydrate([String(id)], viewer);
        if (!media) throw new NotFound(`no media ${id}`);
        return media;
    }

    /** The viewer's own feed, newest first, up to `limit`. */
    async feed(viewer: SessionUser, limit: number): Promise<{ media: Media[]; cacheHits: number }> {
        const redis = readyRedis(this.redis);
        const ids = await redisCall(() => redis.lrange(`feed:${viewer.id}`, 0, limit - 1));
        let cacheHits = 0;
        const media = await this.hydrate(ids, viewer.id, (n) => (cacheHits = n));
        return { media, cacheHits };
    }

    /**
     * Photos by ID, in the given order (IDs that name no photo are left out). Both caches are asked at once;
     * a photo either lacks comes from its shard, one query per logical shard, and fills both.
     */
    private async hydrate(ids: string[], viewer?: string, reportHits?: (n: number) => void): Promise<Media[]> {
        const [records, metas] = await Promise.all([
            this.cache ? this.cache.getMulti(ids.map(mediaKey)) : Promise.resolve(new Map<string, Buffer>()),
            this.counters.read(ids, viewer),
        ]);
        reportHits?.(records.size);
        const found = new Map<string, Media>();
        const byShard = new Map<number, string[]>();
        for (const id of ids) {
            const cached = records.get(mediaKey(id));
            const meta: CachedMeta = metas.get(id) ?? {};
            if (cached && meta.counts && (viewer === undefined || meta.liked !== undefined)) {
                const record = JSON.parse(cached.toString("utf8")) as MediaRecord;
                found.set(id, withCounts(record, meta.counts, viewer === undefined ? undefined : meta.liked));
                continue;
            }
            const shard = this.shards.knownLogicalShardOf(BigInt(id));
            if (shard !== undefined) byShard.set(shard, [...(byShard.get(shard) ?? []), id]);
        }
        await Promise.all([...byShard].map(async ([shard, shardIds]) => {
            const s = this.shards.schema(shard);
            const rows = await this.shards.query<MediaRow>(shard, `
                SELECT m.*, u.username,
                       CASE WHEN $2::bigint IS NULL THEN NULL ELSE EXISTS (SELECT FROM ${s}.likes l WHERE l.media_id = m.id AND l.user_id = $2) END AS viewer_liked
                FROM ${s}.media m LEFT JOIN ${s}.users u ON u.id = m.user_id WHERE m.id = ANY($1::bigint[])`, [shardIds, viewer ?? null]);
            await Promise.all(rows.map(async (row) => {
                const record = this.toRecord(row);
                const counts = countsOf(row);
                found.set(record.id, withCounts(record, counts, viewer === undefined ? undefined : row.viewer_liked === true));
                await Promise.all([
                    records.has(mediaKey(record.id)) ? undefined : this.cache?.set(mediaKey(record.id), JSON.stringify(record), CACHE_TTL_SECONDS),
                    this.counters.storeCounts(record.id, counts),
                    viewer === undefined ? undefined : this.counters.fillLiked(record.id, viewer, row.viewer_liked === true),
                ]);
            }));
        }));
        return ids.map((id) => found.get(id)).filter((m): m is Media => m !== undefined);
    }
}
