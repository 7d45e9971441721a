/**
 * A client of the local site through the edge, over HTTPS with the edge's certificate verified: the API
 * calls the end-to-end test and the benchmark make, and a bounded load loop that counts what failed and
 * remembers every upload the site acknowledged (to check later that none was lost). Users it signs up log in
 * like any API client; it keeps each one's bearer token and sends it on their requests, logging in again when
 * the site says a session is gone (after a Redis restore, say).
 */
import * as fs from "fs";
import * as https from "https";

export interface SiteReply {
    readonly status: number;
    readonly headers: Readonly<Record<string, string | string[] | undefined>>;
    readonly body: Buffer;
    readonly ms: number;
    json<T = any>(): T;
}

/** The password of every user a SiteClient signs up. */
export const SITE_USER_PASSWORD = "one-machine stack password";

export class SiteClient {
    private readonly agent: https.Agent;
    private readonly ca: Buffer;
    /** Bearer tokens and usernames by user id, for the users this client signed up or logged in. */
    private readonly sessions = new Map<string, { username: string; token?: string }>();

    constructor(readonly address: string, caFile: string, readonly servername: string, keepAlive = true) {
        this.ca = fs.readFileSync(caFile);
        this.agent = new https.Agent({ keepAlive, maxSockets: 64, ca: this.ca, servername });
    }

    request(method: string, path: string, body?: Buffer | object, contentType?: string, timeoutMs = 15_000, token?: string): Promise<SiteReply> {
        const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
        const headers: Record<string, string | number> = { Host: this.servername };
        if (token) headers.Authorization = `Bearer ${token}`;
        if (payload) {
            headers["Content-Type"] = contentType ?? "application/json";
            headers["Content-Length"] = payload.length;
        }
        const started = process.hrtime.bigint();
        return new Promise((resolve, reject) => {
            const req = https.request({ host: this.address, port: 443, method, path, headers, agent: this.agent, timeout: timeoutMs }, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (d: Buffer) => chunks.push(d));
                res.on("end", () => {
                    const buf = Buffer.concat(chunks);
                    resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, ms: Number(process.hrtime.bigint() - started) / 1e6, json: () => JSON.parse(buf.toString("utf8")) });
                });
                res.on("error", reject);
            });
            req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
            req.on("error", reject);
            if (payload) req.write(payload);
            req.end();
        });
    }

    signup(username: string, password = SITE_USER_PASSWORD): Promise<SiteReply> {
        return this.request("POST", "/api/v1/users", { username, password });
    }

    /** Log `username` in and keep the session for its requests; the user's id. */
    async login(username: string, password = SITE_USER_PASSWORD): Promise<string> {
        const r = await this.request("POST", "/api/v1/sessions", { username, password });
        if (r.status !== 201) throw new Error(`login ${username}: ${r.status} ${r.body}`);
        const { token, user } = r.json();
        this.sessions.set(user.id, { username, token });
        return user.id;
    }

    /** Sign up and log in; the new user's id. */
    async createUser(username: string): Promise<string> {
        const r = await this.signup(username);
        if (r.status !== 201) throw new Error(`create ${username}: ${r.status} ${r.body}`);
        return this.login(username);
    }

    /** A request as `userId` (its bearer token); a 401 logs it in again once and retries. */
    async requestAs(userId: string, method: string, path: string, body?: Buffer | object, contentType?: string): Promise<SiteReply> {
        const session = this.sessions.get(userId);
        if (!session) throw new Error(`user ${userId} has no session in this client: createUser or login first`);
        const first = await this.request(method, path, body, contentType, undefined, session.token);
        if (first.status !== 401) return first;
        await this.login(session.username);
        return this.request(method, path, body, contentType, undefined, this.sessions.get(userId)!.token);
    }

    /** The bearer token this client holds for `userId` (to hand to a load generator). */
    tokenOf(userId: string): string {
        const token = this.sessions.get(userId)?.token;
        if (!token) throw new Error(`user ${userId} has no session in this client: createUser or login first`);
        return token;
    }

    /** Carry another client's sessions over (a new client after a restart of the site). */
    adoptSessions(from: SiteClient): void {
        for (const [id, session] of from.sessions) this.sessions.set(id, { ...session });
    }

    async follow(follower: string, followee: string): Promise<void> {
        const r = await this.requestAs(follower, "PUT", `/api/v1/users/${follower}/following/${followee}`);
        if (r.status >= 300) throw new Error(`follow: ${r.status} ${r.body}`);
    }

    /** With `at`, the photo carries a location (the search tier indexes it). */
    upload(userId: string, photo: Buffer, caption = "local", at?: { latitude: number; longitude: number }): Promise<SiteReply> {
        const where = at ? `&lat=${at.latitude}&lng=${at.longitude}` : "";
        return this.requestAs(userId, "POST", `/api/v1/users/${userId}/media?caption=${encodeURIComponent(caption)}${where}`, photo, "image/png");
    }

    /** GET /api/v1/media/search with Instagram's v1 parameters (lat, lng, distance, count...). */
    search(params: Readonly<Record<string, string | number>>): Promise<SiteReply> {
        return this.request("GET", `/api/v1/media/search?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`);
    }

    deletePhoto(userId: string, mediaId: string): Promise<SiteReply> {
        return this.requestAs(userId, "DELETE", `/api/v1/media/${mediaId}`);
    }

    feed(userId: string, limit = 20): Promise<SiteReply> {
        return this.requestAs(userId, "GET", `/api/v1/users/${userId}/feed?limit=${limit}`);
    }

    like(userId: string, mediaId: string): Promise<SiteReply> {
        return this.requestAs(userId, "PUT", `/api/v1/media/${mediaId}/like`);
    }

    comment(userId: string, mediaId: string, text: string): Promise<SiteReply> {
        return this.requestAs(userId, "POST", `/api/v1/media/${mediaId}/comments`, { text });
    }

    close(): void {
        this.agent.destroy();
    }
}

