/**
 * The photo-sharing API every worker serves: JSON over HTTP, each input checked, errors as JSON with the
 * right status. It boots with whatever dependencies are configured: /healthz says the process is alive,
 * /readyz names what is missing or down, and routes that need it answer 503 until it is back.
 */
import * as http from "http";
import { AppContext } from "../server/protocol";
import { ApiConfig, loadApiConfig } from "./config";
import { APP_CREDENTIALS, APP_ENV } from "../../core/app-contract";
import Redis from "ioredis";
import { HttpError, parseId, readJsonObject, readRawBody, sendJson } from "./http";
import { ShardRouter, Unavailable } from "./shards";
import { DirectorySource } from "./directory-source";
import { Conflict, NotFound, Users } from "./users";
import { Feeds } from "./feed";
import { MemcachedPool } from "./memcached";
import { DirectoryMediaStore, MediaStore, PHOTO_TYPES, photoExtension, S3MediaStore } from "./media-store";

const USERNAME = /^[a-z0-9_.]{1,30}$/;

const MAX_CAPTION = 2200;

interface Services {
    readonly config: ApiConfig;
    readonly shards?: ShardRouter;
    readonly users?: Users;
    readonly redis?: Redis;
    readonly cache?: MemcachedPool;
    readonly feeds?: Feeds;
    /** The live shard directory, when the environment names one. */
    readonly directory?: DirectorySource;
    /** What is not configured, for /readyz and 503s. */
    readonly missing: string[];
}

function services(config: ApiConfig): Services {
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
          })
        : undefined;
    redis?.on("error", () => undefined);
    const cache = config.memcached.length > 0 ? new MemcachedPool({ nodes: config.memcached }) : undefined;
    const store: MediaStore | undefined = config.mediaBucket
        ? new S3MediaStore(config.mediaBucket, config.region, config.s3Endpoint)
        : config.mediaDir ? new DirectoryMediaStore(config.mediaDir) : undefined;
    if (dbMissing.length > 0 || !config.logicalShards || !config.directory) return { config, redis, cache, missing };
    // Routing starts from the environment's map and follows the live directory from its first read on.
    const directory = config.directoryFile
        ? new DirectorySource({ file: config.directoryFile, initial: config.directory, refreshMs: config.directoryRefreshMs })
        : undefined;
    void directory?.start();
    const fixed = config.directory;
    const shards = new ShardRouter({ ...config, logicalShards: config.logicalShards }, () => directory?.current() ?? fixed, directory && (() => directory.refresh()));
    const users = new Users(shards);
    const feeds = store ? new Feeds(shards, users, store, redis, cache, config.mediaBaseUrl) : undefined;
    return { config, shards, users, redis, cache, feeds, directory, missing };
}

function need<T>(value: T | undefined, s: Services): T {
    if (value === undefined) throw new HttpError(503, "unavailable", "what this route needs is not configured on this server", { missing: s.missing });
    return value;
}

type Route = (req: http.IncomingMessage, res: http.ServerResponse, params: string[], s: Services, ctx: AppContext) => Promise<void>;

