/**
 * Firebase Cloud Messaging's HTTP v1 API (the legacy one is gone): POST /v1/projects/<id>/messages:send with
 * an OAuth2 access token that the service account earns by the JWT bearer grant (RFC 7523: an RS256 JWT
 * with iss = the account, scope = firebase.messaging, aud = its token_uri, posted to the token_uri). The
 * token is cached until FCM_TOKEN_MARGIN_SECONDS before it expires, and fetched by one request at a time.
 * Plain https with a keep-alive agent: firebase-admin would bring the whole Firebase SDK for one call.
 */
import * as https from "https";
import { createPrivateKey, KeyObject } from "crypto";
import { FCM_SCOPE, FCM_TOKEN_MARGIN_SECONDS, PUSH_EXPIRATION_SECONDS, ServiceAccount } from "../../../core/push";
import { signJwt } from "./jwt";
import { noAnswer, Notification, PushSender, SendResult } from "./send-result";

const REQUEST_TIMEOUT_MS = 10_000;

export interface FcmOptions {
    readonly projectId: string;
    readonly account: ServiceAccount;
    /** https://fcm.googleapis.com unless a stand-in is named. */
    readonly endpoint: string;
    readonly now?: () => number;
    /** Extra CA certificates to trust (a stand-in's). */
    readonly ca?: string;
}

interface Reply { status: number; body: string }

function post(agent: https.Agent, url: string, headers: Record<string, string>, body: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = https.request(url, { method: "POST", agent, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) }, timeout: REQUEST_TIMEOUT_MS }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
        req.on("error", reject);
        req.end(body);
    });
}

/** FCM's error code: details[].errorCode of the FcmError, else the status (UNAVAILABLE, INTERNAL, ...). */
function fcmReason(body: string, status: number): string {
    try {
        const error = (JSON.parse(body) as { error?: { status?: string; details?: { "@type"?: string; errorCode?: string }[] } }).error;
        const code = error?.details?.find((d) => d["@type"]?.endsWith("google.firebase.fcm.v1.FcmError"))?.errorCode;
        return code ?? error?.status ?? `HTTP ${status}`;
    } catch {
        return `HTTP ${status}`;
    }
}

export class FcmSender implements PushSender {
    private readonly agent: https.Agent;
    private readonly key: KeyObject;
    private readonly now: () => number;
    private access?: { token: string; expiresAt: number };
    private fetching?: Promise<string>;
    /** Access tokens fetched so far (tests check they are cached). */
    tokensFetched = 0;

    constructor(private readonly options: FcmOptions) {
        this.key = createPrivateKey(options.account.privateKey);
        this.agent = new https.Agent({ keepAlive: true, maxSockets: 4, ...(options.ca ? { ca: options.ca } : {}) });
        this.now = options.now ?? Date.now;
    }

    /** The cached access token, or a new one once it is within the margin of expiring (or `force`d after a 401). */
    async accessToken(force = false): Promise<string> {
        const nowS = Math.floor(this.now() / 1000);
        if (!force && this.access && nowS < this.access.expiresAt - FCM_TOKEN_MARGIN_SECONDS) return this.access.token;
        if (!this.fetching) {
            this.fetching = this.fetchToken(nowS).finally(() => { this.fetching = undefined; });
        }
        return this.fetching;
    }

    private async fetchToken(nowS: number): Promise<string> {
        const { clientEmail, tokenUri } = this.options.account;
        const assertion = signJwt("RS256", this.key, { iss: clientEmail, scope: FCM_SCOPE, aud: tokenUri, iat: nowS, exp: nowS + 3600 });
        const form = new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }).toString();
        const reply = await post(this.agent, tokenUri, { "content-type": "application/x-www-form-urlencoded" }, form);
        let parsed: { access_token?: string; expires_in?: number; error?: string; error_description?: string } = {};
        try {
            parsed = JSON.parse(reply.body);
        } catch {
            // reported below
        }
        if (reply.status !== 200 || typeof parsed.access_token !== "string" || typeof parsed.expires_in !== "number") {
            throw new Error(`the OAuth2 token endpoint ${tokenUri} answered ${reply.status}: ${parsed.error ?? ""} ${parsed.error_description ?? reply.body.slice(0, 200)}`.trim());
        }
        this.tokensFetched++;
        this.access = { token: parsed.access_token, expiresAt: nowS + parsed.expires_in };
        return parsed.access_token;
    }

    async send(token: string, n: Notification): Promise<SendResult> {
        const first = await this.sendOnce(token, n, false);
        // A token the API no longer takes (revoked, or the clock moved): fetch a new one and try once more.
        if (first.status === 401) return this.sendOnce(token, n, true);
        return first;
    }

    private async sendOnce(token: string, n: Notification, freshToken: boolean): Promise<SendResult> {
        let access: string;
        try {
            access = await this.accessToken(freshToken);
        } catch (e) {
            return noAnswer(e as Error);
        }
        const message = {
            message: {
                token,
                notification: { ...(n.title ? { title: n.title } : {}), body: n.body },
                data: n.data,
                android: { collapse_key: n.collapseId, priority: "high", ttl: `${PUSH_EXPIRATION_SECONDS}s` },
            },
        };
        const url = `${this.options.endpoint}/v1/projects/${encodeURIComponent(this.options.projectId)}/messages:send`;
        let reply: Reply;
        try {
            reply = await post(this.agent, url, { authorization: `Bearer ${access}`, "content-type": "application/json" }, JSON.stringify(message));
        } catch (e) {
            return noAnswer(e as Error);
        }
        if (reply.status === 200) return { ok: true, status: 200, retry: false, unregistered: false };
        const reason = fcmReason(reply.body, reply.status);
        return { ok: false, status: reply.status, reason, retry: reply.status === 429 || reply.status >= 500, unregistered: reason === "UNREGISTERED" };
    }

    close(): void {
        this.agent.destroy();
    }
}
