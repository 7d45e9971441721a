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

export interface RedisParams {
    readonly kind: "primary" | "replica";
    readonly maxMemoryMiB: number;
    /** Redis major version of the host's release (hash-max-listpack-* exists from 7 on). */
    readonly redisMajor: number;
    readonly primaryAddress?: string;
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
    return {
        roles: [`redis-${p.kind}`],
        packages: ["redis-server"],
        files: [
            { path: TEMPLATE, content: conf, permissions: "0640", owner: "redis:redis", defer: true },
            scriptFile("privateAddress"),
            scriptFile("redisAuth"),
        ],
        commands: [
            [scriptPath("redisAuth"), secretFilePath("redis-auth"), REDIS_AUTH_FILE],
            [scriptPath("privateAddress"), TEMPLATE, "/etc/redis/redis.conf"],
        ],
        services: ["redis-server"],
        secrets: ["redis-auth"],
    };
}
