/** A Redis host: the primary (no persistence) or its replica (RDB + AOF), as Instagram ran them. */
import { RoleSpec } from "../role";
import { redisConf } from "../configs/redis";

export interface RedisParams {
    readonly kind: "primary" | "replica";
    readonly maxMemoryMiB: number;
    readonly primaryAddress?: string;
}

export function redisRole(p: RedisParams): RoleSpec {
    if (p.kind === "replica" && !p.primaryAddress) throw new Error("a Redis replica needs its primary's address");
    const conf = redisConf({
        bind: "0.0.0.0",
        maxMemoryMiB: p.maxMemoryMiB,
        dataDir: "/var/lib/redis",
        persistent: p.kind === "replica",
        replicaOf: p.kind === "replica" ? { host: p.primaryAddress!, port: 6379 } : undefined,
    });
    return {
        roles: [`redis-${p.kind}`],
        packages: ["redis-server"],
        files: [{ path: "/etc/redis/redis.conf", content: conf, permissions: "0640", owner: "redis:redis", defer: true }],
        commands: [],
        services: ["redis-server"],
    };
}
