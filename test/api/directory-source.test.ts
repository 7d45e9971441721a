/**
 * The live shard directory: the app re-reads its file every few seconds (on a host, the copy the sync
 * service keeps from SSM, tested in test/scripts/shard-directory-sync.test.ts); a bad or unreadable file is
 * reported and never replaces the good directory.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, test } from "vitest";
import { DirectorySource } from "../../app/api/directory-source";
import { formatShardDirectory, initialDirectory, physicalShardIn, ShardDirectory } from "../../core/shard-directory";
import { eventually } from "../harness/daemons";

const moved = (d: ShardDirectory): ShardDirectory => ({ ...d, ranges: [{ first: 0, last: 31, physicalShard: 1, state: "serving" }, { first: 32, last: 63, physicalShard: 1, state: "serving" }] });

describe("directory source: a file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "directory-"));
    const file = path.join(dir, "shard-directory.json");
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("starts from the environment's map, follows the file within a refresh, and keeps the last good one through a bad write", async () => {
        const initial = initialDirectory(64, 2);
        fs.writeFileSync(file, formatShardDirectory(initial));
        const source = new DirectorySource({ file, initial, refreshMs: 100 });
        await source.start();
        try {
            expect(physicalShardIn(source.current()!, 0)).toBe(0);
            fs.writeFileSync(`${file}.tmp`, formatShardDirectory(moved(initial)));
            fs.renameSync(`${file}.tmp`, file);
            await eventually(() => (physicalShardIn(source.current()!, 0) === 1 ? true : undefined), 3000, "the moved directory");
            fs.writeFileSync(file, '{"format":1,"logicalShards":64,"ranges":[]}');
            await eventually(() => source.problem(), 3000, "the bad directory reported");
            expect(source.problem()).toMatch(/ranges must be a non-empty list/);
            expect(physicalShardIn(source.current()!, 0)).toBe(1);
            fs.rmSync(file);
            await eventually(() => (/could not be read: ENOENT/.test(source.problem() ?? "") ? true : undefined), 3000, "the missing file reported");
            expect(physicalShardIn(source.current()!, 0)).toBe(1);
        } finally {
            source.stop();
        }
    });
});
