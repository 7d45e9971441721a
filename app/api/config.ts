/**
 * The API's configuration, from the environment the app role writes (/etc/instagram/app.env) and the
 * credentials systemd hands over. Every piece is optional: the server boots without its dependencies
 * (hosts boot in any order), /readyz names what is missing, and routes that need it answer 503.
 */
import * as fs from "fs";
import * as path from "path";
import { ShardRange } from "../../core/shard-map";
import { directoryFromShardMap, directoryProblems, ShardDirectory } from "../../core/shard-directory";
import { APP_CREDENTIALS, APP_ENV, AUTH_LIMITS, SEARCH_CREDENTIAL, MAX_UPLOAD_MIB, SESSION_TTL_SECONDS, SHARD_DIRECTORY_REFRESH_MS } from "../../core/app-contract";
import { DEFAULT_SCRYPT_COST, parseScryptCost, ScryptCost } from "./passwords";
import { Limit, parseLimit } from "./rate-limit";
import { MAX_LOGICAL_SHARDS } from "../../core/ids";
import { PORTS } from "../../core/ports";
import { GearmanServer, parseGearmanServers } from "../jobs/gearman/packets";
import { parseShareDestinations, ShareDestination } from "../../core/share-destinations";
import { loadPushConfig, PushConfig } from "./push-config";
import { parseSentryDsn } from "../../core/error-reports";

export interface ShardTarget {
    readonly physicalShard: number;
    readonly host: string;
    readonly port: number;
}

export interface ApiConfig {
    readonly logicalShards?: number;
    readonly shardMap?: readonly ShardRange[];
    /** Where each logical shard lives at boot: the shard map over the pgbouncer hosts, checked for full coverage. */
    readonly directory?: ShardDirectory;
    /** The file of the live shard directory, re-read every directoryRefreshMs. */
    readonly directoryFile?: string;
    readonly directoryRefreshMs: number;
    readonly shards: readonly ShardTarget[];
    readonly dbPassword?: string;
    readonly memcached: readonly string[];
    readonly redis?: { host: string; port: number };
    readonly redisPassword?: string;
    /** The search tier (PostGIS), when configured. */
    readonly search?: { host: string; port: number };
    /** Its standby, for searches while the primary is away. */
    readonly searchStandby?: { host: string; port: number };
    readonly searchPassword?: string;
    /** A local directory (tests, the one-machine stack) or an S3 bucket (the cloud). */
    readonly mediaDir?: string;
    readonly mediaBucket?: string;
    readonly s3Endpoint?: string;
    readonly region?: string;
    readonly mediaBaseUrl: string;
    readonly maxUploadBytes: number;
    readonly sessionTtlSeconds: number;
    readonly scryptCost: ScryptCost;
    readonly signupLimitPerUsername: Limit;
    readonly authLimitPerAddress: Limit;
    readonly loginThrottle: Limit;
    readonly loginFailuresPerAddress: Limit;
    /** gearmand servers for queued jobs (the upload's fan-out); none: uploads fan out themselves. */
    readonly gearmanServers: readonly GearmanServer[];
    /** Where uploads may be shared to (core/share-destinations.ts). */
    readonly shareDestinations: readonly ShareDestination[];
    /** APNs and FCM, each on when configured (app/api/push-config.ts). */
    readonly push: PushConfig;
    /** Sentry (app/api/error-reports.ts). */
    readonly errorReports: ErrorReportsConfig;
    readonly problems: readonly string[];
}

/** Error reports: on with a valid DSN; `off` says why they are off. */
export interface ErrorReportsConfig {
    readonly dsn?: string;
    readonly environment?: string;
    /** The release's name where the app does not run from an installed release (tests, development). */
    readonly release?: string;
    readonly off?: string;
}

/**
 * A DSN that is not one turns error reports off with the reason in /readyz, rather than the server unready:
 * reports are optional, and the stack config has refused a bad DSN before it reached a host.
 */
