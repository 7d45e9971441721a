/**
 * The one-machine stack's shard directory: DIR/shard-directory.json stands in for the SSM parameter, read
 * and reconciled with the config through the same core code (core/shard-directory.ts) before `up` starts
 * anything, so a config change that would move or re-bucket data is refused here too.
 */
import * as fs from "fs";
import * as path from "path";
import { formatShardDirectory, parseShardDirectory, ShardDirectory } from "../core/shard-directory";
import { writeFileAs } from "./context";

export const directoryPath = (dir: string) => path.join(dir, "shard-directory.json");

/** The directory the stack in `dir` has, or undefined before its first `up`. */
export function readLocalDirectory(dir: string): ShardDirectory | undefined {
    const file = directoryPath(dir);
    if (!fs.existsSync(file)) return undefined;
    return parseShardDirectory(fs.readFileSync(file, "utf8"), file);
}

/** Written whole to a new file, then renamed over the old one: a reader sees the old or the new directory. */
export function writeLocalDirectory(dir: string, directory: ShardDirectory): void {
    const file = directoryPath(dir);
    writeFileAs(`${file}.tmp`, `${formatShardDirectory(directory)}\n`);
    fs.renameSync(`${file}.tmp`, file);
}
