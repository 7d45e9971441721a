/**
 * Photos and feeds, as Instagram built them: a photo's row lives on its owner's shard; on upload its ID is
 * pushed onto the owner's feed list in Redis (bounded) and, by a `fanout` job on Gearman (app/jobs) or
 * inline when there is no queue, onto each follower's (app/api/fan-out.ts); reading a feed takes the IDs from Redis and
 * hydrates them: the photos' fixed fields from memcached (one multi-get across the ring) and their counts
 * and the viewer's likes from Redis (one MGET), at the same time, falling back to the shards only for
 * what either cache lacks (one query per logical shard) and filling the caches.
 */
import Redis from "ioredis";
import { MemcachedPool } from "./memcached";
import { ShardRouter, statementRefused, Unavailable } from "./shards";
import { NotFound } from "./users";
import { MediaStore } from "./media-store";
import { CachedMeta, CountersCache, countsOf, CountsRow, MediaCounts } from "./counters";
import { SessionUser } from "./sessions";
import { readyReader, readyRedis, redisCall } from "./redis";
import { RedisReader } from "./redis-reader";
import { fanOutToFollowers, feedKey, pushToFeeds } from "./fan-out";
import { LatLng } from "../../core/geo";
import { Forbidden } from "./comments";

/** Where a photo's location goes to be searchable: a job on the queue, or the index itself (app/api/search.ts). */
export interface SearchFeed {
    /** After the photo's row changed (uploaded with a location, or deleted): the index follows the row. */
    changed(mediaId: string, op: "upload" | "delete"): Promise<"queued" | "indexed">;
}

/** Where an upload hands its followers' fan-out, when the stack has a queue (app/jobs/fan-out-job.ts). */
export interface FanOutQueue {
    /** Rejects when no queue server took the job (the upload then fans out itself). */
    submit(ownerId: string, mediaId: string): Promise<void>;
}

/** What became of a photo's search entry: queued for the index job, written by the request, or neither (the reason logged). */
export type SearchReport = "queued" | "indexed" | "not indexed" | "not configured";

/** How an upload reached the followers' feeds: queued (the count is the job's to know), or done inline. */
export type FanOutReport = { readonly fanOut: "queued"; readonly fannedOutTo: null } | { readonly fanOut: "inline"; readonly fannedOutTo: number };

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
    /** Where it was taken, when the upload said. */
    readonly location?: LatLng;
}

/** A photo as the API shows it: with its counts and, for a signed-in viewer, whether they liked it. */
export interface Media extends MediaRecord {
    readonly likes: number;
    readonly comments: number;
    readonly viewerHasLiked?: boolean;
}

interface MediaRow extends CountsRow {
    id: string; user_id: string; username: string | null; object_key: string; content_type: string; bytes: number; caption: string; created_at: Date;
    latitude: number | null; longitude: number | null;
    viewer_liked: boolean | null;
}

const mediaKey = (id: string) => `media:${id}`;

/** A photo as shown: its fixed fields, its counts, and whether the viewer liked it when there is a viewer. */
export const withCounts = (record: MediaRecord, counts: MediaCounts, viewerHasLiked?: boolean): Media =>
    ({ ...record, likes: counts.likes, comments: counts.comments, ...(viewerHasLiked === undefined ? {} : { viewerHasLiked }) });

/**
 * withCounts as JSON text, from the record's JSON text (JSON.stringify of a MediaRecord, as cached): the same
 * text JSON.stringify(withCounts(record, …)) gives, without parsing the record or building an object.
 */
export function mediaJson(recordJson: string, counts: MediaCounts, viewerHasLiked?: boolean): string {
    const liked = viewerHasLiked === undefined ? "" : `,"viewerHasLiked":${viewerHasLiked}`;
    return `${recordJson.slice(0, -1)},"likes":${counts.likes},"comments":${counts.comments}${liked}}`;
}

/** Does this cached text look like the record of photo `id` (a JSON object that starts with its id)? */
const isRecordOf = (text: string, id: string) => text.startsWith(`{"id":"${id}",`) && text.endsWith("}");

/** The logical shard of a photo's ID; NotFound when this stack has no such logical shard. */
export function photoShard(shards: ShardRouter, mediaId: bigint): number {
    const shard = shards.knownLogicalShardOf(mediaId);
    if (shard === undefined) throw new NotFound(`no media ${mediaId}`);
    return shard;
}

