/**
 * Likes, on the photo's shard (its owner's). One statement inserts or deletes the like and moves the
 * photo's counter by exactly what it changed: concurrent likes serialize on the photo's row, a repeated like
 * inserts nothing (ON CONFLICT), so the count is exact under any interleaving.
 */
import { ShardRouter } from "./shards";
import { NotFound } from "./users";
import { CountersCache, countsOf, CountsRow } from "./counters";
import { photoShard } from "./feed";
import { Activity } from "./activity";
import { SessionUser } from "./sessions";

export interface LikeState {
    readonly likes: number;
    readonly comments: number;
    readonly viewerHasLiked: boolean;
}

interface LikeRow extends CountsRow { user_id: string; changed: string }

export class Likes {
    constructor(private readonly shards: ShardRouter, private readonly counters: CountersCache, private readonly activity: Activity) {}

    async like(viewer: SessionUser, mediaId: bigint): Promise<LikeState> {
        const shard = photoShard(this.shards, mediaId);
        const s = this.shards.schema(shard);
        const [row] = await this.shards.query<LikeRow>(shard, `
            WITH photo AS (SELECT id FROM ${s}.media WHERE id = $1),
                 added AS (INSERT INTO ${s}.likes (media_id, user_id) SELECT id, $2 FROM photo ON CONFLICT DO NOTHING RETURNING 1),
                 n AS (SELECT count(*) AS changed FROM added)
            UPDATE ${s}.media SET like_count = like_count + n.changed, counts_version = counts_version + n.changed FROM n
            WHERE id = $1 RETURNING user_id, like_count, comment_count, counts_version, n.changed`, [String(mediaId), viewer.id]);
        return this.after(viewer, mediaId, row, true);
    }

    async unlike(viewer: SessionUser, mediaId: bigint): Promise<LikeState> {
        const shard = photoShard(this.shards, mediaId);
        const s = this.shards.schema(shard);
        const [row] = await this.shards.query<LikeRow>(shard, `
            WITH removed AS (DELETE FROM ${s}.likes WHERE media_id = $1 AND user_id = $2 RETURNING 1),
                 n AS (SELECT count(*) AS changed FROM removed)
            UPDATE ${s}.media SET like_count = like_count - n.changed, counts_version = counts_version + n.changed FROM n
            WHERE id = $1 RETURNING user_id, like_count, comment_count, counts_version, n.changed`, [String(mediaId), viewer.id]);
        return this.after(viewer, mediaId, row, false);
    }

    private async after(viewer: SessionUser, mediaId: bigint, row: LikeRow | undefined, liked: boolean): Promise<LikeState> {
        if (!row) throw new NotFound(`no media ${mediaId}`);
        const counts = countsOf(row);
        await Promise.all([this.counters.storeCounts(String(mediaId), counts), this.counters.setLiked(String(mediaId), viewer.id, liked)]);
        if (liked && Number(row.changed) > 0) await this.activity.record(String(row.user_id), { type: "like", actor: viewer, mediaId: String(mediaId) });
        return { likes: counts.likes, comments: counts.comments, viewerHasLiked: liked };
    }
}
