/** Photos: upload (as the session's user), one photo, and the viewer's own feed. */
import { cleanText, HttpError, parseId, parseLimit, queryLimit, readRawBody, requestUrl, sendJson, sendJsonText } from "../http";
import { need, RouteTable, Services } from "../services";
import { MediaRecord } from "../feed";
import { deadLetter } from "../../jobs/share-job";
import { requireViewer, requireViewerAs, viewerOf } from "../auth";
import { PHOTO_TYPES, photoExtension } from "../media-store";
import { LatLng, parseLatLng, SEARCH_COUNT, SEARCH_DISTANCE_M } from "../../../core/geo";
import { SearchQuery } from "../search";

/** `lat` and `lng` of a query string, checked; 400 naming the parameter. */
function locationOf(url: URL): LatLng | undefined {
    const parsed = parseLatLng(url.searchParams.get("lat"), url.searchParams.get("lng"));
    if (typeof parsed === "string") throw new HttpError(400, "invalid_request", parsed);
    return parsed;
}

/** A whole number from a query string within [min, max], or the fallback when absent; 400 naming it otherwise. */
function integerParam(url: URL, name: string, min: number, max: number, fallback?: number): number | undefined {
    const raw = url.searchParams.get(name);
    if (raw === null || raw === "") return fallback;
    if (!/^\d{1,12}$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new HttpError(400, "invalid_request", `${name} must be a whole number from ${min} to ${max}`);
    return Number(raw);
}

/** GET /api/v1/media/search's parameters (Instagram's v1: lat, lng, distance, min_timestamp, max_timestamp, count) and order. */
export function searchQueryOf(url: URL): SearchQuery {
    const known = ["lat", "lng", "distance", "min_timestamp", "max_timestamp", "count", "order"];
    const unknown = [...url.searchParams.keys()].filter((k) => !known.includes(k));
    if (unknown.length > 0) throw new HttpError(400, "invalid_request", `unknown parameter ${unknown[0]} (the search takes ${known.join(", ")})`);
    const center = locationOf(url);
    if (!center) throw new HttpError(400, "invalid_request", "lat and lng are required");
    const minTimestamp = integerParam(url, "min_timestamp", 0, 4_102_444_800);
    const maxTimestamp = integerParam(url, "max_timestamp", 0, 4_102_444_800);
    if (minTimestamp !== undefined && maxTimestamp !== undefined && minTimestamp > maxTimestamp) throw new HttpError(400, "invalid_request", "min_timestamp is after max_timestamp");
    const order = url.searchParams.get("order") ?? "nearest";
    if (order !== "nearest" && order !== "newest") throw new HttpError(400, "invalid_request", "order must be nearest or newest");
    return {
        center,
        distanceM: integerParam(url, "distance", 1, SEARCH_DISTANCE_M.max, SEARCH_DISTANCE_M.default)!,
        minTimestamp,
        maxTimestamp,
        count: integerParam(url, "count", 1, SEARCH_COUNT.max, SEARCH_COUNT.default)!,
        order,
    };
}

export const MAX_CAPTION = 2200;

/** `?share=a,b`: each a configured destination, and the job servers there to take the jobs. */
function shareDestinationsOf(param: string | null, s: Services): string[] {
    if (param === null || param === "") return [];
    const names = [...new Set(param.split(","))];
    const known = s.config.shareDestinations.map((d) => d.name);
    const unknown = names.filter((n) => !known.includes(n));
    if (unknown.length > 0) throw new HttpError(400, "invalid_request", `share: ${unknown.join(", ")} ${unknown.length > 1 ? "are" : "is"} not a destination of this site (${known.length ? known.join(", ") : "it has none"})`);
    if (!s.shareQueue) throw new HttpError(503, "unavailable", "sharing needs the job servers, which this server has not been given");
    return names;
}

/**
 * One job per destination. The photo is posted whatever happens here: a share the queue does not take is
 * dead-lettered (for an operator to replay) and reported, never a failed upload.
 */
async function queueShares(s: Services, destinations: readonly string[], media: MediaRecord): Promise<{ destination: string; queued: boolean }[]> {
    return Promise.all(destinations.map(async (destination) => {
        try {
            await s.shareQueue!.submit(destination, media);
            return { destination, queued: true };
        } catch (e) {
            if (s.redis) await deadLetter(s.redis, { destination, mediaId: media.id, attempts: 0, lastError: `not queued: ${(e as Error).message}`, at: new Date().toISOString() }).catch(() => undefined);
            return { destination, queued: false };
        }
    }));
}

export const MEDIA_ROUTES: RouteTable = [
    ["POST", /^\/api\/v1\/users\/([^/]+)\/media$/, async (req, res, [id], s, ctx) => {
        const { viewer } = await requireViewerAs(req, s.sessions, id, "upload a photo");
        const feeds = need(s.feeds, s);
        const contentType = (req.headers["content-type"] ?? "").split(";")[0].trim();
        if (!PHOTO_TYPES.includes(contentType)) throw new HttpError(415, "unsupported_media_type", `upload a photo as ${PHOTO_TYPES.join(", ")}`);
        const caption = cleanText(requestUrl(req).searchParams.get("caption") ?? "", "caption");
        if ([...caption].length > MAX_CAPTION) throw new HttpError(400, "invalid_request", `caption is limited to ${MAX_CAPTION} characters`);
        const shareTo = shareDestinationsOf(requestUrl(req).searchParams.get("share"), s);
        const location = locationOf(requestUrl(req));
        const body = await readRawBody(req, s.config.maxUploadBytes);
        const ext = photoExtension(contentType, body);
        if (!ext) throw new HttpError(400, "invalid_request", `the body is not a ${contentType} image`);
        const result = await feeds.upload(viewer.user, body, contentType, ext, caption, location);
        ctx.count("uploads");
        const shares = await queueShares(s, shareTo, result.media);
        sendJson(res, 201, shareTo.length > 0 ? { ...result, shares } : result);
    }],
    // Before /media/<id>: "search" is not a photo ID.
    ["GET", /^\/api\/v1\/media\/search$/, async (req, res, _p, s) => {
        const query = searchQueryOf(requestUrl(req));
        const search = s.search;
        if (!search) throw new HttpError(503, "unavailable", "search needs the search tier, which this server has not been given", { dependency: "search" });
        const hits = await search.search(query);
        const viewer = await viewerOf(req, s.sessions);
        sendJsonText(res, 200, await need(s.feeds, s).searchPage(hits, viewer?.user.id));
    }],
    ["DELETE", /^\/api\/v1\/media\/([^/]+)$/, async (req, res, [id], s) => {
        const viewer = await requireViewer(req, s.sessions);
        const result = await need(s.feeds, s).delete(viewer.user, parseId(id, "media id"));
        sendJson(res, 200, { deleted: true, ...result });
    }],
    ["GET", /^\/api\/v1\/media\/([^/]+)$/, async (req, res, [id], s) => {
        const viewer = await viewerOf(req, s.sessions);
        sendJsonText(res, 200, await need(s.feeds, s).get(parseId(id, "media id"), viewer?.user.id));
    }],
    ["GET", /^\/api\/v1\/users\/([^/]+)\/feed$/, async (req, res, [id], s) => {
        const url = requestUrl(req);
        // The feed's IDs go to Redis in the same write as the session lookup, and are used only once the session
        // proves to be this user's: requireViewerAs's checks and their order (401, 400, 403) stand.
        const limit = parseLimit(url, 20, 100);
        const early = s.feeds && limit !== undefined && /^\d{1,19}$/.test(id) ? s.feeds.feedIds(id, limit) : undefined;
        early?.catch(() => undefined);
        const { viewer } = await requireViewerAs(req, s.sessions, id, "read the feed of");
        const feeds = need(s.feeds, s);
        const ids = await (early ?? feeds.feedIds(viewer.user.id, queryLimit(url, 20, 100)));
        sendJsonText(res, 200, await feeds.feedPage(viewer.user, ids));
    }],
];
