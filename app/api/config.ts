/**
 * The API's configuration, from the environment the app role writes (/etc/instagram/app.env) and the
 * credentials systemd hands over. Every piece is optional: the server boots without its dependencies
 * (hosts boot in any order), /readyz names what is missing, and routes that need it answer 503.
 */
import * as fs from "fs";
import * as path from "path";
import { ShardRange } from "../../components/shard-map";

export interface ShardTarget {
    readonly physicalShard: number;
    readonly host: string;
    readonly port: number;
}

export interface ApiConfig {
    readonly logicalShards?: number;
    readonly shardMap?: readonly ShardRange[];
    readonly shards: readonly ShardTarget[];
    readonly dbPassword?: string;
    readonly memcached: readonly string[];
    readonly redis?: { host: string; port: number };
    readonly redisPassword?: string;
    /** A local directory (tests, the one-machine stack) or an S3 bucket (the cloud). */
    readonly mediaDir?: string;
    readonly mediaBucket?: string;
    readonly s3Endpoint?: string;
    readonly region?: string;
    readonly mediaBaseUrl: string;
    readonly maxUploadBytes: number;
    readonly problems: readonly string[];
}

function hostPort(text: string, defaultPort: number): { host: string; port: number } | undefined {
    const m = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(text.trim());
    return m ? { host: m[1], port: m[2] ? Number(m[2]) : defaultPort } : undefined;
}

/** A credential: systemd's $CREDENTIALS_DIRECTORY/NAME on a host, else an environment variable (local, tests). */
function credential(env: NodeJS.ProcessEnv, name: string, variable: string): string | undefined {
    const dir = env.CREDENTIALS_DIRECTORY;
    if (dir && fs.existsSync(path.join(dir, name))) return fs.readFileSync(path.join(dir, name), "utf8").trim();
    return env[variable] || undefined;
}

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
    const problems: string[] = [];
    let logicalShards: number | undefined;
    let shardMap: ShardRange[] | undefined;
    const shards: ShardTarget[] = [];
    if (env.INSTAGRAM_LOGICAL_SHARDS) {
        logicalShards = Number(env.INSTAGRAM_LOGICAL_SHARDS);
        if (!Number.isInteger(logicalShards) || logicalShards < 1 || logicalShards > 8192) {
            problems.push(`INSTAGRAM_LOGICAL_SHARDS=${env.INSTAGRAM_LOGICAL_SHARDS}: expected 1-8192`);
            logicalShards = undefined;
        }
    }
    if (env.INSTAGRAM_SHARD_MAP) {
        try {
            shardMap = JSON.parse(env.INSTAGRAM_SHARD_MAP);
            if (!Array.isArray(shardMap) || !shardMap.every((r) => Number.isInteger(r.physicalShard) && Number.isInteger(r.firstLogicalShard) && Number.isInteger(r.lastLogicalShard))) throw new Error("not a list of ranges");
        } catch (e) {
            problems.push(`INSTAGRAM_SHARD_MAP: ${(e as Error).message}`);
            shardMap = undefined;
        }
    }
    (env.INSTAGRAM_PGBOUNCER_HOSTS ?? "").split(",").filter(Boolean).forEach((text, physicalShard) => {
        const target = hostPort(text, 6432);
        if (target) shards.push({ physicalShard, ...target });
        else problems.push(`INSTAGRAM_PGBOUNCER_HOSTS entry ${physicalShard} (${text}): expected host:port`);
    });
    if (shardMap && shards.length > 0 && shardMap.length !== shards.length) {
        problems.push(`INSTAGRAM_SHARD_MAP has ${shardMap.length} physical shards but INSTAGRAM_PGBOUNCER_HOSTS lists ${shards.length}`);
    }
    const memcached = (env.INSTAGRAM_MEMCACHED ?? "").split(",").filter(Boolean);
    for (const node of memcached) if (!hostPort(node, 11211)) problems.push(`INSTAGRAM_MEMCACHED entry ${node}: expected host:port`);
    let redis: { host: string; port: number } | undefined;
    if (env.INSTAGRAM_REDIS) {
        redis = hostPort(env.INSTAGRAM_REDIS, 6379);
        if (!redis) problems.push(`INSTAGRAM_REDIS=${env.INSTAGRAM_REDIS}: expected host:port`);
    }
    const maxUploadBytes = Number(env.INSTAGRAM_MAX_UPLOAD_BYTES ?? 10 * 1024 * 1024);
    if (!Number.isInteger(maxUploadBytes) || maxUploadBytes < 1024 || maxUploadBytes > 100 * 1024 * 1024) problems.push(`INSTAGRAM_MAX_UPLOAD_BYTES=${env.INSTAGRAM_MAX_UPLOAD_BYTES}: expected 1024 to 104857600`);
    return {
        logicalShards,
        shardMap,
        shards,
        dbPassword: credential(env, "postgres-app", "INSTAGRAM_DB_PASSWORD"),
        memcached,
        redis,
        redisPassword: credential(env, "redis-auth", "INSTAGRAM_REDIS_PASSWORD"),
        mediaDir: env.INSTAGRAM_MEDIA_DIR || undefined,
        mediaBucket: env.INSTAGRAM_MEDIA_BUCKET || undefined,
        s3Endpoint: env.INSTAGRAM_S3_ENDPOINT || undefined,
        region: env.AWS_REGION || undefined,
        mediaBaseUrl: env.INSTAGRAM_MEDIA_BASE_URL || "/media",
        maxUploadBytes: Number.isInteger(maxUploadBytes) ? maxUploadBytes : 10 * 1024 * 1024,
        problems,
    };
}
