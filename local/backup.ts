/**
 * backup and restore for the one-machine stack: the shard role's own scripts (instagram-shard-backup and
 * instagram-shard-restore) run against the host directories, with the shard's repository a directory under
 * .local/backups (S3 on AWS). A restore runs on the shard's serving primary, then rebuilds its standby
 * (the restored primary is on a new timeline) and empties memcached (it caches rows the restore took back).
 * Redis: instagram-redis-dump on the host that persists into .local/backups/redis, instagram-redis-restore
 * on the primary from there (or a file).
 */
import { spawn } from "child_process";
import * as readline from "readline";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { hostDir, LocalContext, logFile } from "./context";
import { hostNamed, LocalHost } from "./plan";
import { LocalState } from "./state";
import { postgresqlCommonEnv, shardPaths } from "./services/postgres";
import { SCRIPTS_DIR } from "../cloud-init/scripts";
import { PORTS } from "../core/ports";
import { refuseRestoreDuringMove } from "../core/shard-move";
import { readLocalDirectory } from "./shard-directory";

export const BACKUP_TYPES = ["full", "diff", "incr"] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];

export interface RestoreRequest {
    readonly shard: number;
    /** A timestamp PostgreSQL reads, or "latest". */
    readonly to: string;
    /** Reach a time on this (older) timeline rather than the newest one. */
    readonly timeline?: number;
    readonly force: boolean;
    readonly dryRun: boolean;
}

/** The host that serves a physical shard now: its primary, or its standby once that was promoted. */
export function servingHost(ctx: LocalContext, state: LocalState, shard: number): LocalHost {
    const primary = hostNamed(ctx.plan, `shard-${shard}-primary`);
    if (!primary) throw new Error(`there is no physical shard ${shard}; the stack has ${ctx.plan.directory.physicalShards.length}`);
    return state.failedOver.includes(shard) ? hostNamed(ctx.plan, `shard-${shard}-standby`)! : primary;
}

/**
 * Run one of the role's backup scripts on a shard host, its output streamed line by line to the console
 * (a restore says what it will do before it does it) and to the host's log file.
 */
async function runScript(ctx: LocalContext, host: LocalHost, script: string, args: string[]): Promise<void> {
    const p = shardPaths(ctx, host);
    await runOn(ctx, host, "postgres", script, [p.env, ...args], postgresqlCommonEnv(p));
}

async function runOn(ctx: LocalContext, host: LocalHost, daemon: string, script: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
    const log = logFile(ctx, host, script.replace(/\.sh$/, ""));
    fs.mkdirSync(path.dirname(log), { recursive: true });
    const child = spawn("sh", [path.join(SCRIPTS_DIR, script), ...args], { env, cwd: "/", stdio: ["ignore", "pipe", "pipe"] });
    for (const stream of [child.stdout, child.stderr]) {
        readline.createInterface({ input: stream }).on("line", (line) => {
            fs.appendFileSync(log, `${line}\n`);
            if (line.trim()) ctx.progress(host.name, daemon, line.replace(/^(instagram-shard-\w+|redis-dump|redis-restore): /, ""));
        });
    }
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    if (status !== 0) throw new Error(`${host.name}: ${script.replace(/\.sh$/, "")} failed (exit ${status}); see above and ${log}`);
}

export async function backupShard(ctx: LocalContext, state: LocalState, shard: number, type: BackupType): Promise<void> {
    await runScript(ctx, servingHost(ctx, state, shard), "shard-backup.sh", [type]);
}

/** memcached's flush_all on every node, so that no app worker serves a row the restore took back. */
async function flushMemcached(ctx: LocalContext): Promise<void> {
    for (const host of ctx.plan.hosts.filter((h) => h.role === "memcached")) {
        const reply = await new Promise<string>((resolve, reject) => {
            const socket = net.connect(PORTS.memcached, host.address, () => socket.write("flush_all\r\n"));
            let data = "";
            socket.setTimeout(5_000, () => socket.destroy(new Error(`${host.name}: memcached did not answer flush_all`)));
            socket.on("data", (chunk) => {
                data += chunk.toString();
                if (data.includes("\r\n")) socket.end();
            });
            socket.on("end", () => resolve(data.trim()));
            socket.on("error", reject);
        });
        if (reply !== "OK") throw new Error(`${host.name}: memcached answered ${JSON.stringify(reply)} to flush_all`);
        ctx.progress(host.name, "memcached", "emptied (its entries predate the restore)");
    }
}

export async function restoreShard(ctx: LocalContext, state: LocalState, req: RestoreRequest): Promise<void> {
    const primary = servingHost(ctx, state, req.shard);
    const directory = readLocalDirectory(ctx.dir);
    if (directory) refuseRestoreDuringMove(directory, req.shard, "npm run local");
    await runScript(ctx, primary, "shard-restore.sh", ["--to", req.to, ...(req.timeline ? ["--timeline", String(req.timeline)] : []), ...(req.force ? ["--force"] : []), ...(req.dryRun ? ["--dry-run"] : [])]);
    if (req.dryRun) return;
    const standby = hostNamed(ctx.plan, `shard-${req.shard}-standby`);
    if (standby && standby.name !== primary.name) await runScript(ctx, standby, "shard-restore.sh", ["--reclone"]);
    await flushMemcached(ctx);
}

/** Where the one-machine stack keeps the Redis dumps (the backup bucket's redis/ prefix on AWS). */
export function localRedisDumps(ctx: LocalContext): string {
    return path.join(ctx.dir, "backups", "redis");
}

/** What the Redis scripts need to know of a local Redis host: its address, data directory and password files. */
function redisEnv(ctx: LocalContext, host: LocalHost): NodeJS.ProcessEnv {
    return {
        ...process.env,
        REDIS_HOST: host.address,
        REDIS_DIR: hostDir(ctx, host, "data"),
        REDIS_SECRET: hostDir(ctx, host, "secrets", "redis-auth"),
        REDIS_AUTH_CONF: hostDir(ctx, host, "redis-auth.conf"),
    };
}

/** A Redis dump now, from the host that persists (the replica, else the primary). */
export async function backupRedis(ctx: LocalContext): Promise<void> {
    const host = ctx.plan.hosts.find((h) => h.role === "redis-replica") ?? ctx.plan.hosts.find((h) => h.role === "redis-primary")!;
    fs.mkdirSync(localRedisDumps(ctx), { recursive: true });
    await runOn(ctx, host, "redis", "redis-dump.sh", [localRedisDumps(ctx)], redisEnv(ctx, host));
}

/** Load a dump (the latest, or `from`) into the Redis primary; the replica re-syncs from it. */
export async function restoreRedis(ctx: LocalContext, o: { from?: string; force: boolean }): Promise<void> {
    const host = ctx.plan.hosts.find((h) => h.role === "redis-primary")!;
    await runOn(ctx, host, "redis", "redis-restore.sh", [o.from ?? localRedisDumps(ctx), ...(o.force ? ["--force"] : [])], redisEnv(ctx, host));
}
