/**
 * Loopback stand-ins for Apple's and Google's push services, checking every request as the real ones do, for
 * the tests, `npm run bench:push` and trying push on the one-machine stack (nothing here reaches the
 * internet; both listen on 127.0.0.0/8 only, with a throwaway certificate).
 *
 * - APNs: HTTP/2 over TLS, POST /3/device/<token>. The bearer JWT must be ES256 with the expected kid and
 *   iss, verify against the key's public half, and be under an hour old; apns-topic must be the app's,
 *   apns-push-type/priority/expiration well-formed, apns-collapse-id at most 64 bytes, the payload JSON with
 *   `aps` and at most 4 KB. The answer depends on the token: see `behaviour`.
 * - FCM: an OAuth2 token endpoint (JWT bearer grant, RS256 assertion checked against the service account's
 *   public key, scope and audience) and /v1/projects/<id>/messages:send, which takes only tokens it issued.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as http2 from "http2";
import * as https from "https";
import { spawnSync } from "child_process";
import { generateKeyPairSync, KeyObject, randomBytes, verify } from "crypto";
import { AddressInfo } from "net";
import { APNS_MAX_COLLAPSE_ID_BYTES, APNS_MAX_PAYLOAD_BYTES, FCM_SCOPE } from "../core/push";

/** A self-signed certificate for one loopback address; `caFile` goes in NODE_EXTRA_CA_CERTS of the clients. */
export function loopbackCertificate(address: string): { key: string; cert: string; caFile: string; dir: string } {
    if (!address.startsWith("127.")) throw new Error(`stand-ins listen on loopback only, not ${address}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "push-tls-"));
    const r = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
        "-subj", `/CN=${address}`, "-addext", `subjectAltName=IP:${address}`, "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
    return { key: fs.readFileSync(path.join(dir, "key.pem"), "utf8"), cert: fs.readFileSync(path.join(dir, "cert.pem"), "utf8"), caFile: path.join(dir, "cert.pem"), dir };
}

/** A new APNs-like signing key (EC P-256, PKCS#8 PEM, as a .p8 file is). */
export function apnsTestKey(): { privateKey: string; publicKey: KeyObject } {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    return { privateKey: privateKey.export({ type: "pkcs8", format: "pem" }) as string, publicKey };
}

/** A new service account (RSA 2048, as Google issues); `json(tokenUri)` is its key file's text. */
export function testServiceAccount(projectId: string): { json: (tokenUri: string) => string; publicKey: KeyObject; clientEmail: string } {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const clientEmail = `push@${projectId}.iam.gserviceaccount.com`;
    const keyId = randomBytes(20).toString("hex");
    const pem = privateKey.export({ type: "pkcs8", format: "pem" });
    return { publicKey, clientEmail, json: (tokenUri) => JSON.stringify({ type: "service_account", project_id: projectId, private_key_id: keyId, private_key: pem, client_email: clientEmail, token_uri: tokenUri }) };
}

interface Jwt { header: Record<string, unknown>; claims: Record<string, unknown> }

/** The JWT's header and claims when its signature verifies with `key`, else a reason. */
export function verifyJwt(token: string, key: KeyObject, alg: "ES256" | "RS256"): Jwt | string {
    const parts = token.split(".");
    if (parts.length !== 3) return "not a JWT";
    let header: Record<string, unknown>, claims: Record<string, unknown>;
    try {
        header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"));
        claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    } catch {
        return "the JWT's header or claims are not JSON";
    }
    if (header.alg !== alg) return `alg ${String(header.alg)}, expected ${alg}`;
    const ok = verify("sha256", Buffer.from(`${parts[0]}.${parts[1]}`), alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key, Buffer.from(parts[2], "base64url"));
    return ok ? { header, claims } : "the signature does not verify";
}

/** What a token gets: "ok", a fixed failure, or failures for the first `times` requests and then 200. */
export type Behaviour = { kind: "ok" } | { kind: "fail"; status: number; reason: string; times?: number };

export interface Received {
    readonly token: string;
    readonly headers: Record<string, string>;
    readonly payload: Record<string, unknown>;
    /** The provider token (JWT) or access token the request came with. */
    readonly auth: string;
    readonly status: number;
}

export interface ApnsStandIn {
    readonly url: string;
    readonly caFile: string;
    /** Every request, in order, with what it was answered. */
    readonly requests: Received[];
    /** Accepted notifications (status 200). */
    delivered(): Received[];
    /** TLS sessions opened to it. */
    connections(): number;
    /** Set what a token gets (default ok). */
    behaviour: Map<string, Behaviour>;
    close(): Promise<void>;
}

const APNS_PUSH_TYPES = ["alert", "background", "voip", "complication", "fileprovider", "mdm", "location", "liveactivity", "pushtotalk"];

/** The APNs stand-in at https://ADDRESS:PORT (port 0: any). */
export async function startApnsStandIn(o: { address: string; port?: number; teamId: string; keyId: string; topic: string; publicKey: KeyObject; now?: () => number }): Promise<ApnsStandIn> {
    const tls = loopbackCertificate(o.address);
    const now = o.now ?? Date.now;
    const requests: Received[] = [];
    const behaviour = new Map<string, Behaviour>();
    const seen = new Map<string, number>();
    let connections = 0;
    const server = http2.createSecureServer({ key: tls.key, cert: tls.cert, allowHTTP1: false });
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on("secureConnection", () => connections++);
    server.on("session", (session) => { sessions.add(session); session.on("close", () => sessions.delete(session)); });
    server.on("stream", (stream, headers) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
            const answer = (status: number, reason?: string, extra: Record<string, unknown> = {}) => {
                const h = Object.fromEntries(Object.entries(headers).filter(([k]) => typeof k === "string").map(([k, v]) => [k, String(v)]));
                let payload: Record<string, unknown> = {};
                try { payload = JSON.parse(Buffer.concat(chunks).toString("utf8")); } catch { /* recorded empty */ }
                const token = String(headers[":path"] ?? "").replace(/^\/3\/device\//, "");
                requests.push({ token, headers: h, payload, auth: String(headers.authorization ?? "").replace(/^bearer /, ""), status });
                stream.respond({ ":status": status, "apns-id": randomBytes(16).toString("hex"), ...(reason ? { "content-type": "application/json" } : {}) });
                stream.end(reason ? JSON.stringify({ reason, ...extra }) : undefined);
            };
            const p = /^\/3\/device\/([0-9a-f]+)$/.exec(String(headers[":path"]));
            if (headers[":method"] !== "POST") return answer(405, "MethodNotAllowed");
            if (!p) return answer(404, "BadPath");
            const auth = /^bearer (.+)$/.exec(String(headers.authorization ?? ""));
            if (!auth) return answer(403, "MissingProviderToken");
            const jwt = verifyJwt(auth[1], o.publicKey, "ES256");
            if (typeof jwt === "string") return answer(403, "InvalidProviderToken");
            if (jwt.header.kid !== o.keyId || jwt.claims.iss !== o.teamId) return answer(403, "InvalidProviderToken");
            const iat = Number(jwt.claims.iat);
            if (!Number.isInteger(iat) || now() / 1000 - iat > 3600) return answer(403, "ExpiredProviderToken");
            if (headers["apns-topic"] !== o.topic) return answer(400, headers["apns-topic"] ? "TopicDisallowed" : "MissingTopic");
            if (!APNS_PUSH_TYPES.includes(String(headers["apns-push-type"]))) return answer(400, "InvalidPushType");
            if (headers["apns-priority"] !== undefined && !["1", "5", "10"].includes(String(headers["apns-priority"]))) return answer(400, "BadPriority");
            if (headers["apns-expiration"] !== undefined && !/^\d+$/.test(String(headers["apns-expiration"]))) return answer(400, "BadExpirationDate");
            if (headers["apns-collapse-id"] !== undefined && Buffer.byteLength(String(headers["apns-collapse-id"])) > APNS_MAX_COLLAPSE_ID_BYTES) return answer(400, "BadCollapseId");
            const body = Buffer.concat(chunks);
            if (body.length > APNS_MAX_PAYLOAD_BYTES) return answer(413, "PayloadTooLarge");
            try {
                const json = JSON.parse(body.toString("utf8"));
                if (typeof json?.aps !== "object") return answer(400, "PayloadEmpty");
            } catch {
                return answer(400, "BadMessageId");
            }
            const b = behaviour.get(p[1]) ?? { kind: "ok" };
            if (b.kind === "fail") {
                const n = (seen.get(p[1]) ?? 0) + 1;
                seen.set(p[1], n);
                if (b.times === undefined || n <= b.times) return answer(b.status, b.reason, b.status === 410 ? { timestamp: now() } : {});
            }
            return answer(200);
        });
    });
    await new Promise<void>((resolve, reject) => { server.once("error", reject); server.listen(o.port ?? 0, o.address, resolve); });
    const port = (server.address() as AddressInfo).port;
    return {
        url: `https://${o.address}:${port}`,
        caFile: tls.caFile,
        requests,
        behaviour,
        delivered: () => requests.filter((r) => r.status === 200),
        connections: () => connections,
        close: () => new Promise<void>((resolve) => {
            server.close(() => resolve());
            // Clients keep their HTTP/2 sessions open: end them so close() returns.
            for (const s of sessions) s.destroy();
            fs.rmSync(tls.dir, { recursive: true, force: true });
        }),
    };
}

