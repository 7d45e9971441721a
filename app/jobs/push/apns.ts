/**
 * Apple Push Notification service over HTTP/2 with provider-token authentication: one long-lived HTTP/2
 * connection per worker process (Apple asks providers to keep connections open rather than reconnect per
 * notification), POST /3/device/<token> on it, and an ES256 JWT (kid = key ID, iss = team ID) signed once
 * and reused until APNS_TOKEN_REFRESH_SECONDS, never per request. Node's http2 does this directly; the
 * maintained libraries (@parse/node-apn) wrap the same calls and add a connection pool we do not want.
 */
import * as http2 from "http2";
import { createPrivateKey, KeyObject } from "crypto";
import { APNS_MAX_COLLAPSE_ID_BYTES, APNS_MAX_PAYLOAD_BYTES, APNS_TOKEN_REFRESH_SECONDS, ApnsSettings, PUSH_EXPIRATION_SECONDS } from "../../../core/push";
import { signJwt } from "./jwt";
import { noAnswer, Notification, PushSender, SendResult } from "./send-result";

/** Reasons for which the token is dead: delete it (Apple: 410 Unregistered; 400 BadDeviceToken, DeviceTokenNotForTopic). */
const DEAD_TOKEN_REASONS = new Set(["Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic", "ExpiredToken"]);
const REQUEST_TIMEOUT_MS = 10_000;

export interface ApnsOptions {
    readonly settings: ApnsSettings;
    /** The .p8 signing key (PEM). */
    readonly key: string;
    /** https://HOST[:PORT]: the environment's endpoint unless a stand-in is named (tests, the one-machine stack). */
    readonly endpoint: string;
    readonly now?: () => number;
    /** Extra CA certificates to trust (a stand-in's; a process can also set NODE_EXTRA_CA_CERTS). */
    readonly ca?: string;
}

/** The payload: the alert, then the app's keys, cut to APNs's 4 KB by shortening the body. */
export function apnsPayload(n: Notification): string {
    const build = (body: string) => JSON.stringify({ aps: { alert: { ...(n.title ? { title: n.title } : {}), body }, sound: "default" }, ...n.data });
    const bytes = (text: string) => Buffer.byteLength(text);
    let chars = [...n.body];
    let text = build(n.body);
    while (bytes(text) > APNS_MAX_PAYLOAD_BYTES && chars.length > 0) {
        // A character is at most 4 bytes of UTF-8 (6 escaped in JSON): drop at least what is over, then re-measure.
        chars = chars.slice(0, Math.max(0, chars.length - Math.ceil((bytes(text) - APNS_MAX_PAYLOAD_BYTES) / 6) - 1));
        text = build(chars.join("") + "…");
    }
    if (bytes(text) > APNS_MAX_PAYLOAD_BYTES) throw new Error(`an APNs payload of ${bytes(text)} bytes even without its body (the limit is ${APNS_MAX_PAYLOAD_BYTES})`);
    return text;
}

/** apns-collapse-id: at most 64 bytes. */
function collapseId(id: string): string {
    let out = id;
    while (Buffer.byteLength(out) > APNS_MAX_COLLAPSE_ID_BYTES) out = out.slice(0, -1);
    return out;
}

export class ApnsSender implements PushSender {
    private session?: http2.ClientHttp2Session;
    private token?: { jwt: string; issuedAt: number };
    private readonly key: KeyObject;
    private readonly now: () => number;
    /** Provider tokens signed so far (tests and the bench check it stays at one per refresh period). */
    tokensSigned = 0;
    /** HTTP/2 connections opened so far. */
    connectionsOpened = 0;

    constructor(private readonly options: ApnsOptions) {
        this.key = createPrivateKey(options.key);
        this.now = options.now ?? Date.now;
    }

    /** The provider token: the one in hand until it is APNS_TOKEN_REFRESH_SECONDS old (or `force`d after ExpiredProviderToken). */
    providerToken(force = false): string {
        const nowS = Math.floor(this.now() / 1000);
        if (!force && this.token && nowS - this.token.issuedAt < APNS_TOKEN_REFRESH_SECONDS) return this.token.jwt;
        const { teamId, keyId } = this.options.settings;
        this.token = { jwt: signJwt("ES256", this.key, { iss: teamId, iat: nowS }, { kid: keyId }), issuedAt: nowS };
        this.tokensSigned++;
        return this.token.jwt;
    }

    private connection(): http2.ClientHttp2Session {
        if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
        const session = http2.connect(this.options.endpoint, this.options.ca ? { ca: this.options.ca } : {});
        this.connectionsOpened++;
        // A GOAWAY (Apple rotates connections) or an error ends this session; the next send opens another.
        const forget = () => { if (this.session === session) this.session = undefined; };
        session.on("goaway", forget);
        session.on("close", forget);
        session.on("error", forget);
        // Idle between jobs is fine: the session stays open, and does not keep the process alive by itself.
        session.unref();
        this.session = session;
        return session;
    }

    async send(deviceToken: string, n: Notification): Promise<SendResult> {
        const first = await this.sendOnce(deviceToken, n, false);
        // A token Apple calls expired (clock skew, or it outlived the refresh): sign a new one and try once more.
        if (first.status === 403 && first.reason === "ExpiredProviderToken") return this.sendOnce(deviceToken, n, true);
        return first;
    }

    private sendOnce(deviceToken: string, n: Notification, freshToken: boolean): Promise<SendResult> {
        let payload: string;
        try {
            payload = apnsPayload(n);
        } catch (e) {
            return Promise.resolve({ ok: false, status: 0, reason: (e as Error).message, retry: false, unregistered: false });
        }
        return new Promise((resolve) => {
            let session: http2.ClientHttp2Session;
            try {
                session = this.connection();
            } catch (e) {
                resolve(noAnswer(e as Error));
                return;
            }
            const req = session.request({
                ":method": "POST",
                ":path": `/3/device/${deviceToken}`,
                authorization: `bearer ${this.providerToken(freshToken)}`,
                "apns-topic": this.options.settings.topic,
                "apns-push-type": "alert",
                "apns-priority": "10",
                "apns-expiration": String(Math.floor(this.now() / 1000) + PUSH_EXPIRATION_SECONDS),
                "apns-collapse-id": collapseId(n.collapseId),
                "content-type": "application/json",
            });
            req.setTimeout(REQUEST_TIMEOUT_MS, () => req.close(http2.constants.NGHTTP2_CANCEL));
            let status = 0;
            const chunks: Buffer[] = [];
            req.on("response", (headers) => { status = Number(headers[":status"]); });
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("end", () => {
                if (status === 0) { resolve(noAnswer(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`))); return; }
                if (status === 200) { resolve({ ok: true, status, retry: false, unregistered: false }); return; }
                let reason = `HTTP ${status}`;
                try {
                    reason = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { reason?: string }).reason ?? reason;
                } catch {
                    // not JSON: keep the status
                }
                resolve({ ok: false, status, reason, retry: status === 429 || status >= 500, unregistered: status === 410 || DEAD_TOKEN_REASONS.has(reason) });
            });
            req.on("error", (e) => resolve(noAnswer(e)));
            req.end(payload);
        });
    }

    close(): void {
        this.session?.close();
        this.session = undefined;
    }
}
