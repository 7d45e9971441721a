/**
 * The shard directory, read live from a file: on a host, the copy that instagram-shard-directory-sync keeps
 * of its SSM parameter (one SSM reader per host, not one per worker); on the one-machine stack, the stack's
 * own directory file. Re-read every few seconds, so the app routes by a change (a move's flip, a promotion)
 * without a restart or a new host. Until the first good read, and whenever a read fails, the app keeps the
 * directory it has (at boot: the shard map from its environment); a file that fails or does not parse is
 * reported by /readyz, never half-applied.
 */
import * as fs from "fs";
import { parseShardDirectory, ShardDirectory } from "../../core/shard-directory";
import { ConfigError } from "../../core/config";
import { ApiConfig } from "./config";
import { ShardRouter } from "./shards";

export interface DirectorySourceOptions {
    /** Absolute path of the directory's JSON. */
    readonly file: string;
    /** What to route by until the first read (the environment's shard map). */
    readonly initial?: ShardDirectory;
    readonly refreshMs: number;
}

export class DirectorySource {
    private directory?: ShardDirectory;
    private text?: string;
    private lastProblem?: string;
    private timer?: NodeJS.Timeout;
    private inFlight?: Promise<void>;

    constructor(private readonly options: DirectorySourceOptions) {
        this.directory = options.initial;
    }

    /** The directory to route by now (undefined only before any is known). */
    current(): ShardDirectory | undefined {
        return this.directory;
    }

    /** Why the last read failed, while it does. */
    problem(): string | undefined {
        return this.lastProblem;
    }

    /** Read now, then every refreshMs; the timer does not keep the process alive. */
    start(): Promise<void> {
        const first = this.refresh();
        this.timer = setInterval(() => void this.refresh(), this.options.refreshMs);
        this.timer.unref();
        return first;
    }

    stop(): void {
        if (this.timer) clearInterval(this.timer);
    }

    /** One read; concurrent calls share it. A directory is taken only whole and valid. */
    refresh(): Promise<void> {
        this.inFlight ??= this.read().finally(() => (this.inFlight = undefined));
        return this.inFlight;
    }

    private async read(): Promise<void> {
        const where = `the shard directory (${this.options.file})`;
        try {
            const text = await fs.promises.readFile(this.options.file, "utf8");
            if (text !== this.text) {
                this.directory = parseShardDirectory(text, where);
                this.text = text;
            }
            this.lastProblem = undefined;
        } catch (e) {
            this.lastProblem = e instanceof ConfigError ? e.problems.join("; ") : `${where} could not be read: ${(e as Error).message}`;
        }
    }
}

/**
 * The shard router for this config: routing starts from the environment's map and follows the live directory
 * (when the environment names its file) from its first read on. The caller starts the directory's reads.
 */
export function shardRouting(config: ApiConfig, logicalShards: number, fixed: NonNullable<ApiConfig["directory"]>): { shards: ShardRouter; directory?: DirectorySource } {
    const directory = config.directoryFile
        ? new DirectorySource({ file: config.directoryFile, initial: fixed, refreshMs: config.directoryRefreshMs })
        : undefined;
    const shards = new ShardRouter({ ...config, logicalShards }, () => directory?.current() ?? fixed, directory && (() => directory.refresh()));
    return { shards, directory };
}