/** A small valid-looking PNG (signature + IHDR), distinct per call. */
export function pngBytes(seed: number): Buffer {
    const header = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    return Buffer.concat([header, Buffer.from(`IHDR photo ${seed} ${"x".repeat(200)}`)]);
}

export interface LoadResult {
    readonly requests: number;
    readonly failed: number;
    /** Failures by status (0: no answer). */
    readonly failures: Record<string, number>;
    /** IDs of uploads the site acknowledged (201). */
    readonly acknowledged: string[];
    readonly latenciesMs: { readonly feed: number[]; readonly upload: number[] };
    readonly seconds: number;
    /** Milliseconds from the loop's start to its first and last failed request (an outage's extent). */
    readonly firstFailureMs?: number;
    readonly lastFailureMs?: number;
}

/**
 * `concurrency` loops for `seconds`, each request a feed read or (with probability uploadShare) an upload by
 * a random user. Loopback only; bounded in time.
 */
export async function loadLoop(client: SiteClient, users: readonly string[], o: { seconds: number; concurrency: number; uploadShare: number }): Promise<LoadResult> {
    const deadline = Date.now() + o.seconds * 1000;
    const started = Date.now();
    const result = {
        requests: 0, failed: 0, failures: {} as Record<string, number>, acknowledged: [] as string[],
        latenciesMs: { feed: [] as number[], upload: [] as number[] },
        firstFailureMs: undefined as number | undefined, lastFailureMs: undefined as number | undefined,
    };
    let seq = 0;
    const one = async () => {
        const user = users[Math.floor(Math.random() * users.length)];
        const isUpload = Math.random() < o.uploadShare;
        result.requests++;
        try {
            const r = isUpload ? await client.upload(user, pngBytes(seq++)) : await client.feed(user);
            if (r.status === (isUpload ? 201 : 200)) {
                if (isUpload) result.acknowledged.push(r.json().media.id);
                (isUpload ? result.latenciesMs.upload : result.latenciesMs.feed).push(r.ms);
                return;
            }
            result.failures[r.status] = (result.failures[r.status] ?? 0) + 1;
        } catch {
            result.failures["0"] = (result.failures["0"] ?? 0) + 1;
        }
        result.failed++;
        result.firstFailureMs ??= Date.now() - started;
        result.lastFailureMs = Date.now() - started;
    };
    await Promise.all(Array.from({ length: o.concurrency }, async () => {
        while (Date.now() < deadline) await one();
    }));
    return { ...result, seconds: (Date.now() - started) / 1000 };
}

export function percentile(values: readonly number[], p: number): number {
    if (values.length === 0) return NaN;
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
