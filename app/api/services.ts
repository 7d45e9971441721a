/**
 * What the API's routes work with, built once per worker from its configuration: each piece exists only
 * when what it needs is configured, and `missing` names what is not (for /readyz and the 503s).
 */
import * as http from "http";
import Redis from "ioredis";
import { AppContext } from "../server/protocol";
import { ApiConfig } from "./config";
import { APP_CREDENTIALS, APP_ENV } from "../../core/app-contract";
import { HttpError } from "./http";
import { ShardRouter } from "./shards";
import { DirectorySource, shardRouting } from "./directory-source";
import { Users } from "./users";
import { Feeds } from "./feed";
import { MemcachedPool } from "./memcached";
import { DirectoryMediaStore, MediaStore, S3MediaStore } from "./media-store";
import { Sessions } from "./sessions";
import { LoginThrottle, RateLimiter } from "./rate-limit";
import { CountersCache } from "./counters";
import { Activity } from "./activity";
import { Likes } from "./likes";
import { Comments } from "./comments";
import { RedisReader } from "./redis-reader";
import { GearmanClient } from "../jobs/gearman/client";
import { GearmanFanOutQueue } from "../jobs/fan-out-job";
import { GearmanShareQueue } from "../jobs/share-job";
import { PushQueue } from "../jobs/push-job";
import { Devices } from "./devices";
import { SearchIndex } from "./search";
import { IndexFeed } from "../jobs/index-job";
import { ErrorReports, errorReports } from "./error-reports";

export interface Services {
    readonly config: ApiConfig;
    readonly shards?: ShardRouter;
    readonly users?: Users;
    readonly redis?: Redis;
    /** The connection for the reads every request makes (sessions, feeds' IDs, counts). */
    readonly reader?: RedisReader;
    readonly cache?: MemcachedPool;
    /** The job servers uploads queue their fan-out on, when configured. */
    readonly gearman?: GearmanClient;
    /** Where an upload's `?share=` goes: a job per destination (needs the job servers). */
    readonly shareQueue?: GearmanShareQueue;
    readonly feeds?: Feeds;
    readonly likes?: Likes;
    readonly comments?: Comments;
    /** The search tier's index of photo locations, when configured. */
    readonly search?: SearchIndex;
    /** The devices users get push notifications on (needs the shards). */
    readonly devices?: Devices;
    /** Where follows, likes and comments queue their notifications: job servers, Redis and APNs or FCM configured. */
    readonly push?: PushQueue;
    /** Sessions, limits and activity need only Redis (a request without Redis gets 503 from them). */
    readonly sessions: Sessions;
    readonly limiter: RateLimiter;
    readonly loginThrottle: LoginThrottle;
    readonly activity: Activity;
    /** The live shard directory, when the environment names one. */
    readonly directory?: DirectorySource;
    /** Sentry, or nothing (off) when the stack sets no DSN. */
    readonly errorReports: ErrorReports;
    /** What is not configured, for /readyz and 503s. */
    readonly missing: string[];
}

export type Route = (req: http.IncomingMessage, res: http.ServerResponse, params: string[], s: Services, ctx: AppContext) => Promise<void>;

/** [method, path pattern, handler]: the app tries them in order. */
export type RouteTable = readonly (readonly [string, RegExp, Route])[];

export function need<T>(value: T | undefined, s: Services): T {
    if (value === undefined) throw new HttpError(503, "unavailable", "what this route needs is not configured on this server", { missing: s.missing });
    return value;
}

