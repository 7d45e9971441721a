/**
 * A Redis host: the primary (no persistence) or its replica (RDB + AOF), as Instagram ran them. It listens
 * on loopback and its private address only, and requires AUTH with the password fetched at boot.
 */
import { RoleSpec } from "../role";
import { redisConf } from "../configs/redis";
import { scriptFile, scriptPath } from "../scripts";
import { secretFilePath } from "../../core/secrets";
import { PORTS } from "../../core/ports";

const TEMPLATE = "/etc/instagram/redis.conf.in";
export const REDIS_AUTH_FILE = "/etc/redis/auth.conf";

/** Where the Redis dumps go in the backup bucket (components/backups.ts scopes the redis tier to it). */
export const REDIS_DUMP_PREFIX = "redis";

export interface RedisParams {
    readonly kind: "primary" | "replica";
    /**
     * The backup bucket. The host that persists (the replica, or the primary when there is none) copies its
     * RDB there hourly; the primary can load one back (instagram-redis-restore).
     */
    readonly dumps?: { readonly bucket: string; readonly takesDumps: boolean };
    readonly maxMemoryMiB: number;
    /** Redis major version of the host's release (hash-max-listpack-* exists from 7 on). */
    readonly redisMajor: number;
    readonly primaryAddress?: string;
}

/** The hourly dump: a oneshot service and its timer (Persistent: a host that was down catches up). */
export function redisDumpUnits(dest: string): { name: string; content: string }[] {
    return [
        {
            name: "instagram-redis-dump.service",
            content: ["[Unit]", "Description=Copy this Redis host's RDB to the backup bucket", "After=redis-server.service", "", "[Service]", "Type=oneshot", `ExecStart=${scriptPath("redisDump")} ${dest}`, ""].join("\n"),
        },
        {
            name: "instagram-redis-dump.timer",
            content: ["[Unit]", "Description=Hourly Redis dump to the backup bucket", "", "[Timer]", "OnCalendar=hourly", "RandomizedDelaySec=300", "Persistent=true", "", "[Install]", "WantedBy=timers.target", ""].join("\n"),
        },
    ];
}

export function redisRole(p: RedisParams): RoleSpec {
    if (p.kind === "replica" && !p.primaryAddress) throw new Error("a Redis replica needs its primary's address");
    const conf = redisConf({
        bind: "127.0.0.1 @PRIVATE_IP@",
        maxMemoryMiB: p.maxMemoryMiB,
        dataDir: "/var/lib/redis",
        persistent: p.kind === "replica",
        replicaOf: p.kind === "replica" ? { host: p.primaryAddress!, port: PORTS.redis } : undefined,
        secretsInclude: REDIS_AUTH_FILE,
        redisMajor: p.redisMajor,
    });
    const dumpTo = p.dumps ? `s3://${p.dumps.bucket}/${REDIS_DUMP_PREFIX}` : undefined;
    const takesDumps = p.dumps?.takesDumps ?? false;
    return {
        roles: [`redis-${p.kind}`],
        packages: ["redis-server"],
        files: [
            { path: TEMPLATE, content: conf, permissions: "0640", owner: "redis:redis", defer: true },
            scriptFile("privateAddress"),
            scriptFile("redisAuth"),
            // The primary can load a dump back; the host that persists takes them.
            ...(dumpTo && p.kind === "primary" ? [scriptFile("s3Get"), scriptFile("redisRestore")] : []),
            ...(dumpTo && takesDumps ? [scriptFile("redisDump"), ...redisDumpUnits(dumpTo).map((u) => ({ path: `/etc/systemd/system/${u.name}`, content: u.content, permissions: "0644" }))] : []),
        ],
        commands: [
            [scriptPath("redisAuth"), secretFilePath("redis-auth"), REDIS_AUTH_FILE],
            [scriptPath("privateAddress"), TEMPLATE, "/etc/redis/redis.conf"],
            ...(dumpTo && takesDumps ? [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", "instagram-redis-dump.timer"]] : []),
        ],
        services: ["redis-server"],
        secrets: ["redis-auth"],
    };
}
