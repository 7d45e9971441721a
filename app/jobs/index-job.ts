/**
 * The `index` job: the search tier follows a photo's row. An upload with a location and a delete each queue
 * one (unique per photo and operation, so the delete's job is never merged into the upload's while that
 * runs); the worker reads the row from its shard at run time and writes what it finds: the entry, or its
 * removal when the row is gone or has no location. Run twice, or out of order, it ends the same way.
 * Without job servers (or when none takes the job) the request does the same itself.
 */
import { GearmanClient } from "./gearman/client";
import { Job } from "./gearman/worker";
import { SearchFeed } from "../api/feed";
import { SearchIndex } from "../api/search";
import { ShardRouter } from "../api/shards";

export const INDEX_FUNCTION = "index";

const ID = /^\d{1,19}$/;

/** Make the index's entry for a photo match its row on the shard; what was done. */
export async function indexFromShard(shards: ShardRouter, index: SearchIndex, mediaId: string): Promise<"indexed" | "removed"> {
    const shard = shards.knownLogicalShardOf(BigInt(mediaId));
    if (shard !== undefined) {
        const [row] = await shards.query<{ user_id: string; latitude: number | null; longitude: number | null; created_at: Date }>(shard,
            `SELECT user_id, latitude, longitude, created_at FROM ${shards.schema(shard)}.media WHERE id = $1`, [mediaId]);
        if (row && row.latitude !== null && row.longitude !== null) {
            await index.upsert({ mediaId, userId: String(row.user_id), location: { latitude: row.latitude, longitude: row.longitude }, takenAt: row.created_at });
            return "indexed";
        }
    }
    await index.remove(mediaId);
    return "removed";
}

/** Where uploads and deletes send their photo to be (re)indexed. */
export class IndexFeed implements SearchFeed {
    constructor(private readonly shards: ShardRouter, private readonly index: SearchIndex, private readonly client?: GearmanClient, private readonly onQueueFailure: (e: Error) => void = () => undefined) {}

    async changed(mediaId: string, op: "upload" | "delete"): Promise<"queued" | "indexed"> {
        if (this.client) {
            try {
                await this.client.submitBackground(INDEX_FUNCTION, `index:${mediaId}:${op}`, JSON.stringify({ mediaId }));
                return "queued";
            } catch (e) {
                this.onQueueFailure(e as Error);
            }
        }
        await indexFromShard(this.shards, this.index, mediaId);
        return "indexed";
    }
}

export function indexHandler(shards: ShardRouter, index: SearchIndex): (job: Job) => Promise<string> {
    return async (job) => {
        let mediaId: unknown;
        try {
            mediaId = (JSON.parse(job.data.toString("utf8")) as { mediaId?: unknown }).mediaId;
        } catch {
            throw new Error("index: the job's data is not JSON");
        }
        if (typeof mediaId !== "string" || !ID.test(mediaId)) throw new Error(`index: expected {"mediaId": "<id>"}, got ${job.data.toString("utf8").slice(0, 200)}`);
        return JSON.stringify({ mediaId, done: await indexFromShard(shards, index, mediaId) });
    };
}