function loadErrorReportsConfig(env: NodeJS.ProcessEnv, dsnText: string | undefined): ErrorReportsConfig {
    const E = APP_ENV;
    const environment = env[E.sentryEnvironment] || undefined;
    const release = env[E.release] || undefined;
    if (!dsnText) return { off: `no DSN: credential ${APP_CREDENTIALS.sentryDsn} is empty and ${E.sentryDsn} is not set` };
    const dsn = parseSentryDsn(dsnText);
    if (typeof dsn === "string") return { off: `the DSN (credential ${APP_CREDENTIALS.sentryDsn}) is not ${dsn}` };
    return { dsn: dsnText.trim(), environment, release };
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
    const E = APP_ENV;
    const problems: string[] = [];
    let logicalShards: number | undefined;
    let shardMap: ShardRange[] | undefined;
    const shards: ShardTarget[] = [];
    if (env[E.logicalShards]) {
        logicalShards = Number(env[E.logicalShards]);
        if (!Number.isInteger(logicalShards) || logicalShards < 1 || logicalShards > MAX_LOGICAL_SHARDS) {
            problems.push(`${E.logicalShards}=${env[E.logicalShards]}: expected 1-${MAX_LOGICAL_SHARDS}`);
            logicalShards = undefined;
        }
    }
    if (env[E.shardMap]) {
        try {
            shardMap = JSON.parse(env[E.shardMap]!);
            if (!Array.isArray(shardMap) || !shardMap.every((r) => Number.isInteger(r.physicalShard) && Number.isInteger(r.firstLogicalShard) && Number.isInteger(r.lastLogicalShard))) throw new Error("not a list of ranges");
        } catch (e) {
            problems.push(`${E.shardMap}: ${(e as Error).message}`);
            shardMap = undefined;
        }
    }
    (env[E.pgbouncerHosts] ?? "").split(",").filter(Boolean).forEach((text, physicalShard) => {
        const target = hostPort(text, PORTS.pgbouncer);
        if (target) shards.push({ physicalShard, ...target });
        else problems.push(`${E.pgbouncerHosts} entry ${physicalShard} (${text}): expected host:port`);
    });
    let directory: ShardDirectory | undefined;
    if (shardMap && logicalShards && shards.length > 0) {
        // Routing follows the map, never a formula over the counts: a physical shard may hold several
        // ranges, or none (added for capacity, not yet filled).
        const candidate = directoryFromShardMap(shardMap, logicalShards, shards.length);
        const wrong = directoryProblems(candidate, `${E.shardMap} (over the ${shards.length} hosts of ${E.pgbouncerHosts})`);
        if (wrong.length > 0) problems.push(...wrong);
        else directory = candidate;
    }
    const memcached = (env[E.memcached] ?? "").split(",").filter(Boolean);
    for (const node of memcached) if (!hostPort(node, PORTS.memcached)) problems.push(`${E.memcached} entry ${node}: expected host:port`);
    let redis: { host: string; port: number } | undefined;
    if (env[E.redis]) {
        redis = hostPort(env[E.redis]!, PORTS.redis);
        if (!redis) problems.push(`${E.redis}=${env[E.redis]}: expected host:port`);
    }
    let search: { host: string; port: number } | undefined;
    if (env[E.search]) {
        search = hostPort(env[E.search]!, PORTS.postgres);
        if (!search) problems.push(`${E.search}=${env[E.search]}: expected host:port`);
    }
    let searchStandby: { host: string; port: number } | undefined;
    if (env[E.searchStandby]) {
        searchStandby = hostPort(env[E.searchStandby]!, PORTS.postgres);
        if (!searchStandby) problems.push(`${E.searchStandby}=${env[E.searchStandby]}: expected host:port`);
        else if (!env[E.search]) problems.push(`${E.searchStandby} is set without ${E.search}: a standby serves beside its primary`);
    }
    let directoryFile: string | undefined;
    if (env[E.shardDirectory]) {
        if (env[E.shardDirectory]!.startsWith("/")) directoryFile = env[E.shardDirectory];
        else problems.push(`${E.shardDirectory}=${env[E.shardDirectory]}: expected an absolute path`);
    }
    const directoryRefreshMs = Number(env[E.shardDirectoryRefreshMs] ?? SHARD_DIRECTORY_REFRESH_MS);
    if (!Number.isInteger(directoryRefreshMs) || directoryRefreshMs < 100 || directoryRefreshMs > 600_000) problems.push(`${E.shardDirectoryRefreshMs}=${env[E.shardDirectoryRefreshMs]}: expected 100 to 600000`);
    const defaultUploadBytes = MAX_UPLOAD_MIB * 1024 * 1024;
    const maxUploadBytes = Number(env[E.maxUploadBytes] ?? defaultUploadBytes);
    if (!Number.isInteger(maxUploadBytes) || maxUploadBytes < 1024 || maxUploadBytes > 100 * 1024 * 1024) problems.push(`${E.maxUploadBytes}=${env[E.maxUploadBytes]}: expected 1024 to 104857600`);
    const sessionTtlSeconds = Number(env[E.sessionTtlSeconds] ?? SESSION_TTL_SECONDS);
    if (!Number.isInteger(sessionTtlSeconds) || sessionTtlSeconds < 1 || sessionTtlSeconds > 366 * 24 * 3600) problems.push(`${E.sessionTtlSeconds}=${env[E.sessionTtlSeconds]}: expected 1 to 31622400 seconds`);
    const parsed = <T>(variable: string, fallback: string, parse: (text: string) => T | string, builtIn: T): T => {
        const value = parse(env[variable] ?? fallback);
        if (typeof value !== "string") return value;
        problems.push(`${variable}: ${value}`);
        return builtIn;
    };
    /** A `<count>/<seconds>` limit from the environment, else its built-in default (AUTH_LIMITS). */
    const authLimit = (variable: string, fallback: string) => parsed(variable, fallback, parseLimit, parseLimit(fallback) as Limit);
    let gearmanServers: GearmanServer[] = [];
    if (env[E.gearmanServers]) {
        try {
            gearmanServers = parseGearmanServers(env[E.gearmanServers]!);
        } catch (e) {
            problems.push(`${E.gearmanServers}: ${(e as Error).message}`);
        }
    }
    let shareDestinations: ShareDestination[] = [];
    if (env[E.shareDestinations]) {
        // Any port here: a test's stand-in listens where it can; the stack config itself allows only 443.
        const parsed = parseShareDestinations(env[E.shareDestinations]!, false);
        if (typeof parsed === "string") problems.push(`${E.shareDestinations}: ${parsed}`);
        else shareDestinations = parsed;
    }
    const push = loadPushConfig(env, (name, variable) => credential(env, name, variable));
    problems.push(...push.problems);
    const defaultCost = `N=${DEFAULT_SCRYPT_COST.N},r=${DEFAULT_SCRYPT_COST.r},p=${DEFAULT_SCRYPT_COST.p}`;
    return {
        logicalShards,
        shardMap,
        directory,
        directoryFile,
        directoryRefreshMs: Number.isInteger(directoryRefreshMs) ? directoryRefreshMs : SHARD_DIRECTORY_REFRESH_MS,
        shards,
        dbPassword: credential(env, APP_CREDENTIALS.dbPassword, E.dbPassword),
        memcached,
        redis,
        redisPassword: credential(env, APP_CREDENTIALS.redisPassword, E.redisPassword),
        search,
        searchStandby,
        searchPassword: credential(env, SEARCH_CREDENTIAL, E.searchPassword),
        mediaDir: env[E.mediaDir] || undefined,
        mediaBucket: env[E.mediaBucket] || undefined,
        s3Endpoint: env[E.s3Endpoint] || undefined,
        region: env[E.region] || undefined,
        mediaBaseUrl: env[E.mediaBaseUrl] || "/media",
        maxUploadBytes: Number.isInteger(maxUploadBytes) ? maxUploadBytes : defaultUploadBytes,
        sessionTtlSeconds: Number.isInteger(sessionTtlSeconds) ? sessionTtlSeconds : SESSION_TTL_SECONDS,
        scryptCost: parsed(E.passwordScrypt, defaultCost, parseScryptCost, DEFAULT_SCRYPT_COST),
        signupLimitPerUsername: authLimit(E.signupLimitPerUsername, AUTH_LIMITS.signupPerUsername),
        authLimitPerAddress: authLimit(E.authLimitPerAddress, AUTH_LIMITS.authPerAddress),
        loginThrottle: authLimit(E.loginThrottle, AUTH_LIMITS.loginThrottle),
        loginFailuresPerAddress: authLimit(E.loginFailuresPerAddress, AUTH_LIMITS.loginFailuresPerAddress),
        gearmanServers,
        shareDestinations,
        push,
        errorReports: loadErrorReportsConfig(env, credential(env, APP_CREDENTIALS.sentryDsn, E.sentryDsn)),
        problems,
    };
}
