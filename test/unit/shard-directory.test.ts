/** The shard directory: what a first deploy writes, what a config change may and may not do to it, and its checks. */
import { describe, expect, test } from "vitest";
import {
    directoryProblems, directoryShardMap, formatShardDirectory, initialDirectory, parseShardDirectory, physicalShardIn,
    describeDirectory, rangesOn, reconcileShardDirectory, ShardDirectory, withPrimaryAddresses, withPlacement, rangeOf, movesTouching,
} from "../../core/shard-directory";
import { moveProblems, parseLogicalRange } from "../../core/shard-move";
import { ConfigError } from "../../core/config";
import { physicalShardOf } from "../../core/shard-map";

const messages = (f: () => unknown): string[] => {
    try {
        f();
    } catch (e) {
        if (e instanceof ConfigError) return [...e.problems];
        throw e;
    }
    return [];
};

describe("shard directory", () => {
    test("a first deploy writes the shard map's blocks, every logical shard serving where the map puts it", () => {
        const d = initialDirectory(64, 3);
        expect(d.ranges.map((r) => [r.first, r.last, r.physicalShard, r.state])).toEqual([[0, 21, 0, "serving"], [22, 42, 1, "serving"], [43, 63, 2, "serving"]]);
        for (let l = 0; l < 64; l++) expect(physicalShardIn(d, l)).toBe(physicalShardOf(l, 64, 3));
        expect(reconcileShardDirectory(undefined, { logicalShards: 64, physicalShards: 3 })).toEqual(d);
        expect(directoryShardMap(d)).toEqual([
            { physicalShard: 0, firstLogicalShard: 0, lastLogicalShard: 21 },
            { physicalShard: 1, firstLogicalShard: 22, lastLogicalShard: 42 },
            { physicalShard: 2, firstLogicalShard: 43, lastLogicalShard: 63 },
        ]);
    });

    test("raising physicalShards keeps every assignment and adds empty physical shards", () => {
        const deployed = initialDirectory(2048, 2);
        const grown = reconcileShardDirectory(deployed, { logicalShards: 2048, physicalShards: 4 });
        expect(grown.ranges).toEqual(deployed.ranges);
        expect(grown.physicalShards.map((p) => p.physicalShard)).toEqual([0, 1, 2, 3]);
        expect(rangesOn(grown, 2)).toEqual([]);
        expect(rangesOn(grown, 3)).toEqual([]);
        for (const l of [0, 1023, 1024, 2047]) expect(physicalShardIn(grown, l)).toBe(physicalShardIn(deployed, l));
        // The same config again changes nothing.
        expect(reconcileShardDirectory(grown, { logicalShards: 2048, physicalShards: 4 })).toEqual(grown);
    });

    test("lowering physicalShards is refused while a removed shard holds or receives logical shards, and allowed for an empty one", () => {
        const deployed = initialDirectory(64, 2);
        expect(messages(() => reconcileShardDirectory(deployed, { logicalShards: 64, physicalShards: 1 }))).toEqual([
            expect.stringMatching(/^instagram:physicalShards = 1: physical shard 1 still holds logical shards 32-63; removing it would drop their data\. Keep instagram:physicalShards at 2/),
        ]);
        const grown = reconcileShardDirectory(deployed, { logicalShards: 64, physicalShards: 3 });
        expect(reconcileShardDirectory(grown, { logicalShards: 64, physicalShards: 2 })).toEqual(deployed);
        const receiving: ShardDirectory = { ...grown, ranges: [{ ...grown.ranges[0], state: "moving", movingTo: 2 }, grown.ranges[1]] };
        expect(messages(() => reconcileShardDirectory(receiving, { logicalShards: 64, physicalShards: 2 }))).toEqual([expect.stringMatching(/physical shard 2 still holds logical shards 0-31/)]);
    });

    test("changing logicalShards once deployed is refused, naming the deployed count and how to set it back", () => {
        expect(messages(() => reconcileShardDirectory(initialDirectory(64, 2), { logicalShards: 128, physicalShards: 2 }))).toEqual([
            expect.stringMatching(/^instagram:logicalShards = 128: the deployed shard directory has 64 logical shards, and changing the count would re-bucket every user.*pulumi config set instagram:logicalShards 64/),
        ]);
    });

    test("a deployed directory is checked: coverage, order, known shards, states, endpoints", () => {
        const ok = withPrimaryAddresses(initialDirectory(8, 2), (p) => `10.0.0.${p + 1}`);
        expect(parseShardDirectory(formatShardDirectory(ok), "d")).toEqual(ok);
        const bad = (patch: Partial<ShardDirectory>) => directoryProblems({ ...ok, ...patch }, "/instagram/dev/directory/shards");
        expect(bad({ format: 2 as 1 })).toEqual([expect.stringMatching(/format is 2, this program reads format 1/)]);
        expect(bad({ ranges: [{ first: 0, last: 2, physicalShard: 0, state: "serving" }, { first: 4, last: 7, physicalShard: 1, state: "serving" }] })).toEqual([expect.stringMatching(/range 4-7 starts at 4, but logical shard 3 comes next/)]);
        expect(bad({ ranges: [{ first: 0, last: 6, physicalShard: 0, state: "serving" }] })).toEqual([expect.stringMatching(/the ranges end at 6, but there are 8 logical shards/)]);
        expect(bad({ ranges: [{ first: 0, last: 7, physicalShard: 5, state: "serving" }] })).toEqual([expect.stringMatching(/range 0-7 is on physical shard 5, which the directory does not list/)]);
        expect(bad({ ranges: [{ first: 0, last: 7, physicalShard: 0, state: "moving" }] })).toEqual([expect.stringMatching(/range 0-7 is moving, to undefined/)]);
        expect(bad({ ranges: [{ first: 0, last: 7, physicalShard: 0, state: "lost" as "serving" }] })).toEqual([expect.stringMatching(/state "lost"/)]);
        expect(bad({ physicalShards: [{ physicalShard: 0, endpoint: "no port" }, { physicalShard: 1 }] })).toEqual([expect.stringMatching(/physical shard 0's endpoint "no port" is not host:port/)]);
        expect(messages(() => parseShardDirectory("{oops", "where"))).toEqual([expect.stringMatching(/^where: not JSON/)]);
        expect(directoryProblems([], "w")).toEqual(["w: not a JSON object"]);
    });

    test("lookups: a logical shard's physical shard, by binary search over ranges; outside the range throws", () => {
        const d: ShardDirectory = {
            format: 1,
            logicalShards: 10,
            ranges: [
                { first: 0, last: 2, physicalShard: 0, state: "serving" },
                { first: 3, last: 3, physicalShard: 2, state: "moving", movingTo: 1 },
                { first: 4, last: 9, physicalShard: 1, state: "serving" },
            ],
            physicalShards: [{ physicalShard: 0 }, { physicalShard: 1 }, { physicalShard: 2 }],
        };
        expect(directoryProblems(d, "d")).toEqual([]);
        expect([0, 2, 3, 4, 9].map((l) => physicalShardIn(d, l))).toEqual([0, 0, 2, 1, 1]);
        expect(describeDirectory(withPrimaryAddresses(d, (p) => `10.0.0.${p}`))).toEqual([
            "10 logical shards on 3 physical shards",
            "  physical 0  10.0.0.0:6432          0-2 (3, serving)",
            "  physical 1  10.0.0.1:6432          4-9 (6, serving), 3-3 arriving from 2",
            "  physical 2  10.0.0.2:6432          3-3 (1, moving to 1)",
        ]);
        expect(() => physicalShardIn(d, 10)).toThrow(/outside 0..9/);
    });

    test("a move's placement splits one logical shard out of its range and merges equal neighbours back", () => {
        const d = initialDirectory(16, 2);
        const moving = withPlacement(d, 3, { physicalShard: 0, state: "moving", movingTo: 1 });
        expect(moving.ranges).toEqual([
            { first: 0, last: 2, physicalShard: 0, state: "serving" },
            { first: 3, last: 3, physicalShard: 0, state: "moving", movingTo: 1 },
            { first: 4, last: 7, physicalShard: 0, state: "serving" },
            { first: 8, last: 15, physicalShard: 1, state: "serving" },
        ]);
        expect(directoryProblems(moving, "t")).toEqual([]);
        const back = withPlacement(moving, 3, { physicalShard: 0, state: "serving" });
        expect(back).toEqual(d);
        let flipped = d;
        for (let l = 4; l <= 7; l++) flipped = withPlacement(flipped, l, { physicalShard: 1, state: "serving" });
        expect(flipped.ranges).toEqual([{ first: 0, last: 3, physicalShard: 0, state: "serving" }, { first: 4, last: 15, physicalShard: 1, state: "serving" }]);
        expect(rangeOf(flipped, 4).physicalShard).toBe(1);
        expect(physicalShardIn(flipped, 3)).toBe(0);
    });

    test("a move request is checked against the directory before anything runs", () => {
        const d = withPrimaryAddresses(initialDirectory(16, 2), (p) => `10.0.0.${p}`);
        expect(parseLogicalRange("4-7", 16)).toEqual({ first: 4, last: 7 });
        expect(parseLogicalRange("9", 16)).toEqual({ first: 9, last: 9 });
        for (const [text, message] of [["7-4", "FIRST must not be above LAST"], ["3-16", "the stack has logical shards 0-15"], ["a-b", "is not FIRST-LAST"], ["-1", "is not FIRST-LAST"]]) {
            expect(() => parseLogicalRange(text, 16), text).toThrow(message);
        }
        expect(moveProblems(d, { range: { first: 0, last: 3 }, to: 1 })).toEqual([]);
        expect(moveProblems(d, { range: { first: 0, last: 3 }, to: 2 })).toEqual(["--to 2: the shard directory lists physical shards 0-1 (raise instagram:physicalShards and deploy to add one)"]);
        const elsewhere = withPlacement(withPrimaryAddresses(initialDirectory(16, 3), (p) => `10.0.0.${p}`), 2, { physicalShard: 0, state: "moving", movingTo: 2 });
        expect(moveProblems(elsewhere, { range: { first: 1, last: 3 }, to: 1 })).toEqual(["logical shard 2 is moving to physical shard 2: finish that move or roll it back first"]);
        expect(moveProblems(initialDirectory(16, 2), { range: { first: 0, last: 0 }, to: 1 })[0]).toContain("physical shard 1 has no endpoint");
    });

    test("a restore is told which moves under way touch the shard it rewinds: as source or as destination", () => {
        const d = initialDirectory(16, 3);
        expect(movesTouching(d, 0)).toEqual([]);
        const moving = withPlacement(d, 3, { physicalShard: 0, state: "moving", movingTo: 2 });
        expect(movesTouching(moving, 0)).toEqual(["3-3 (0 → 2)"]);
        expect(movesTouching(moving, 2)).toEqual(["3-3 (0 → 2)"]);
        expect(movesTouching(moving, 1)).toEqual([]);
    });
});
