/**
 * Accounts and sessions: signup, login (a bearer token for API clients, or the session cookie for the web
 * client), the current session, logout, password change. Login and signup count against per-username and
 * per-address limits before any password is hashed; a wrong username and a wrong password get the same
 * answer after the same work. No password or token is ever logged or echoed back in an error.
 */
import { HttpError, parseId, readJsonObject, requestUrl, sendJson } from "../http";
import { need, RouteTable, Services } from "../services";
import { clearedSessionCookie, clientAddress, requireViewer, requireViewerAs, sessionCookie } from "../auth";
import { hashPassword, PASSWORD_MAX_BYTES, passwordProblem, verifyPassword } from "../passwords";
import { csrfTokenFor } from "../sessions";
import { NotFound } from "../users";
import * as http from "http";

export const USERNAME = /^[a-z0-9_.]{1,30}$/;
const USERNAME_RULE = "username must be 1-30 characters: lower-case letters, digits, '.' and '_'";

function username(value: unknown): string {
    if (typeof value !== "string" || !USERNAME.test(value)) throw new HttpError(400, "invalid_request", USERNAME_RULE);
    return value;
}

function password(value: unknown, field: string, owner: string): string {
    const problem = passwordProblem(value, field, owner);
    if (problem) throw new HttpError(400, "invalid_request", problem);
    return value as string;
}

const invalidCredentials = () => new HttpError(401, "invalid_credentials", "the username or the password is wrong");

/**
 * Before a password is checked (login, a password change): the address's attempts (scrypt's CPU), then its
 * failures at this username and in all (LoginThrottle: the guesser waits, the owner elsewhere does not).
 * Returns what to call once the password proved right or wrong.
 */
async function beforePasswordCheck(req: http.IncomingMessage, s: Services, name: string): Promise<{ succeeded(): Promise<void>; failed(): Promise<void> }> {
    const address = clientAddress(req);
    await s.limiter.hit([{ what: "auth-address", subject: address, limit: s.config.authLimitPerAddress }]);
    await s.loginThrottle.reserve(address, name);
    return { succeeded: () => s.loginThrottle.succeeded(address, name), failed: () => s.loginThrottle.failed(address, name) };
}

export const ACCOUNT_ROUTES: RouteTable = [
    ["POST", /^\/api\/v1\/users$/, async (req, res, _p, s, ctx) => {
        const body = await readJsonObject(req, ["username", "password"]);
        const name = username(body.username);
        const secret = password(body.password, "password", name);
        const users = need(s.users, s);
        // Per name too: a script probing which names are taken (409) is a guesser like any other.
        await s.limiter.hit([
            { what: "signup-username", subject: name, limit: s.config.signupLimitPerUsername },
            { what: "auth-address", subject: clientAddress(req), limit: s.config.authLimitPerAddress },
        ]);
        const user = await users.create(name, await hashPassword(secret, s.config.scryptCost));
        ctx.count("signups");
        sendJson(res, 201, user);
    }],
    ["GET", /^\/api\/v1\/users$/, async (req, res, _p, s) => {
        const name = username(requestUrl(req).searchParams.get("username") ?? undefined);
        const found = await need(s.users, s).findByUsername(name);
        if (!found) throw new NotFound(`no user ${name}`);
        sendJson(res, 200, found.user);
    }],
    ["GET", /^\/api\/v1\/users\/([^/]+)$/, async (_req, res, [id], s) => sendJson(res, 200, await need(s.users, s).get(parseId(id, "user id")))],
    ["PUT", /^\/api\/v1\/users\/([^/]+)\/password$/, async (req, res, [id], s) => {
        const { viewer, userId: user } = await requireViewerAs(req, s.sessions, id, "change the password");
        const body = await readJsonObject(req, ["currentPassword", "newPassword"]);
        if (typeof body.currentPassword !== "string") throw new HttpError(400, "invalid_request", "currentPassword must be a string");
        const current = body.currentPassword;
        const next = password(body.newPassword, "newPassword", viewer.user.username);
        const users = need(s.users, s);
        const check = await beforePasswordCheck(req, s, viewer.user.username);
        const { ok } = await verifyPassword(current, await users.passwordHashOf(user), s.config.scryptCost);
        if (!ok) {
            await check.failed();
            throw new HttpError(403, "invalid_credentials", "currentPassword is wrong");
        }
        await check.succeeded();
        await users.setPasswordHash(user, await hashPassword(next, s.config.scryptCost));
        // Whoever else held a session (someone who knew the old password) is logged out.
        const ended = await s.sessions.endOthers(viewer.user.id, viewer.token);
        sendJson(res, 200, { changed: true, otherSessionsEnded: ended });
    }],
    ["POST", /^\/api\/v1\/sessions$/, async (req, res, _p, s, ctx) => {
        const body = await readJsonObject(req, ["username", "password", "cookie"]);
        const name = username(body.username);
        if (typeof body.password !== "string" || body.password.length === 0) throw new HttpError(400, "invalid_request", "password must be a non-empty string");
        // No stored password is longer, so a longer one is refused before any hashing.
        if (Buffer.byteLength(body.password, "utf8") > PASSWORD_MAX_BYTES) throw new HttpError(400, "invalid_request", `password is limited to ${PASSWORD_MAX_BYTES} bytes`);
        if (body.cookie !== undefined && typeof body.cookie !== "boolean") throw new HttpError(400, "invalid_request", "cookie must be true or false");
        const users = need(s.users, s);
        const check = await beforePasswordCheck(req, s, name);
        const found = await users.findByUsername(name);
        const { ok, rehash } = await verifyPassword(body.password, found?.passwordHash, s.config.scryptCost);
        if (!found || !ok) {
            ctx.count("login_failures");
            await check.failed();
            throw invalidCredentials();
        }
        await check.succeeded();
        // A hash made at an older, cheaper cost is replaced now, while the password is at hand.
        if (rehash) await users.setPasswordHash(BigInt(found.user.id), await hashPassword(body.password, s.config.scryptCost));
        const token = await s.sessions.create({ id: found.user.id, username: found.user.username });
        ctx.count("logins");
        if (body.cookie === true) {
            sendJson(res, 201, { user: found.user, csrfToken: csrfTokenFor(token), expiresInSeconds: s.sessions.ttlSeconds }, { "Set-Cookie": sessionCookie(token, s.sessions.ttlSeconds) });
        } else {
            sendJson(res, 201, { token, user: found.user, expiresInSeconds: s.sessions.ttlSeconds });
        }
    }],
    ["GET", /^\/api\/v1\/sessions\/current$/, async (req, res, _p, s) => {
        const viewer = await requireViewer(req, s.sessions);
        sendJson(res, 200, { user: viewer.user, ...(viewer.via === "cookie" ? { csrfToken: csrfTokenFor(viewer.token) } : {}) });
    }],
    ["DELETE", /^\/api\/v1\/sessions\/current$/, async (req, res, _p, s) => {
        const viewer = await requireViewer(req, s.sessions);
        await s.sessions.end(viewer.token, viewer.user.id);
        res.writeHead(204, viewer.via === "cookie" ? { "Set-Cookie": clearedSessionCookie() } : {}).end();
    }],
];