export class Feeds {
    constructor(
        private readonly shards: ShardRouter,
        private readonly store: MediaStore,
        private readonly redis: Redis | undefined,
        private readonly reader: RedisReader | undefined,
        private readonly cache: MemcachedPool | undefined,
        private readonly counters: CountersCache,
        private readonly mediaBaseUrl: string,
        private readonly queue?: FanOutQueue,
        private readonly onQueueFailure: (e: Error) => void = () => undefined,
        private readonly search?: SearchFeed,
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
            ...(r.latitude !== null && r.latitude !== undefined && r.longitude !== null ? { location: { latitude: r.latitude, longitude: r.longitude } } : {}),
        };
    }

    /**
     * Store the bytes, record the row on the owner's shard, push the ID onto the owner's feed and the
     * followers'. With a queue, the followers' fan-out is a job and the upload answers without waiting for
     * it; when no queue server takes the job, or there is no queue, the upload fans out itself.
     */
    async upload(owner: SessionUser, body: Buffer, contentType: string, ext: string, caption: string, location?: LatLng): Promise<{ media: Media; search?: SearchReport } & FanOutReport> {
        const redis = readyRedis(this.redis);
        const shard = this.shards.logicalShardOfId(BigInt(owner.id));
        const s = this.shards.schema(shard);
        const key = `photos/${owner.id}/${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}.${ext}`;
        try {
            await this.store.put(key, body, contentType);
        } catch (e) {
            throw new Unavailable(this.store.name, e as Error);
        }
        // Without a queue, the row and the owner's followers (on the same shard) come in one statement.
        const followersColumn = this.queue ? "" : `, ARRAY(SELECT follower_id::text FROM ${s}.followers WHERE followee_id = $1) AS followers`;
        let row: MediaRow & { followers?: string[] };
        try {
            [row] = await this.shards.query<MediaRow & { followers?: string[] }>(shard, `
                WITH m AS (INSERT INTO ${s}.media (user_id, object_key, content_type, bytes, caption, latitude, longitude) VALUES ($1, $2, $3, $4, $5, $7, $8) RETURNING *)
                SELECT m.*, $6::text AS username${followersColumn} FROM m`,
                [owner.id, key, contentType, body.length, caption, owner.username, location?.latitude ?? null, location?.longitude ?? null]);
        } catch (e) {
            // No row will ever name these bytes: remove them. Where the INSERT may have committed (a connection
            // lost mid-statement), they stay: a photo's row must never lack its bytes.
            if (statementRefused(e)) await this.store.remove(key).catch((err: Error) => console.error(`upload: ${key} is left without a row: ${err.message}`));
            throw e;
        }
        const record = this.toRecord(row);
        const followerFeeds = (row.followers ?? []).map(feedKey);
        await Promise.all([
            pushToFeeds(redis, [feedKey(owner.id), ...followerFeeds], record.id),
            this.cache?.set(mediaKey(record.id), JSON.stringify(record), CACHE_TTL_SECONDS),
            this.counters.storeCounts(record.id, { likes: 0, comments: 0, version: 0 }),
        ]);
        const media = withCounts(record, { likes: 0, comments: 0, version: 0 }, false);
        const search = location ? { search: await this.searchChanged(record.id, "upload") } : {};
        if (!this.queue) return { media, ...search, fanOut: "inline", fannedOutTo: followerFeeds.length };
        try {
            await this.queue.submit(owner.id, record.id);
            return { media, ...search, fanOut: "queued", fannedOutTo: null };
        } catch (e) {
            // No queue server took it: deliver now. Idempotent, so a job that was queued after all adds nothing.
            this.onQueueFailure(e as Error);
            const done = await fanOutToFollowers(this.shards, redis, owner.id, record.id);
            return { media, ...search, fanOut: "inline", fannedOutTo: done.followers };
        }
    }

    /** Tell the search tier; a failure is reported, never a failed write (a reindex repairs the index). */
    private async searchChanged(mediaId: string, op: "upload" | "delete"): Promise<SearchReport> {
        if (!this.search) return "not configured";
        try {
            return await this.search.changed(mediaId, op);
        } catch (e) {
            console.error(`[${process.pid}] search: photo ${mediaId} was not indexed: ${(e as Error).message}`);
            return "not indexed";
        }
    }

    /**
     * Delete the owner's photo: its row, likes and comments in one transaction on its shard, then what
     * outlives the row elsewhere: the caches' copies, the owner's feed entry (followers' feeds skip an ID
     * that names no photo), the bytes in the store and the search index's entry.
     */
    async delete(owner: SessionUser, mediaId: bigint): Promise<{ search: SearchReport }> {
        const shard = photoShard(this.shards, mediaId);
        const s = this.shards.schema(shard);
        const id = String(mediaId);
        const [row] = await this.shards.query<{ user_id: string; object_key: string | null }>(shard, `
            WITH target AS (SELECT id, user_id, object_key FROM ${s}.media WHERE id = $1 FOR UPDATE),
                 gone AS (DELETE FROM ${s}.media m USING target t WHERE m.id = t.id AND t.user_id = $2 RETURNING m.object_key),
                 likes AS (DELETE FROM ${s}.likes WHERE media_id = $1 AND EXISTS (SELECT FROM gone)),
                 comments AS (DELETE FROM ${s}.comments WHERE media_id = $1 AND EXISTS (SELECT FROM gone))
            SELECT t.user_id, (SELECT object_key FROM gone) AS object_key FROM target t`, [id, owner.id]);
        if (!row) throw new NotFound(`no media ${id}`);
        if (row.object_key === null) throw new Forbidden(`user ${owner.id} cannot delete the photo of user ${row.user_id}`);
        await Promise.all([
            this.cache?.delete(mediaKey(id)),
            this.counters.forget(id),
            this.redis?.lrem(feedKey(owner.id), 0, id).catch(() => undefined),
            this.store.remove(row.object_key).catch((e: Error) => console.error(`[${process.pid}] media: the bytes of deleted photo ${id} (${row.object_key}) were not removed: ${e.message}`)),
        ]);
        return { search: await this.searchChanged(id, "delete") };
    }

    /** One photo, as JSON text. */
    async get(id: bigint, viewer?: string): Promise<string> {
        const { items: [media] } = await this.hydrate([String(id)], viewer);
        if (!media) throw new NotFound(`no media ${id}`);
        return media;
    }

    /** The IDs on a user's feed, newest first, up to `limit` (Redis away is a rejection, never a throw). */
    async feedIds(userId: string, limit: number): Promise<string[]> {
        const reader = readyReader(this.reader);
        return redisCall(() => reader.lrange(`feed:${userId}`, 0, limit - 1));
    }

    /** The viewer's feed page of these IDs (from feedIds), as the JSON text of { media, cacheHits }. */
    async feedPage(viewer: SessionUser, ids: readonly string[]): Promise<string> {
        const { items, cacheHits } = await this.hydrate(ids, viewer.id);
        return `{"media":[${items.join(",")}],"cacheHits":${cacheHits}}`;
    }

    /**
     * Photos by ID as JSON text, in the given order (IDs that name no photo are left out). Both caches are
     * asked at once; a photo either lacks comes from its shard, one query per logical shard, and fills both.
     * A cached record is JSON already: the counts are spliced onto it, so a cached photo is never parsed.
     */
    private async hydrate(ids: readonly string[], viewer?: string): Promise<{ items: string[]; cacheHits: number; found: Map<string, string> }> {
        const [records, metas] = await Promise.all([
            this.cache ? this.cache.getMultiText(ids.map(mediaKey)) : Promise.resolve(new Map<string, string>()),
            this.counters.read(ids, viewer),
        ]);
        const found = new Map<string, string>();
        const byShard = new Map<number, string[]>();
        for (const id of ids) {
            const cached = records.get(mediaKey(id));
            const meta: CachedMeta | undefined = metas.get(id);
            if (cached !== undefined && isRecordOf(cached, id) && meta?.counts && (viewer === undefined || meta.liked !== undefined)) {
                found.set(id, mediaJson(cached, meta.counts, viewer === undefined ? undefined : meta.liked));
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
                const record = JSON.stringify(this.toRecord(row));
                const counts = countsOf(row);
                const id = String(row.id);
                found.set(id, mediaJson(record, counts, viewer === undefined ? undefined : row.viewer_liked === true));
                await Promise.all([
                    records.has(mediaKey(id)) ? undefined : this.cache?.set(mediaKey(id), record, CACHE_TTL_SECONDS),
                    this.counters.storeCounts(id, counts),
                    viewer === undefined ? undefined : this.counters.fillLiked(id, viewer, row.viewer_liked === true),
                ]);
            }));
        }));
        const items: string[] = [];
        for (const id of ids) {
            const item = found.get(id);
            if (item !== undefined) items.push(item);
        }
        return { items, cacheHits: records.size, found };
    }

    /** Search results as JSON text: each hit's photo (hydrated like a feed) with its distance, in the hits' order. */
    async searchPage(hits: readonly { mediaId: string; distanceM: number }[], viewer?: string): Promise<string> {
        const { found } = await this.hydrate(hits.map((h) => h.mediaId), viewer);
        // A hit whose photo is gone (deleted, its index job not run yet) is left out.
        const items = hits.flatMap((h) => {
            const item = found.get(h.mediaId);
            return item === undefined ? [] : [`${item.slice(0, -1)},"distance":${Math.round(h.distanceM * 10) / 10}}`];
        });
        return `{"media":[${items.join(",")}]}`;
    }
}
