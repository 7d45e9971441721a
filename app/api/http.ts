/** JSON in and out, with the API's error shape: { error, message } and the right status, never a stack trace. */
import * as http from "http";

export class HttpError extends Error {
    constructor(readonly status: number, readonly code: string, message: string, readonly extra: Record<string, unknown> = {}, readonly headers: Record<string, string> = {}) {
        super(message);
    }
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    sendJsonText(res, status, JSON.stringify(body), headers);
}

/** A body that is JSON text already (built from cached JSON). */
export function sendJsonText(res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { ...headers, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), "Cache-Control": "no-store" });
    res.end(text);
}

/**
 * Text a user writes (a comment, a caption) as it is stored: line breaks as LF (a browser's form encoding sends
 * a textarea's as CRLF); refused, naming the field, when it holds a control character other than LF and tab
 * (PostgreSQL refuses NUL outright: that was a 500; ESC or C1 codes would reach every viewer's terminal or
 * page) or half of a UTF-16 surrogate pair (JSON can spell one as \\ud800: not text, and not UTF-8).
 */
export function cleanText(value: string, field: string): string {
    const text = value.replace(/\r\n?/g, "\n");
    const control = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.exec(text);
    if (control) throw new HttpError(400, "invalid_request", `${field} holds the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`);
    if (/\p{Cs}/u.test(text)) throw new HttpError(400, "invalid_request", `${field} holds half of a UTF-16 surrogate pair, which is not text`);
    return text;
}

export const MAX_JSON_BYTES = 16 * 1024;

/** A JSON object body with exactly the allowed fields (unknown ones are an error, not ignored). */
export async function readJsonObject(req: http.IncomingMessage, allowed: readonly string[]): Promise<Record<string, unknown>> {
    if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) throw new HttpError(415, "unsupported_media_type", "send the body as application/json");
    const raw = await readRawBody(req, MAX_JSON_BYTES);
    let body: unknown;
    try {
        body = JSON.parse(raw.toString("utf8"));
    } catch {
        throw new HttpError(400, "invalid_json", "the body is not valid JSON");
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) throw new HttpError(400, "invalid_request", "the body must be a JSON object");
    const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
    if (unknown.length > 0) throw new HttpError(400, "invalid_request", `unknown field(s): ${unknown.join(", ")}; allowed: ${allowed.join(", ")}`);
    return body as Record<string, unknown>;
}

/** A raw body of at most `limit` bytes (checked on the header first, then while reading). */
export function readRawBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
    const tooLarge = () => new HttpError(413, "too_large", `the body is limited to ${limit} bytes`);
    if (Number(req.headers["content-length"] ?? 0) > limit) return Promise.reject(tooLarge());
    // Events rather than an async iterator: a body of one chunk (most photos and every JSON body) is one callback.
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const onData = (chunk: Buffer) => {
            size += chunk.length;
            if (size > limit) {
                req.off("data", onData);
                req.resume();
                reject(tooLarge());
                return;
            }
            chunks.push(chunk);
        };
        req.on("data", onData);
        req.once("end", () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
        req.once("error", reject);
        // The client's doing, not a server error (no 500, no error report, nothing toward the 5xx alarm).
        req.once("aborted", () => reject(new HttpError(400, "invalid_request", "the request body ended before it was complete")));
    });
}

const MAX_ID = (1n << 63n) - 1n;

export function parseId(text: string, what: string): bigint {
    if (!/^\d{1,19}$/.test(text) || BigInt(text) > MAX_ID || BigInt(text) === 0n) throw new HttpError(400, "invalid_request", `${what} must be a positive 64-bit ID`);
    return BigInt(text);
}

/** A `limit` query parameter: 1 to `max`, `fallback` when absent; undefined when it is not one. */
export function parseLimit(url: URL, fallback: number, max: number): number | undefined {
    const text = url.searchParams.get("limit") ?? String(fallback);
    return /^\d{1,4}$/.test(text) && Number(text) >= 1 && Number(text) <= max ? Number(text) : undefined;
}

/** parseLimit, or 400. */
export function queryLimit(url: URL, fallback: number, max: number): number {
    const limit = parseLimit(url, fallback, max);
    if (limit === undefined) throw new HttpError(400, "invalid_request", `limit must be 1-${max}`);
    return limit;
}

export function requestUrl(req: http.IncomingMessage): URL {
    return new URL(req.url ?? "/", "http://api");
}
