/**
 * The shard directory and the shard hosts as core/shard-move.ts drives them on AWS: the directory is the
 * stack's SSM parameter (each write checked against the version last read, so a change made by someone
 * else meanwhile stops the move instead of being overwritten), and each step is the shard role's
 * instagram-shard-move run by SSM Run Command on the host that serves as the physical shard's primary.
 */
import { formatShardDirectory, parseShardDirectory, ShardDirectory, shardDirectoryParameterName } from "../../core/shard-directory";
import { MoveDriver, MoveError } from "../../core/shard-move";
import { shellQuote } from "../../core/shell-quote";
import { scriptPath } from "../../cloud-init/scripts";
import { SHARD_ENV } from "../../cloud-init/roles/postgres";
import { Fleet, HostResult } from "./fleet";
import { DIRECTORY_ROUTING_BOUND_MS } from "../../core/app-contract";

export class StackDirectory {
    readonly name: string;
    private version?: number;
    private last?: ShardDirectory;

    constructor(private readonly fleet: Fleet) {
        this.name = shardDirectoryParameterName(fleet.stack);
    }

    /** The deployed directory; throws when the stack has none (not deployed in this account and region). */
    async read(): Promise<ShardDirectory> {
        const found = await this.fleet.getParameter(this.name);
        if (!found) throw new MoveError(`stack ${this.fleet.stack} has no shard directory here (SSM parameter ${this.name} does not exist): it is not deployed in this account and region`);
        this.version = found.version;
        this.last = parseShardDirectory(found.value, `the shard directory (SSM parameter ${this.name})`);
        return this.last;
    }

    /** The directory as last read (read() first). */
    current(): ShardDirectory {
        if (!this.last) throw new Error("the directory has not been read");
        return this.last;
    }

    /** Write it whole, only if nobody wrote it since our last read. */
    async write(next: ShardDirectory): Promise<void> {
        const now = await this.fleet.getParameter(this.name);
        if (!now || now.version !== this.version) {
            throw new MoveError(`the shard directory ${this.name} was changed by someone else (version ${this.version} → ${now?.version ?? "deleted"}) since this tool read it; nothing was written. Check \`shards status\`, then run the command again`);
        }
        this.version = await this.fleet.putParameter(this.name, formatShardDirectory(next));
        this.last = next;
    }
}

/** The host serving as a physical shard's primary: its primary host, or its standby host once promoted. */
export function primaryMember(d: ShardDirectory, physicalShard: number): "primary" | "standby" {
    return d.physicalShards[physicalShard]?.promotedStandby ? "standby" : "primary";
}

/** Exactly one host answered, or an error that says what SSM found. */
export function onlyHost(results: readonly HostResult[], what: string): HostResult {
    if (results.length === 1) return results[0];
    throw new MoveError(results.length === 0 ? `no running host matched ${what} (is it up, with the SSM agent online?)` : `${results.length} hosts matched ${what}: ${results.map((r) => r.name).join(", ")}`);
}

/** DIRECTORY_ROUTING_BOUND_MS.aws, or INSTAGRAM_OPS_ROUTING_BOUND_MS (tests; an app fleet with other intervals). */
function routingBoundMs(): number {
    const raw = process.env.INSTAGRAM_OPS_ROUTING_BOUND_MS;
    if (raw === undefined) return DIRECTORY_ROUTING_BOUND_MS.aws;
    if (!/^\d{1,6}$/.test(raw)) throw new MoveError(`INSTAGRAM_OPS_ROUTING_BOUND_MS=${raw}: expected milliseconds, 0 to 999999`);
    return Number(raw);
}

export function awsMoveDriver(fleet: Fleet, directory: StackDirectory, log: (line: string) => void = console.log): MoveDriver {
    return {
        readDirectory: () => directory.read(),
        async writeDirectory(next, reason) {
            await directory.write(next);
            log(`directory: ${reason}`);
        },
        async runStep(physicalShard, args) {
            const member = primaryMember(directory.current(), physicalShard);
            const tags = { Role: "shard", Shard: String(physicalShard), Member: member };
            const command = [scriptPath("shardMove"), SHARD_ENV, ...args].map(shellQuote).join(" ");
            const host = onlyHost(await fleet.run(fleet.targets(tags), [command], { comment: `instagram shards: ${args.slice(0, 2).join(" ")}`, timeoutSeconds: 3600 }), `Role=shard Shard=${physicalShard} Member=${member}`);
            return { code: host.code, stdout: host.stdout, stderr: host.stderr };
        },
        log,
        // Each app host's sync service copies the parameter to a file, which its workers re-read.
        routingBoundMs: routingBoundMs(),
    };
}
