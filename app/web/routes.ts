/**
 * The web client, served by the app itself (so it works wherever the API does: through the one-machine
 * edge, behind the load balancer): the page at /, its script and style sheet under content-addressed names
 * (cached for good; a new release has new names). A strict Content-Security-Policy allows only this origin's
 * script, style and API, and images from here and the media origin.
 */
import * as crypto from "crypto";
import * as http from "http";
import { CLIENT_SCRIPT } from "./client-script";
import { indexHtml, STYLE_SHEET } from "./page";
import { Route, RouteTable } from "../api/services";

const short = (text: string) => crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);
export const SCRIPT_PATH = `/static/app-${short(CLIENT_SCRIPT)}.js`;
export const STYLE_PATH = `/static/app-${short(STYLE_SHEET)}.css`;
const INDEX = indexHtml(SCRIPT_PATH, STYLE_PATH);
const INDEX_ETAG = `"${short(INDEX)}"`;

/** The origin photos are served from (the CDN), when the media base URL names one. */
function mediaOrigin(mediaBaseUrl: string): string {
    try {
        return new URL(mediaBaseUrl).origin;
    } catch {
        return "";
    }
}

export function contentSecurityPolicy(mediaBaseUrl: string): string {
    return [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        `img-src 'self' ${mediaOrigin(mediaBaseUrl)}`.trim(),
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ].join("; ");
}

function send(req: http.IncomingMessage, res: http.ServerResponse, body: string, type: string, headers: Record<string, string>): void {
    res.writeHead(200, { "Content-Type": type, "Content-Length": Buffer.byteLength(body), "X-Content-Type-Options": "nosniff", ...headers });
    res.end(req.method === "HEAD" ? undefined : body);
}

const asset = (body: string, type: string): Route => async (req, res) =>
    send(req, res, body, type, { "Cache-Control": "public, max-age=31536000, immutable" });

export const WEB_ROUTES: RouteTable = [
    ["GET", /^\/$/, async (req, res, _p, s) => {
        if (req.headers["if-none-match"] === INDEX_ETAG) {
            res.writeHead(304, { ETag: INDEX_ETAG }).end();
            return;
        }
        send(req, res, INDEX, "text/html; charset=utf-8", {
            "Cache-Control": "no-cache",
            ETag: INDEX_ETAG,
            "Content-Security-Policy": contentSecurityPolicy(s.config.mediaBaseUrl),
            "Referrer-Policy": "same-origin",
            "X-Frame-Options": "DENY",
        });
    }],
    // Browsers ask for it on their own; there is no icon, and saying so once a day is cheaper than a 404 each time.
    ["GET", /^\/favicon\.ico$/, async (_req, res) => { res.writeHead(204, { "Cache-Control": "public, max-age=86400" }).end(); }],
    ["GET", new RegExp(`^${SCRIPT_PATH.replace(/[.]/g, "\\.")}$`), asset(CLIENT_SCRIPT, "text/javascript; charset=utf-8")],
    ["GET", new RegExp(`^${STYLE_PATH.replace(/[.]/g, "\\.")}$`), asset(STYLE_SHEET, "text/css; charset=utf-8")],
];
