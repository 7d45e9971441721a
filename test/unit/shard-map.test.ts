import { describe, expect, test } from "vitest";
import { physicalShardOf, shardMap, shardSchema } from "../../core/shard-map";

describe("shard map", () => {
    test("Instagram's worked example: 2000 logical shards on 12 hosts", () => {
        const map = shardMap(2000, 12);
        expect(map[0]).toEqual({ physicalShard: 0, firstLogicalShard: 0, lastLogicalShard: 166 });
        expect(map[11]).toEqual({ physicalShard: 11, firstLogicalShard: 1834, lastLogicalShard: 1999 });
    });

    test("every logical shard has exactly one physical shard, in contiguous blocks of near-equal size, for many shapes", () => {
        for (const physical of [1, 2, 3, 5, 7, 12, 64, 128]) {
            for (const logical of [physical, physical + 1, 64, 1000, 2000, 2048, 8191, 8192].filter((l) => l >= physical)) {
                const map = shardMap(logical, physical);
                expect(map).toHaveLength(physical);
                expect(map[0].firstLogicalShard).toBe(0);
                expect(map[physical - 1].lastLogicalShard).toBe(logical - 1);
                const sizes = map.map((r) => r.lastLogicalShard - r.firstLogicalShard + 1);
                expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
                for (let p = 1; p < physical; p++) expect(map[p].firstLogicalShard).toBe(map[p - 1].lastLogicalShard + 1);
                for (const range of map) {
                    for (const l of [range.firstLogicalShard, range.lastLogicalShard]) {
                        expect(physicalShardOf(l, logical, physical)).toBe(range.physicalShard);
                    }
                }
            }
        }
    });

    test("rejects impossible shapes and out-of-range shards", () => {
        expect(() => shardMap(2, 3)).toThrow(/physicalShards \(3\) <= logicalShards \(2\)/);
        expect(() => shardMap(10, 0)).toThrow();
        expect(() => physicalShardOf(10, 10, 2)).toThrow(/outside 0..9/);
        expect(() => physicalShardOf(-1, 10, 2)).toThrow();
    });

    test("schema names sort in shard order", () => {
        expect(shardSchema(7)).toBe("shard0007");
        expect(shardSchema(8191)).toBe("shard8191");
    });
});
