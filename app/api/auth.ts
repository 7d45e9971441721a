/**
 * Who is asking: an API client sends `Authorization: Bearer <token>`; the web client holds the same kind of
 * token in an HttpOnly, Secure, SameSite=Lax cookie (`__Host-` prefixed: no Domain, Path=/, HTTPS only), and
 * a write authenticated by that cookie must also carry X-CSRF-Token (derived from the session, handed to the
 * page at login), which another site's page cannot read or forge. Credentials that are sent but not valid
 * are a 401, never silently anonymous.
 */
import * as crypto from "crypto";
import * as http from "http";
import { HttpError, parseId } from "./http";
import { csrfTokenFor, Sessions, SessionUser } from "./sessions";

export const SESSION_COOKIE = "__Host-instagram-session";
export const CSRF_HEADER = "x-csrf-token";

export interface Viewer {
    readonly user: SessionUser;
    readonly token: string;
    readonly via: "bearer" | "cookie";
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function unauthenticated(message: string): HttpError {
    return new HttpError(401, "unauthenticated", message, {}, { "WWW-Authenticate": 'Bearer realm="instagram"' });
}

function cookieValue(req: http.IncomingMessage, name: string): string | undefined {
    for (const part of (req.headers.cookie ?? "").split(";")) {
        const eq = part.indexOf("=");
        if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
    }
    return undefined;
}

function credentialsOf(req: http.IncomingMessage): { token: string; via: Viewer["via"] } | undefined {
    const header = req.headers.authorization;
    if (header !== undefined) {
        const m = /^Bearer ([^\s]+)$/i.exec(header.trim());
        if (!m) throw unauthenticated("the Authorization header must be `Bearer <token>`");
        return { token: m[1], via: "bearer" };
    }
    const cookie = cookieValue(req, SESSION_COOKIE);
    return cookie ? { token: cookie, via: "cookie" } : undefined;
}

function sameText(a: string, b: string): boolean {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** The signed-in viewer, or undefined for an anonymous request; 401 for credentials that do not hold. */
export async function viewerOf(req: http.IncomingMessage, sessions: Sessions): Promise<Viewer | undefined> {
    const credentials = credentialsOf(req);
    if (!credentials) return undefined;
    const user = await sessions.lookup(credentials.token);
    if (!user) throw unauthenticated("the session is not valid: it expired, was ended, or never existed; log in again");
    if (credentials.via === "cookie" && !SAFE_METHODS.has(req.method ?? "GET")) {
        const sent = req.headers[CSRF_HEADER];
        if (typeof sent !== "string" || !sameText(sent, csrfTokenFor(credentials.token))) {
            throw new HttpError(403, "csrf_token_invalid", `a write authenticated by the session cookie needs the session's ${CSRF_HEADER} header`);
        }
    }
    return { user: user, ...credentials };
}

export async function requireViewer(req: http.IncomingMessage, sessions: Sessions): Promise<Viewer> {
    const viewer = await viewerOf(req, sessions);
    if (!viewer) throw unauthenticated("log in first: send Authorization: Bearer <token> from POST /api/v1/sessions");
    return viewer;
}

/** 403 unless the viewer is the user the path names: nobody acts in another's name. */
function requireSelf(viewer: Viewer, userId: bigint, action: string): void {
    if (viewer.user.id !== String(userId)) throw new HttpError(403, "forbidden", `user ${viewer.user.id} cannot ${action} as user ${userId}`);
}

/**
 * For a route under /users/:id that only that user may use: the session (401 without one), then the path's
 * ID (400 if malformed), then that they are the same user (403).
 */
export async function requireViewerAs(req: http.IncomingMessage, sessions: Sessions, pathId: string, action: string): Promise<{ viewer: Viewer; userId: bigint }> {
    const viewer = await requireViewer(req, sessions);
    const userId = parseId(pathId, "user id");
    requireSelf(viewer, userId, action);
    return { viewer, userId };
}

export function sessionCookie(token: string, maxAgeSeconds: number): string {
    return `${SESSION_COOKIE}=${token}; Max-Age=${maxAgeSeconds}; Path=/; HttpOnly; Secure; SameSite=Lax`;
}

export function clearedSessionCookie(): string {
    return `${SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`;
}

/**
 * The client's address for rate limits: on a host the app listens on a unix socket that only its nginx can
 * reach, and nginx sets X-Real-IP to the address it trusted (real_ip from the load balancer's header); a TCP
 * client (tests, a direct connection) is its own socket's address, whatever headers it sends.
 */
export function clientAddress(req: http.IncomingMessage): string {
    const remote = req.socket.remoteAddress;
    if (remote === undefined) {
        const real = req.headers["x-real-ip"];
        if (typeof real === "string" && real.length > 0 && real.length <= 64) return real;
        return "unix-socket";
    }
    return remote;
}
