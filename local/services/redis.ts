/**
 * Redis primary (and replica), from the role's generator and its redis-auth script. As on EC2 only the
 * replica persists while running; `down` asks each server to SHUTDOWN SAVE, so feeds survive a local
 * restart even without a replica.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { account, chownTo, hostDir, LocalContext, ownedDir, pidFile, writeFileAs } from "../context";
import { LocalHost } from "../plan";
import { pidAlive, runningPid, sleep, stopPidFile } from "../processes";
import { redisConf } from "../../cloud-init/configs/redis";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";
import { LocalService, startDaemon } from "./service";
import { PORTS } from "../../core/ports";

export const LOCAL_REDIS_MAXMEMORY_MIB = 128;

export function redisMajorVersion(): number {
    const out = execFileSync("redis-server", ["--version"], { encoding: "utf8" });
    const m = /v=(\d+)\./.exec(out);
    if (!m) throw new Error(`cannot tell the Redis version from: ${out.trim()}`);
    return Number(m[1]);
}

/** redis-cli's environment: the host's password goes by REDISCLI_AUTH, never argv. */
function redisCliEnv(ctx: LocalContext, host: LocalHost): NodeJS.ProcessEnv {
    return { ...process.env, REDISCLI_AUTH: fs.readFileSync(path.join(hostDir(ctx, host), "secrets", "redis-auth"), "utf8").trim() };
}

export const redisService: LocalService = {
    daemon: "redis",
    async start(ctx, host, env) {
        const redis = account("redis");
        const dir = hostDir(ctx, host);
        const data = ownedDir(path.join(dir, "data"), redis, 0o750);
        const secret = path.join(dir, "secrets", "redis-auth");
        ownedDir(path.dirname(secret), undefined, 0o700);
        writeFileAs(secret, env.secrets["redis-auth"], 0o600);
        const auth = path.join(dir, "redis-auth.conf");
        const r = spawnSync("sh", [path.join(SCRIPTS_DIR, "redis-auth.sh"), secret, auth], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`${host.name}: redis-auth failed: ${r.stderr}`);
        chownTo(auth, redis);
        const primary = ctx.plan.hosts.find((h) => h.role === "redis-primary")!;
        const conf = path.join(dir, "redis.conf");
        writeFileAs(conf, redisConf({
            bind: host.address,
            maxMemoryMiB: LOCAL_REDIS_MAXMEMORY_MIB,
            dataDir: data,
            persistent: host.role === "redis-replica",
            replicaOf: host.role === "redis-replica" ? { host: primary.address, port: PORTS.redis } : undefined,
            secretsInclude: auth,
            redisMajor: redisMajorVersion(),
        }).replace("supervised systemd", "supervised no") /* no systemd supervises it here */, 0o640, redis);
        return startDaemon(ctx, host, "redis", { command: "redis-server", args: [conf], account: redis, port: PORTS.redis });
    },
    async stop(ctx, host) {
        const pids = pidFile(ctx, host, "redis");
        const pid = runningPid(pids);
        if (pid === undefined) return "not running";
        spawnSync("redis-cli", ["-h", host.address, "SHUTDOWN", "SAVE"], { env: redisCliEnv(ctx, host), encoding: "utf8", timeout: 30_000 });
        for (let i = 0; i < 100 && pidAlive(pid); i++) await sleep(100);
        return pidAlive(pid) ? stopPidFile(pids, "SIGTERM", 10_000) : (fs.rmSync(pids, { force: true }), "saved and stopped");
    },
    async status(ctx, host) {
        if (runningPid(pidFile(ctx, host, "redis")) === undefined) return { ok: false, detail: "not running" };
        const r = spawnSync("redis-cli", ["-h", host.address, "INFO", "replication"], { env: redisCliEnv(ctx, host), encoding: "utf8", timeout: 5000 });
        const role = /role:(\w+)/.exec(r.stdout ?? "")?.[1];
        const link = /master_link_status:(\w+)/.exec(r.stdout ?? "")?.[1];
        if (!role) return { ok: false, detail: `not answering: ${(r.stderr || r.stdout || "").trim()}` };
        return { ok: role === "master" || link === "up", detail: role === "master" ? "primary" : `replica, link ${link}` };
    },
};
