/**
 * A client of the local site through the edge, over HTTPS with the edge's certificate verified: the API
 * calls the end-to-end test and the benchmark make, and a bounded load loop that counts what failed and
 * remembers every upload the site acknowledged (to check later that none was lost).
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

export class SiteClient {
    private readonly agent: https.Agent;
    private readonly ca: Buffer;

    constructor(readonly address: string, caFile: string, readonly servername: string, keepAlive = true) {
        this.ca = fs.readFileSync(caFile);
        this.agent = new https.Agent({ keepAlive, maxSockets: 64, ca: this.ca, servername });
    }

    request(method: string, path: string, body?: Buffer | object, contentType?: string, timeoutMs = 15_000): Promise<SiteReply> {
        const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
        const headers: Record<string, string | number> = { Host: this.servername };
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

    async createUser(username: string): Promise<string> {
        const r = await this.request("POST", "/api/v1/users", { username });
        if (r.status !== 201) throw new Error(`create ${username}: ${r.status} ${r.body}`);
        return r.json().id;
    }

    async follow(follower: string, followee: string): Promise<void> {
        const r = await this.request("PUT", `/api/v1/users/${follower}/following/${followee}`);
        if (r.status >= 300) throw new Error(`follow: ${r.status} ${r.body}`);
    }

    upload(userId: string, photo: Buffer, caption = "local"): Promise<SiteReply> {
        return this.request("POST", `/api/v1/users/${userId}/media?caption=${encodeURIComponent(caption)}`, photo, "image/png");
    }

    feed(userId: string, limit = 20): Promise<SiteReply> {
        return this.request("GET", `/api/v1/users/${userId}/feed?limit=${limit}`);
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
