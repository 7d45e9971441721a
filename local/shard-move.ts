/**
 * `shards move | status | cleanup` on the one-machine stack: core/shard-move.ts's steps, with the stack's
 * directory file (DIR/shard-directory.json) as the directory and the shard role's own move script
 * (cloud-init/scripts/shard-move.sh) run against each shard host's PostgreSQL, as on EC2.
 */
import { spawn } from "child_process";
import * as path from "path";
import { LocalContext } from "./context";
import { shardHost } from "./plan";
import { readLocalDirectory, writeLocalDirectory } from "./shard-directory";
import { postgresqlCommonEnv, shardPaths } from "./services/postgres";
import { SCRIPTS_DIR } from "../cloud-init/scripts";
import { MoveDriver, StepResult } from "../core/shard-move";
import { ShardDirectory } from "../core/shard-directory";
import { DIRECTORY_ROUTING_BOUND_MS } from "../core/app-contract";

function directoryOf(ctx: LocalContext): ShardDirectory {
    const d = readLocalDirectory(ctx.dir);
    if (!d) throw new Error(`no shard directory in ${ctx.dir} yet: \`up\` writes it`);
    return d;
}

/** The script on the host that serves as a physical shard's primary (its standby once promoted). */
function runOnShard(ctx: LocalContext, physicalShard: number, args: readonly string[]): Promise<StepResult> {
    const entry = directoryOf(ctx).physicalShards[physicalShard];
    const host = shardHost(ctx.plan, physicalShard, entry?.promotedStandby ? "standby" : "primary");
    const p = shardPaths(ctx, host);
    return new Promise((resolve, reject) => {
        const child = spawn("sh", [path.join(SCRIPTS_DIR, "shard-move.sh"), p.env, ...args], {
            env: { ...postgresqlCommonEnv(p), MOVE_PASSFILE: path.join(p.root, "pgpass-move") },
            cwd: "/",
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
        child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
}

export function localMoveDriver(ctx: LocalContext, log: (line: string) => void = console.log): MoveDriver {
    return {
        readDirectory: async () => directoryOf(ctx),
        async writeDirectory(next, reason) {
            writeLocalDirectory(ctx.dir, next);
            log(`directory: ${reason}`);
        },
        runStep: (physicalShard, args) => runOnShard(ctx, physicalShard, args),
        log,
        // The app workers re-read the stack's directory file itself.
        routingBoundMs: DIRECTORY_ROUTING_BOUND_MS.local,
    };
}
