/**
 * Instagram's sharding: thousands of logical shards (Postgres schemas) mapped in code onto few physical
 * servers. Logical shards are spread in contiguous blocks, so rebalancing moves whole schemas between hosts
 * and never re-buckets a row. This one pure function is shared by the Pulumi program (a stack output), the
 * host roles (which schemas to create) and the app (where to send a query).
 */
import { createHash } from "crypto";

export interface ShardRange {
    readonly physicalShard: number;
    readonly firstLogicalShard: number;
    readonly lastLogicalShard: number;
}

function checkCounts(logicalShards: number, physicalShards: number): void {
    if (!Number.isInteger(logicalShards) || !Number.isInteger(physicalShards) || physicalShards < 1 || logicalShards < physicalShards) {
        throw new Error(`a shard map needs whole numbers with 1 <= physicalShards (${physicalShards}) <= logicalShards (${logicalShards})`);
    }
}

export function physicalShardOf(logicalShard: number, logicalShards: number, physicalShards: number): number {
    checkCounts(logicalShards, physicalShards);
    if (!Number.isInteger(logicalShard) || logicalShard < 0 || logicalShard >= logicalShards) {
        throw new Error(`logical shard ${logicalShard} is outside 0..${logicalShards - 1}`);
    }
    return Math.floor((logicalShard * physicalShards) / logicalShards);
}

export function shardMap(logicalShards: number, physicalShards: number): ShardRange[] {
    checkCounts(logicalShards, physicalShards);
    return Array.from({ length: physicalShards }, (_, p) => ({
        physicalShard: p,
        firstLogicalShard: Math.ceil((p * logicalShards) / physicalShards),
        lastLogicalShard: Math.ceil(((p + 1) * logicalShards) / physicalShards) - 1,
    }));
}

/** A user's logical shard, fixed at signup: a hash of the username, so a lookup by name needs no directory. */
export function logicalShardForUsername(username: string, logicalShards: number): number {
    return createHash("md5").update(username).digest().readUInt32BE(0) % logicalShards;
}

/** A logical shard's schema is this prefix and its number, zero-padded to SHARD_SCHEMA_DIGITS. */
export const SHARD_SCHEMA_PREFIX = "shard";
export const SHARD_SCHEMA_DIGITS = 4;

/** Schema name of a logical shard, as the roles create it and the app queries it. */
export function shardSchema(logicalShard: number): string {
    return `${SHARD_SCHEMA_PREFIX}${String(logicalShard).padStart(SHARD_SCHEMA_DIGITS, "0")}`;
}
