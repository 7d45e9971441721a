/**
 * Comments, on the photo's shard beside the row whose comment count they move (in the same statement). A
 * list is newest first and pages by the last ID seen (`before`): a comment added while a client pages has a
 * newer ID and never shifts a page, so pages have no gaps and no repeats. The author or the photo's owner may
 * delete a comment.
 */
import { ShardRouter } from "./shards";
import { NotFound } from "./users";
import { CountersCache, countsOf, CountsRow } from "./counters";
import { photoShard } from "./feed";
import { Activity } from "./activity";
import { SessionUser } from "./sessions";

export const MAX_COMMENT_CHARS = 2200;

export interface Comment {
    readonly id: string;
    readonly mediaId: string;
    readonly user: { readonly id: string; readonly username: string };
    readonly text: string;
    readonly createdAt: string;
}

interface CommentRow { id: string; media_id: string; user_id: string; username: string; text: string; created_at: Date }
const toComment = (r: CommentRow): Comment => ({ id: String(r.id), mediaId: String(r.media_id), user: { id: String(r.user_id), username: r.username }, text: r.text, createdAt: new Date(r.created_at).toISOString() });

export class Forbidden extends Error {}

export class Comments {
    constructor(private readonly shards: ShardRouter, private readonly counters: CountersCache, private readonly activity: Activity) {}

    async create(viewer: SessionUser, mediaId: bigint, text: string): Promise<Comment> {
        const shard = photoShard(this.shards, mediaId);
        const s = this.shards.schema(shard);
        const [row] = await this.shards.query<CommentRow & CountsRow & { owner_id: string }>(shard, `
            WITH photo AS (UPDATE ${s}.media SET comment_count = comment_count + 1, counts_version = counts_version + 1
                           WHERE id = $1 RETURNING id, user_id, like_count, comment_count, counts_version),
                 added AS (INSERT INTO ${s}.comments (media_id, user_id, username, text) SELECT id, $2, $3, $4 FROM photo
                           RETURNING id, media_id, user_id, username, text, created_at)
            SELECT added.*, photo.user_id AS owner_id, photo.like_count, photo.comment_count, photo.counts_version FROM added, photo`,
            [String(mediaId), viewer.id, viewer.username, text]);
        if (!row) throw new NotFound(`no media ${mediaId}`);
        await this.counters.storeCounts(String(mediaId), countsOf(row));
        const comment = toComment(row);
        await this.activity.record(String(row.owner_id), { type: "comment", actor: viewer, mediaId: comment.mediaId, commentId: comment.id, text });
        return comment;
    }

    /** Delete a comment the viewer wrote, or one on the viewer's photo; 403 for anyone else's, 404 for none. */
    async delete(viewer: SessionUser, mediaId: bigint, commentId: bigint): Promise<void> {
        const shard = photoShard(this.shards, mediaId);
        const s = this.shards.schema(shard);
        const [row] = await this.shards.query<CountsRow & { removed: string }>(shard, `
            WITH removed AS (DELETE FROM ${s}.comments c WHERE c.id = $2 AND c.media_id = $1
                             AND (c.user_id = $3 OR EXISTS (SELECT FROM ${s}.media m WHERE m.id = $1 AND m.user_id = $3)) RETURNING 1),
                 n AS (SELECT count(*) AS removed FROM removed)
            UPDATE ${s}.media SET comment_count = comment_count - n.removed, counts_version = counts_version + n.removed FROM n
            WHERE id = $1 RETURNING like_count, comment_count, counts_version, n.removed`, [String(mediaId), String(commentId), viewer.id]);
        if (row && Number(row.removed) > 0) {
            await this.counters.storeCounts(String(mediaId), countsOf(row));
            return;
        }
        const [exists] = row ? await this.shards.query(shard, `SELECT 1 FROM ${s}.comments WHERE id = $1 AND media_id = $2`, [String(commentId), String(mediaId)]) : [];
        if (exists) throw new Forbidden("only its author or the photo's owner may delete a comment");
        throw new NotFound(row ? `no comment ${commentId} on media ${mediaId}` : `no media ${mediaId}`);
    }

    /** Newest first: up to `limit` comments older than `before` (all, without it), and the cursor of the next page. */
    async list(mediaId: bigint, limit: number, before?: bigint): Promise<{ comments: Comment[]; next: string | null }> {
        const shard = photoShard(this.shards, mediaId);
        const s = this.shards.schema(shard);
        const [photo, rows] = await Promise.all([
            this.shards.query(shard, `SELECT 1 FROM ${s}.media WHERE id = $1`, [String(mediaId)]),
            this.shards.query<CommentRow>(shard, `SELECT id, media_id, user_id, username, text, created_at FROM ${s}.comments
                WHERE media_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`, [String(mediaId), before === undefined ? null : String(before), limit + 1]),
        ]);
        if (photo.length === 0) throw new NotFound(`no media ${mediaId}`);
        const page = rows.slice(0, limit).map(toComment);
        return { comments: page, next: rows.length > limit ? page[page.length - 1].id : null };
    }
}