const ROUTES: [string, RegExp, Route][] = [
    ["GET", /^\/healthz$/, async (_req, res) => sendJson(res, 200, { status: "ok", pid: process.pid })],
    ["GET", /^\/readyz$/, async (_req, res, _p, s) => {
        const shards = s.shards ? await s.shards.check() : [];
        const down = shards.filter((c) => !c.ok).map((c) => `shard ${c.shard}: ${c.error}`);
        if (s.redis) {
            const pong = await Promise.race([s.redis.ping().catch((e: Error) => e.message), new Promise<string>((r) => setTimeout(() => r("no answer within 1 s"), 1000))]);
            if (pong !== "PONG") down.push(`redis: ${pong}`);
        }
        const stale = s.directory?.problem();
        const problems = [...s.missing, ...down, ...(stale ? [`${stale} (routing by the last directory read)`] : [])];
        sendJson(res, problems.length === 0 ? 200 : 503, { status: problems.length === 0 ? "ready" : "not ready", problems, shards });
    }],
    ["POST", /^\/api\/v1\/users$/, async (req, res, _p, s, ctx) => {
        const body = await readJsonObject(req, ["username"]);
        if (typeof body.username !== "string" || !USERNAME.test(body.username)) {
            throw new HttpError(400, "invalid_request", "username must be 1-30 characters: lower-case letters, digits, '.' and '_'");
        }
        const user = await need(s.users, s).create(body.username);
        ctx.count("signups");
        sendJson(res, 201, user);
    }],
    ["GET", /^\/api\/v1\/users\/([^/]+)$/, async (_req, res, [id], s) => sendJson(res, 200, await need(s.users, s).get(parseId(id, "user id")))],
    ["PUT", /^\/api\/v1\/users\/([^/]+)\/following\/([^/]+)$/, async (_req, res, [id, target], s) => {
        await need(s.users, s).follow(parseId(id, "user id"), parseId(target, "followed user id"));
        res.writeHead(204).end();
    }],
    ["DELETE", /^\/api\/v1\/users\/([^/]+)\/following\/([^/]+)$/, async (_req, res, [id, target], s) => {
        await need(s.users, s).unfollow(parseId(id, "user id"), parseId(target, "followed user id"));
        res.writeHead(204).end();
    }],
    ["GET", /^\/api\/v1\/users\/([^/]+)\/followers$/, async (_req, res, [id], s) => {
        const users = need(s.users, s);
        const user = parseId(id, "user id");
        await users.get(user);
        sendJson(res, 200, { followers: await users.followers(user) });
    }],
    ["POST", /^\/api\/v1\/users\/([^/]+)\/media$/, async (req, res, [id], s, ctx) => {
        const feeds = need(s.feeds, s);
        const owner = parseId(id, "user id");
        const contentType = (req.headers["content-type"] ?? "").split(";")[0].trim();
        if (!PHOTO_TYPES.includes(contentType)) throw new HttpError(415, "unsupported_media_type", `upload a photo as ${PHOTO_TYPES.join(", ")}`);
        const caption = new URL(req.url ?? "/", "http://api").searchParams.get("caption") ?? "";
        if (caption.length > MAX_CAPTION) throw new HttpError(400, "invalid_request", `caption is limited to ${MAX_CAPTION} characters`);
        const body = await readRawBody(req, s.config.maxUploadBytes);
        const ext = photoExtension(contentType, body);
        if (!ext) throw new HttpError(400, "invalid_request", `the body is not a ${contentType} image`);
        const result = await feeds.upload(owner, body, contentType, ext, caption);
        ctx.count("uploads");
        sendJson(res, 201, result);
    }],
    ["GET", /^\/api\/v1\/media\/([^/]+)$/, async (_req, res, [id], s) => sendJson(res, 200, await need(s.feeds, s).get(parseId(id, "media id")))],
    ["GET", /^\/api\/v1\/users\/([^/]+)\/feed$/, async (req, res, [id], s) => {
        const limitText = new URL(req.url ?? "/", "http://api").searchParams.get("limit") ?? "20";
        if (!/^\d{1,3}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 100) throw new HttpError(400, "invalid_request", "limit must be 1-100");
        sendJson(res, 200, await need(s.feeds, s).feed(parseId(id, "user id"), Number(limitText)));
    }],
];

function toHttpError(e: unknown): HttpError {
    if (e instanceof HttpError) return e;
    if (e instanceof Unavailable) {
        return new HttpError(503, "unavailable", e.message, { dependency: e.dependency }, e.retryAfterSeconds === undefined ? {} : { "Retry-After": String(e.retryAfterSeconds) });
    }
    if (e instanceof NotFound) return new HttpError(404, "not_found", e.message);
    if (e instanceof Conflict) return new HttpError(409, "conflict", e.message);
    return new HttpError(500, "internal_error", "the server failed to handle the request");
}

export function createApp(context: AppContext, env: NodeJS.ProcessEnv = process.env): http.RequestListener {
    const s = services(loadApiConfig(env));
    return (req, res) => {
        const url = new URL(req.url ?? "/", "http://api");
        const matching = ROUTES.filter(([, pattern]) => pattern.test(url.pathname));
        const route = matching.find(([method]) => method === req.method);
        const handle = async () => {
            if (!route) {
                if (matching.length > 0) throw new HttpError(405, "method_not_allowed", `${req.method} is not allowed on ${url.pathname}; use ${matching.map(([m]) => m).join(", ")}`);
                throw new HttpError(404, "not_found", `no route for ${req.method} ${url.pathname}`);
            }
            const params = route[1].exec(url.pathname)!.slice(1).map((p) => {
                try {
                    return decodeURIComponent(p);
                } catch {
                    throw new HttpError(400, "invalid_request", `malformed path segment ${p}`);
                }
            });
            await route[2](req, res, params, s, context);
        };
        handle().catch((e) => {
            const err = toHttpError(e);
            if (err.status === 500) console.error(`[${process.pid}] ${req.method} ${url.pathname}: ${(e as Error).stack ?? e}`);
            if (!res.headersSent) sendJson(res, err.status, { error: err.code, message: err.message, ...err.extra }, err.headers);
            else res.destroy();
        });
    };
}