export interface FcmStandIn {
    /** https://ADDRESS:PORT: both the token endpoint (/token) and the API (/v1/...). */
    readonly url: string;
    readonly tokenUri: string;
    readonly caFile: string;
    readonly requests: Received[];
    delivered(): Received[];
    /** Access tokens issued. */
    tokensIssued(): number;
    behaviour: Map<string, Behaviour>;
    close(): Promise<void>;
}

/** The FCM stand-in: its token endpoint issues access tokens that last `expiresIn` seconds (default 3600). */
export async function startFcmStandIn(o: { address: string; port?: number; projectId: string; clientEmail: string; publicKey: KeyObject; expiresIn?: number; now?: () => number }): Promise<FcmStandIn> {
    const tls = loopbackCertificate(o.address);
    const now = o.now ?? Date.now;
    const requests: Received[] = [];
    const behaviour = new Map<string, Behaviour>();
    const seen = new Map<string, number>();
    const issued = new Map<string, number>();
    let base = "";
    const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const json = (status: number, body: unknown) => { res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body)); };
            if (req.method === "POST" && req.url === "/token") {
                const form = new URLSearchParams(text);
                if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return json(400, { error: "unsupported_grant_type" });
                const jwt = verifyJwt(form.get("assertion") ?? "", o.publicKey, "RS256");
                if (typeof jwt === "string") return json(400, { error: "invalid_grant", error_description: jwt });
                const c = jwt.claims;
                const nowS = now() / 1000;
                if (c.iss !== o.clientEmail || c.aud !== `${base}/token` || c.scope !== FCM_SCOPE || !(Number(c.exp) > nowS) || Number(c.exp) - Number(c.iat) > 3600) {
                    return json(400, { error: "invalid_grant", error_description: "iss, aud, scope or exp is wrong" });
                }
                const token = `ya29.${randomBytes(24).toString("base64url")}`;
                const expiresIn = o.expiresIn ?? 3600;
                issued.set(token, nowS + expiresIn);
                return json(200, { access_token: token, expires_in: expiresIn, token_type: "Bearer" });
            }
            const fcmError = (status: number, code: string, errorCode?: string) => ({ error: { code: status, message: code, status: code, ...(errorCode ? { details: [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode }] } : {}) } });
            if (req.method !== "POST" || req.url !== `/v1/projects/${o.projectId}/messages:send`) return json(404, fcmError(404, "NOT_FOUND"));
            const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
            const record = (status: number, payload: Record<string, unknown>) => {
                const message = (payload.message ?? {}) as Record<string, unknown>;
                requests.push({ token: String(message.token ?? ""), headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), payload, auth, status });
            };
            let payload: Record<string, unknown>;
            try { payload = JSON.parse(text); } catch { record(400, {}); return json(400, fcmError(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT")); }
            const expiry = issued.get(auth);
            if (expiry === undefined || expiry < now() / 1000) { record(401, payload); return json(401, fcmError(401, "UNAUTHENTICATED")); }
            const message = payload.message as Record<string, unknown> | undefined;
            const data = (message?.data ?? {}) as Record<string, unknown>;
            if (typeof message?.token !== "string" || Object.values(data).some((v) => typeof v !== "string")) { record(400, payload); return json(400, fcmError(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT")); }
            const b = behaviour.get(message.token) ?? { kind: "ok" };
            if (b.kind === "fail") {
                const n = (seen.get(message.token) ?? 0) + 1;
                seen.set(message.token, n);
                if (b.times === undefined || n <= b.times) { record(b.status, payload); return json(b.status, fcmError(b.status, b.status === 404 ? "NOT_FOUND" : b.status === 429 ? "RESOURCE_EXHAUSTED" : "UNAVAILABLE", b.reason)); }
            }
            record(200, payload);
            return json(200, { name: `projects/${o.projectId}/messages/${randomBytes(8).toString("hex")}` });
        });
    });
    await new Promise<void>((resolve, reject) => { server.once("error", reject); server.listen(o.port ?? 0, o.address, resolve); });
    base = `https://${o.address}:${(server.address() as AddressInfo).port}`;
    return {
        url: base,
        tokenUri: `${base}/token`,
        caFile: tls.caFile,
        requests,
        behaviour,
        delivered: () => requests.filter((r) => r.status === 200),
        tokensIssued: () => issued.size,
        close: () => new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
            fs.rmSync(tls.dir, { recursive: true, force: true });
        }),
    };
}
