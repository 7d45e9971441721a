/** Follows, likes, comments and the activity feed. Every write acts as the session's user, and only as them. */
import { cleanText, HttpError, parseId, queryLimit, readJsonObject, requestUrl, sendJson } from "../http";
import { need, RouteTable } from "../services";
import { requireViewer, requireViewerAs } from "../auth";
import { MAX_COMMENT_CHARS } from "../comments";
import { ACTIVITY_LENGTH } from "../activity";

export const SOCIAL_ROUTES: RouteTable = [
    ["PUT", /^\/api\/v1\/users\/([^/]+)\/following\/([^/]+)$/, async (req, res, [id, target], s) => {
        const { viewer, userId: follower } = await requireViewerAs(req, s.sessions, id, "follow someone");
        const followee = parseId(target, "followed user id");
        if (await need(s.users, s).follow(follower, followee)) await s.activity.record(String(followee), { type: "follow", actor: viewer.user });
        res.writeHead(204).end();
    }],
    ["DELETE", /^\/api\/v1\/users\/([^/]+)\/following\/([^/]+)$/, async (req, res, [id, target], s) => {
        const { userId: follower } = await requireViewerAs(req, s.sessions, id, "unfollow someone");
        await need(s.users, s).unfollow(follower, parseId(target, "followed user id"));
        res.writeHead(204).end();
    }],
    ["GET", /^\/api\/v1\/users\/([^/]+)\/followers$/, async (_req, res, [id], s) => {
        const users = need(s.users, s);
        const user = parseId(id, "user id");
        await users.get(user);
        sendJson(res, 200, { followers: await users.followers(user) });
    }],
    ["PUT", /^\/api\/v1\/media\/([^/]+)\/like$/, async (req, res, [id], s, ctx) => {
        const viewer = await requireViewer(req, s.sessions);
        const state = await need(s.likes, s).like(viewer.user, parseId(id, "media id"));
        ctx.count("likes");
        sendJson(res, 200, state);
    }],
    ["DELETE", /^\/api\/v1\/media\/([^/]+)\/like$/, async (req, res, [id], s) => {
        const viewer = await requireViewer(req, s.sessions);
        sendJson(res, 200, await need(s.likes, s).unlike(viewer.user, parseId(id, "media id")));
    }],
    ["GET", /^\/api\/v1\/media\/([^/]+)\/comments$/, async (req, res, [id], s) => {
        const url = requestUrl(req);
        const before = url.searchParams.get("before");
        sendJson(res, 200, await need(s.comments, s).list(parseId(id, "media id"), queryLimit(url, 20, 100), before === null ? undefined : parseId(before, "before (a comment id)")));
    }],
    ["POST", /^\/api\/v1\/media\/([^/]+)\/comments$/, async (req, res, [id], s, ctx) => {
        const viewer = await requireViewer(req, s.sessions);
        const body = await readJsonObject(req, ["text"]);
        if (typeof body.text !== "string" || body.text.trim().length === 0) throw new HttpError(400, "invalid_request", "text must be a non-empty string");
        const text = cleanText(body.text, "text");
        if ([...text].length > MAX_COMMENT_CHARS) throw new HttpError(400, "invalid_request", `a comment is limited to ${MAX_COMMENT_CHARS} characters`);
        const comment = await need(s.comments, s).create(viewer.user, parseId(id, "media id"), text);
        ctx.count("comments");
        sendJson(res, 201, comment);
    }],
    ["DELETE", /^\/api\/v1\/media\/([^/]+)\/comments\/([^/]+)$/, async (req, res, [id, commentId], s) => {
        const viewer = await requireViewer(req, s.sessions);
        await need(s.comments, s).delete(viewer.user, parseId(id, "media id"), parseId(commentId, "comment id"));
        res.writeHead(204).end();
    }],
    ["GET", /^\/api\/v1\/users\/([^/]+)\/activity$/, async (req, res, [id], s) => {
        const { viewer } = await requireViewerAs(req, s.sessions, id, "read the activity of");
        sendJson(res, 200, { activity: await s.activity.list(viewer.user.id, queryLimit(requestUrl(req), 50, ACTIVITY_LENGTH)) });
    }],
];