export function buildServices(config: ApiConfig): Services {
    // What keeps the database tier from being usable; the routes that need it answer 503 while any remains.
    const dbMissing = [
        ...config.problems.filter((p) => /SHARD|PGBOUNCER/.test(p)),
        ...(config.shards.length === 0 ? [`postgres: ${APP_ENV.pgbouncerHosts} is not set`] : []),
        ...(!config.logicalShards ? [`postgres: ${APP_ENV.logicalShards} is not set`] : []),
        ...(!config.shardMap ? [`postgres: ${APP_ENV.shardMap} is not set`] : []),
        ...(!config.dbPassword ? [`postgres: no password (credential ${APP_CREDENTIALS.dbPassword} or ${APP_ENV.dbPassword})`] : []),
    ];
    const missing: string[] = [...config.problems.filter((p) => !dbMissing.includes(p)), ...dbMissing];
    if (!config.redis) missing.push(`redis: ${APP_ENV.redis} is not set`);
    if (!config.mediaDir && !config.mediaBucket) missing.push(`media store: neither ${APP_ENV.mediaBucket} nor ${APP_ENV.mediaDir} is set`);
    const redis = config.redis
        ? new Redis({
              ...config.redis,
              password: config.redisPassword,
              // Fail fast while Redis is away (503), reconnect in the background, recover by itself.
              enableOfflineQueue: false,
              maxRetriesPerRequest: 1,
              connectTimeout: 1000,
              retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
              // Commands issued in one turn of the event loop (a request's session and feed lookups, and
              // other requests' meanwhile) go out in one write and come back in one read.
              enableAutoPipelining: true,
          })
        : undefined;
    redis?.on("error", () => undefined);
    const reader = config.redis ? new RedisReader({ ...config.redis, password: config.redisPassword, timeoutMs: 1000 }).start() : undefined;
    const cache = config.memcached.length > 0 ? new MemcachedPool({ nodes: config.memcached }) : undefined;
    const store: MediaStore | undefined = config.mediaBucket
        ? new S3MediaStore(config.mediaBucket, config.region, config.s3Endpoint)
        : config.mediaDir ? new DirectoryMediaStore(config.mediaDir) : undefined;
    const sessions = new Sessions(redis, reader, config.sessionTtlSeconds);
    const limiter = new RateLimiter(redis);
    const loginThrottle = new LoginThrottle(redis, config.loginThrottle, config.loginFailuresPerAddress);
    const gearman = config.gearmanServers.length > 0 ? new GearmanClient({ servers: config.gearmanServers }) : undefined;
    // Only when a worker would send it: a platform configured (the workers read the same environment).
    const push = gearman && redis && (config.push.apns || config.push.fcm) ? new PushQueue(gearman, redis) : undefined;
    const activity = new Activity(redis, push);
    const shareQueue = gearman ? new GearmanShareQueue(gearman) : undefined;
    const search = config.search
        ? new SearchIndex({ ...config.search, password: config.searchPassword }, undefined, config.searchStandby && { ...config.searchStandby, password: config.searchPassword })
        : undefined;
    const base = { config, redis, reader, cache, gearman, shareQueue, push, search, sessions, limiter, loginThrottle, activity, missing, errorReports: errorReports(config.errorReports) };
    if (dbMissing.length > 0 || !config.logicalShards || !config.directory) return base;
    const { shards, directory } = shardRouting(config, config.logicalShards, config.directory);
    void directory?.start();
    const counters = new CountersCache(redis, reader);
    const users = new Users(shards);
    const queue = gearman ? new GearmanFanOutQueue(gearman) : undefined;
    const onQueueFailure = (e: Error) => console.error(`fan-out inline: ${e.message}`);
    const indexFeed = search ? new IndexFeed(shards, search, gearman, (e) => console.error(`index inline: ${e.message}`)) : undefined;
    const feeds = store ? new Feeds(shards, store, redis, reader, cache, counters, config.mediaBaseUrl, queue, onQueueFailure, indexFeed) : undefined;
    return { ...base, shards, users, feeds, devices: new Devices(shards), likes: new Likes(shards, counters, activity), comments: new Comments(shards, counters, activity), directory };
}

/**
 * Resolves once the Redis connections every request leans on are up, or after `withinMs` either way. A worker
 * takes traffic as soon as it reports that it booted; without this wait, a fresh worker in a reload answers its
 * first requests 503 while its connections open (seen as failed requests during a HUP under load). Bounded,
 * so that a worker still boots while Redis is away: its Redis routes answer 503 and /readyz says why.
 */
export async function connectionsUp(s: Services, withinMs: number): Promise<void> {
    const deadline = Date.now() + withinMs;
    const up = () => (!s.redis || s.redis.status === "ready") && (!s.reader || s.reader.ready);
    while (!up() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}
