/**
 * Instagram's 64-bit IDs ("Sharding & IDs at Instagram", 2011): 41 bits of milliseconds since a custom
 * epoch, 13 bits of logical shard, 10 bits of a per-table sequence mod 1024. The shard hosts' next_id()
 * (cloud-init/configs/postgres-sql.ts) makes them; the app decodes them to find a row's shard; the config
 * caps logicalShards at what the shard field holds. One definition for all three.
 */

/** Instagram's published epoch: 2011-08-24T21:07:01.721Z. IDs are milliseconds since then. */
export const ID_EPOCH_MS = 1314220021721;
export const ID_SHARD_BITS = 13;
export const ID_SEQUENCE_BITS = 10;
/** How many logical shards the ID's shard field can name (8192). */
export const MAX_LOGICAL_SHARDS = 2 ** ID_SHARD_BITS;
/** The per-table sequence is taken modulo this (1024). */
export const ID_SEQUENCE_MODULUS = 2 ** ID_SEQUENCE_BITS;

export interface DecodedId {
    readonly millis: number;
    readonly logicalShard: number;
    readonly sequence: number;
}

/** Decode an ID into its parts. */
export function decodeId(id: bigint): DecodedId {
    return {
        millis: Number(id >> BigInt(ID_SHARD_BITS + ID_SEQUENCE_BITS)) + ID_EPOCH_MS,
        logicalShard: Number((id >> BigInt(ID_SEQUENCE_BITS)) & BigInt(MAX_LOGICAL_SHARDS - 1)),
        sequence: Number(id & BigInt(ID_SEQUENCE_MODULUS - 1)),
    };
}
