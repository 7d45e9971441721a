/**
 * A loopback stand-in for Sentry's ingest endpoint (POST /api/<project>/envelope/), checking each request as
 * Sentry does: the project must be the DSN's, the public key must come in the sentry_key query parameter or
 * the X-Sentry-Auth header (401 otherwise), the body must be an envelope (a header line, then an item header
 * and its payload per item; gzip or deflate when Content-Encoding says so). It keeps the raw bodies (to look
 * for anything that must never be sent) and the error events. Tests only: it listens on 127.0.0.0/8.
 */
import * as http from "http";
import * as zlib from "zlib";
import { AddressInfo } from "net";

export interface ReceivedEvent {
    readonly event: Record<string, unknown>;
    /** The envelope as it arrived, decoded: what a scrub must have cleaned. */
    readonly raw: string;
}

export interface SentryStandIn {
    readonly dsn: string;
    readonly url: string;
    /** Error events received so far (items of type "event"). */
    events(): ReceivedEvent[];
    /** Every envelope body received, decoded (events, client reports, sessions). */
    bodies(): string[];
    /** Requests refused, with why (a wrong key, a wrong project, not an envelope). */
    refused(): string[];
    close(): Promise<void>;
}

export const STAND_IN_KEY = "0123456789abcdef0123456789abcdef";
export const STAND_IN_PROJECT = "42";

function decode(body: Buffer, encoding: string | undefined): Buffer {
    if (encoding === "gzip") return zlib.gunzipSync(body);
    if (encoding === "deflate") return zlib.inflateSync(body);
    if (encoding === "br") return zlib.brotliDecompressSync(body);
    return body;
}

/** The items of an envelope: [item header, payload]. Throws on what is not one. */
export function parseEnvelope(text: string): { header: Record<string, unknown>; items: [Record<string, unknown>, string][] } {
    const lines = text.split("\n");
    const header = JSON.parse(lines[0]) as Record<string, unknown>;
    const items: [Record<string, unknown>, string][] = [];
    for (let i = 1; i < lines.length; i++) {
        if (lines[i] === "") continue;
        const itemHeader = JSON.parse(lines[i]) as Record<string, unknown>;
        const payload = lines[i + 1] ?? "";
        if (typeof itemHeader.length === "number" && Buffer.byteLength(payload) !== itemHeader.length) throw new Error(`item ${items.length} is ${Buffer.byteLength(payload)} bytes, its header says ${itemHeader.length}`);
        items.push([itemHeader, payload]);
        i++;
    }
    return { header, items };
}

export async function startSentryStandIn(address: string): Promise<SentryStandIn> {
    if (!address.startsWith("127.")) throw new Error(`the Sentry stand-in listens on loopback only, not ${address}`);
    const events: ReceivedEvent[] = [];
    const bodies: string[] = [];
    const refused: string[] = [];
    const refuse = (res: http.ServerResponse, status: number, why: string) => {
        refused.push(why);
        res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify({ detail: why }));
    };
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const url = new URL(req.url ?? "/", "http://sentry");
            const path = /^\/api\/([^/]+)\/envelope\/$/.exec(url.pathname);
            if (req.method !== "POST" || !path) return refuse(res, 404, `${req.method} ${url.pathname}: not an envelope endpoint`);
            if (path[1] !== STAND_IN_PROJECT) return refuse(res, 404, `project ${path[1]} does not exist`);
            const key = url.searchParams.get("sentry_key") ?? /sentry_key=([0-9a-f]+)/.exec(String(req.headers["x-sentry-auth"] ?? ""))?.[1];
            if (key !== STAND_IN_KEY) return refuse(res, 401, `bad public key ${key ?? "(none)"}`);
            let text: string;
            let envelope: ReturnType<typeof parseEnvelope>;
            try {
                text = decode(Buffer.concat(chunks), req.headers["content-encoding"]).toString("utf8");
                envelope = parseEnvelope(text);
            } catch (e) {
                return refuse(res, 400, `not an envelope: ${(e as Error).message}`);
            }
            bodies.push(text);
            for (const [itemHeader, payload] of envelope.items) {
                if (itemHeader.type === "event") events.push({ event: JSON.parse(payload) as Record<string, unknown>, raw: text });
            }
            res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ id: envelope.header.event_id ?? null }));
        });
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, address, resolve);
    });
    const port = (server.address() as AddressInfo).port;
    return {
        dsn: `http://${STAND_IN_KEY}@${address}:${port}/${STAND_IN_PROJECT}`,
        url: `http://${address}:${port}`,
        events: () => [...events],
        bodies: () => [...bodies],
        refused: () => [...refused],
        close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
    };
}
