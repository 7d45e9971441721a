/**
 * Rebuild the search index from the shards, while it serves: every photo with a location is written again
 * (in ID order per logical shard, BATCH rows a statement, as upserts, so each entry is always either its old
 * or its new self and searches never see a missing one), then entries not written since the rebuild began
 * are deleted (photos gone, or that lost their location, while the index missed it). An `index` job running
 * meanwhile stamps its entry too, so nothing it writes is swept.
 */
import { SearchIndex } from "../api/search";
import { ShardRouter } from "../api/shards";

export const REINDEX_BATCH = 1000;

export interface ReindexReport {
    readonly logicalShards: number;
    readonly indexed: number;
    readonly removed: number;
    readonly seconds: number;
}

interface Row { id: string; user_id: string; latitude: number; longitude: number; created_at: Date }

export async function reindexFromShards(shards: ShardRouter, index: SearchIndex, onProgress: (line: string) => void = () => undefined): Promise<ReindexReport> {
    const started = Date.now();
    const since = await index.now();
    let indexed = 0;
    for (let shard = 0; shard < shards.logicalShards; shard++) {
        let after = "0";
        for (;;) {
            const rows = await shards.query<Row>(shard, `
                SELECT id, user_id, latitude, longitude, created_at FROM ${shards.schema(shard)}.media
                WHERE latitude IS NOT NULL AND longitude IS NOT NULL AND id > $1 ORDER BY id LIMIT ${REINDEX_BATCH}`, [after]);
            if (rows.length === 0) break;
            await index.upsertMany(rows.map((r) => ({ mediaId: String(r.id), userId: String(r.user_id), location: { latitude: r.latitude, longitude: r.longitude }, takenAt: r.created_at })));
            indexed += rows.length;
            after = String(rows[rows.length - 1].id);
            if (rows.length < REINDEX_BATCH) break;
        }
        if ((shard + 1) % 256 === 0) onProgress(`reindex: ${shard + 1} of ${shards.logicalShards} logical shards, ${indexed} photos`);
    }
    const removed = await index.removeNotIndexedSince(since);
    return { logicalShards: shards.logicalShards, indexed, removed, seconds: (Date.now() - started) / 1000 };
}
