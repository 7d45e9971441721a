/**
 * The photo-sharing API every worker serves: JSON over HTTP, each input checked, errors as JSON with the
 * right status. It boots with whatever dependencies are configured: /healthz says the process is alive,
 * /readyz names what is missing or down, and routes that need it answer 503 until it is back.
 */
import * as http from "http";
import { AppContext } from "../server/protocol";
import { ApiConfig, loadApiConfig } from "./config";
import { HttpError, parseId, readJsonObject, sendJson } from "./http";
import { ShardRouter, Unavailable } from "./shards";
import { Conflict, NotFound, Users } from "./users";

const USERNAME = /^[a-z0-9_.]{1,30}$/;

interface Services {
    readonly config: ApiConfig;
    readonly shards?: ShardRouter;
    readonly users?: Users;
    /** Why the shards are not configured, if they are not. */
    readonly missing: string[];
}

function services(config: ApiConfig): Services {
    const missing: string[] = [...config.problems];
    if (config.shards.length === 0) missing.push("postgres: INSTAGRAM_PGBOUNCER_HOSTS is not set");
    if (!config.logicalShards) missing.push("postgres: INSTAGRAM_LOGICAL_SHARDS is not set");
    if (!config.dbPassword) missing.push("postgres: no password (credential postgres-app or INSTAGRAM_DB_PASSWORD)");
    if (missing.length > 0 || !config.logicalShards) return { config, missing };
    const shards = new ShardRouter({ ...config, logicalShards: config.logicalShards });
    return { config, shards, users: new Users(shards), missing };
}

function need<T>(value: T | undefined, s: Services): T {
    if (value === undefined) throw new HttpError(503, "unavailable", "the database tier is not configured on this server", { missing: s.missing });
    return value;
}

type Route = (req: http.IncomingMessage, res: http.ServerResponse, params: string[], s: Services, ctx: AppContext) => Promise<void>;

const ROUTES: [string, RegExp, Route][] = [
    ["GET", /^\/healthz$/, async (_req, res) => sendJson(res, 200, { status: "ok", pid: process.pid })],
    ["GET", /^\/readyz$/, async (_req, res, _p, s) => {
        const shards = s.shards ? await s.shards.check() : [];
        const down = shards.filter((c) => !c.ok).map((c) => `shard ${c.shard}: ${c.error}`);
        const problems = [...s.missing, ...down];
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
];

function toHttpError(e: unknown): HttpError {
    if (e instanceof HttpError) return e;
    if (e instanceof Unavailable) return new HttpError(503, "unavailable", e.message, { dependency: e.dependency });
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
            if (!res.headersSent) sendJson(res, err.status, { error: err.code, message: err.message, ...err.extra });
            else res.destroy();
        });
    };
}
