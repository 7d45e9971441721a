/**
 * The photo-sharing API every worker serves, and the web client beside it: JSON over HTTP, each input
 * checked, errors as JSON with the right status. It boots with whatever dependencies are configured:
 * /healthz says the process is alive, /readyz names what is missing or down, and routes that need it answer
 * 503 until it is back. The routes live by area in routes/; this file only dispatches and maps errors.
 */
import * as crypto from "crypto";
import * as http from "http";
import { AppContext } from "../server/protocol";
import { loadApiConfig } from "./config";
import { HttpError, sendJson } from "./http";
import { Unavailable, UnknownShard } from "./shards";
import { Conflict, NotFound } from "./users";
import { Forbidden } from "./comments";
import { buildServices, connectionsUp, RouteTable } from "./services";
import { routeName } from "./error-reports";
import { HEALTH_ROUTES } from "./routes/health";
import { ACCOUNT_ROUTES } from "./routes/accounts";
import { SOCIAL_ROUTES } from "./routes/social";
import { MEDIA_ROUTES } from "./routes/media";
import { DEVICE_ROUTES } from "./routes/devices";
import { WEB_ROUTES } from "../web/routes";

/** Every route, in the order they are matched (exported for the probe test of hostile input). */
export const ROUTES: RouteTable = [...HEALTH_ROUTES, ...ACCOUNT_ROUTES, ...SOCIAL_ROUTES, ...MEDIA_ROUTES, ...DEVICE_ROUTES, ...WEB_ROUTES];

function toHttpError(e: unknown): HttpError {
    if (e instanceof HttpError) return e;
    if (e instanceof Unavailable) {
        return new HttpError(503, "unavailable", e.message, { dependency: e.dependency }, e.retryAfterSeconds === undefined ? {} : { "Retry-After": String(e.retryAfterSeconds) });
    }
    if (e instanceof NotFound || e instanceof UnknownShard) return new HttpError(404, "not_found", e.message);
    if (e instanceof Conflict) return new HttpError(409, "conflict", e.message);
    if (e instanceof Forbidden) return new HttpError(403, "forbidden", e.message);
    return new HttpError(500, "internal_error", "the server failed to handle the request");
}

/** The ID nginx gives each request ($request_id), or one of our own for a request that came another way. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
function requestIdOf(req: http.IncomingMessage): string {
    const given = req.headers["x-request-id"];
    return typeof given === "string" && REQUEST_ID.test(given) ? given : crypto.randomUUID();
}

/** The request's URL, or undefined for a target no URL parser takes ("//[x", "http://["): the client's mistake, a 400. */
function requestUrl(req: http.IncomingMessage): URL | undefined {
    try {
        return new URL(req.url ?? "/", "http://api");
    } catch {
        return undefined;
    }
}

/** How long a booting worker waits for its Redis connections before it serves without them. */
const CONNECTIONS_WAIT_MS = 5000;

export async function createApp(context: AppContext, env: NodeJS.ProcessEnv = process.env): Promise<http.RequestListener> {
    const s = buildServices(loadApiConfig(env));
    await connectionsUp(s, CONNECTIONS_WAIT_MS);
    return (req, res) => {
        const requestId = requestIdOf(req);
        // The client and the logs can name the request an error report is filed under.
        res.setHeader("X-Request-Id", requestId);
        const url = requestUrl(req);
        const path = url?.pathname ?? "(malformed)";
        const matching = url ? ROUTES.filter(([, pattern]) => pattern.test(url.pathname)) : [];
        // HEAD is answered wherever GET is (the web client's pages), without a body.
        const route = matching.find(([method]) => method === req.method || (req.method === "HEAD" && method === "GET"));
        const handle = async () => {
            if (!url) throw new HttpError(400, "invalid_request", "the request target is not a valid path");
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
            // The method and path only: a query string may carry a caption, and nothing here logs headers or bodies.
            if (err.status === 500) {
                console.error(`[${process.pid}] ${req.method} ${path} (request ${requestId}): ${(e as Error).stack ?? e}`);
                // Only the 500s are errors of ours: a 4xx is the client's, a 503 a dependency away (the alarms' part).
                s.errorReports.report(e, { requestId, method: req.method, route: route ? routeName(route[1]) : undefined });
            }
            if (!res.headersSent) sendJson(res, err.status, { error: err.code, message: err.message, ...err.extra }, err.headers);
            else res.destroy();
        });
    };
}
