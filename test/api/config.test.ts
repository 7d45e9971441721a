/** The API's configuration from its environment: the shard map is the routing table, checked for coverage. */
import { describe, expect, test } from "vitest";
import { loadApiConfig } from "../../app/api/config";
import { physicalShardIn } from "../../core/shard-directory";

const base = { INSTAGRAM_LOGICAL_SHARDS: "8", INSTAGRAM_PGBOUNCER_HOSTS: "127.0.0.1:6432,127.0.0.2:6432,127.0.0.3:6432" };
const map = (ranges: [number, number, number][]) => JSON.stringify(ranges.map(([physicalShard, firstLogicalShard, lastLogicalShard]) => ({ physicalShard, firstLogicalShard, lastLogicalShard })));

describe("API config: the shard map", () => {
    test("routes by the map, not by a formula over the counts: a shard may hold several ranges, or none", () => {
        const config = loadApiConfig({ ...base, INSTAGRAM_SHARD_MAP: map([[0, 0, 3], [1, 4, 5], [0, 6, 7]]) });
        expect(config.problems).toEqual([]);
        expect([0, 3, 4, 5, 6, 7].map((l) => physicalShardIn(config.directory!, l))).toEqual([0, 0, 1, 1, 0, 0]);
        expect(config.directory!.physicalShards).toHaveLength(3); // physical shard 2 holds nothing yet
    });

    test("a map with a gap, an overlap or a shard with no pgbouncer host is a problem naming the variable, and routes nothing", () => {
        for (const [ranges, message] of [
            [[[0, 0, 3], [1, 5, 7]], /INSTAGRAM_SHARD_MAP .*range 5-7 starts at 5, but logical shard 4 comes next/],
            [[[0, 0, 4], [1, 4, 7]], /range 4-7 starts at 4, but logical shard 5 comes next/],
            [[[0, 0, 3], [5, 4, 7]], /range 4-7 is on physical shard 5, which the directory does not list/],
            [[[0, 0, 6]], /the ranges end at 6, but there are 8 logical shards/],
        ] as const) {
            const config = loadApiConfig({ ...base, INSTAGRAM_SHARD_MAP: map(ranges as unknown as [number, number, number][]) });
            expect(config.problems.join("\n"), JSON.stringify(ranges)).toMatch(message);
            expect(config.directory).toBeUndefined();
        }
    });
});

describe("API config: the search tier", () => {
    test("the primary and its standby as host:port; a standby alone, or a bad address, is a problem naming the variable", () => {
        const both = loadApiConfig({ INSTAGRAM_SEARCH: "10.0.0.5:6432", INSTAGRAM_SEARCH_STANDBY: "10.0.1.5:6432" });
        expect(both.problems).toEqual(expect.not.arrayContaining([expect.stringMatching(/SEARCH/)]));
        expect([both.search, both.searchStandby]).toEqual([{ host: "10.0.0.5", port: 6432 }, { host: "10.0.1.5", port: 6432 }]);
        expect(loadApiConfig({ INSTAGRAM_SEARCH_STANDBY: "10.0.1.5:6432" }).problems).toContain("INSTAGRAM_SEARCH_STANDBY is set without INSTAGRAM_SEARCH: a standby serves beside its primary");
        expect(loadApiConfig({ INSTAGRAM_SEARCH: "10.0.0.5:6432", INSTAGRAM_SEARCH_STANDBY: "10.0.1.5:x" }).problems).toContain("INSTAGRAM_SEARCH_STANDBY=10.0.1.5:x: expected host:port");
    });
});
