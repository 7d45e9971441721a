/**
 * The `share` job: a photo posted to another network (Instagram shared to Twitter and Facebook from its
 * workers). An upload with `?share=NAME,...` queues one job per destination (unique share:<media>:<name>);
 * the worker POSTs the photo's JSON to the destination's HTTPS URL with its timeout, retries failures that
 * may pass (a timeout, a refused connection, 408, 429, 5xx) with exponential back-off and jitter, and after
 * the last attempt, or at once for an answer that will not change (another 4xx), writes a dead-letter record
 * (Redis list share:dead-letters) for an operator to look at and replay. It never holds up the upload.
 * Every request carries Idempotency-Key share:<media>:<name>, so a job run twice (its worker killed after
 * the POST) can be recognised by the destination.
 */
import * as https from "https";
import Redis from "ioredis";
import { GearmanClient } from "./gearman/client";
import { Job } from "./gearman/worker";
import { ShareDestination, SHARE_BACKOFF_BASE_MS } from "../../core/share-destinations";
import { readyRedis, redisCall } from "../api/redis";
import { MediaRecord } from "../api/feed";

export const SHARE_FUNCTION = "share";
export const DEAD_LETTERS_KEY = "share:dead-letters";
/** Dead letters kept (newest first). */
export const DEAD_LETTERS_KEPT = 10_000;

export interface SharePayload {
    readonly destination: string;
    readonly media: MediaRecord;
}

export interface DeadLetter {
    readonly destination: string;
    readonly mediaId: string;
    readonly attempts: number;
    readonly lastError: string;
    readonly at: string;
}

export const shareUnique = (mediaId: string, destination: string) => `share:${mediaId}:${destination}`;

export class GearmanShareQueue {
    constructor(private readonly client: GearmanClient) {}

    async submit(destination: string, media: MediaRecord): Promise<void> {
        const payload: SharePayload = { destination, media };
        await this.client.submitBackground(SHARE_FUNCTION, shareUnique(media.id, destination), JSON.stringify(payload), "low");
    }
}

/** Record a share that will not be delivered (newest first, bounded). */
export async function deadLetter(redis: Redis, letter: DeadLetter): Promise<void> {
    const r = readyRedis(redis);
    await redisCall(() => r.multi().lpush(DEAD_LETTERS_KEY, JSON.stringify(letter)).ltrim(DEAD_LETTERS_KEY, 0, DEAD_LETTERS_KEPT - 1).exec());
}

function parsePayload(data: Buffer): SharePayload {
    let value: unknown;
    try {
        value = JSON.parse(data.toString("utf8"));
    } catch {
        throw new Error("share: the job's data is not JSON");
    }
    const p = value as SharePayload;
    if (typeof p?.destination !== "string" || typeof p.media?.id !== "string") throw new Error("share: expected {destination, media}");
    return p;
}

type Attempt = { ok: true } | { ok: false; retry: boolean; error: string };

/** One POST of `body` to the destination, within its timeout. */
export function postOnce(d: ShareDestination, body: string, idempotencyKey: string): Promise<Attempt> {
    return new Promise((resolve) => {
        const req = https.request(d.url, {
            method: "POST",
            headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), "Idempotency-Key": idempotencyKey, "User-Agent": "instagram-share/1" },
            timeout: d.timeoutSeconds * 1000,
        }, (res) => {
            res.resume();
            res.on("end", () => {
                const status = res.statusCode ?? 0;
                if (status >= 200 && status < 300) resolve({ ok: true });
                else resolve({ ok: false, retry: status === 408 || status === 429 || status >= 500, error: `HTTP ${status}` });
            });
            res.on("error", (e) => resolve({ ok: false, retry: true, error: e.message }));
        });
        req.on("timeout", () => req.destroy(new Error(`no answer within ${d.timeoutSeconds} s`)));
        req.on("error", (e) => resolve({ ok: false, retry: true, error: e.message }));
        req.end(body);
    });
}

/** The pause before retry n (1-based): base × 2^(n-1), plus up to as much again at random, so retries spread. */
export function backoffMs(n: number, random: () => number = Math.random): number {
    const base = SHARE_BACKOFF_BASE_MS * 2 ** (n - 1);
    return base + Math.floor(random() * base);
}

export interface ShareOutcome {
    readonly delivered: boolean;
    readonly attempts: number;
    readonly lastError?: string;
}

export function shareHandler(destinations: readonly ShareDestination[], redis: Redis, sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))): (job: Job) => Promise<string> {
    return async (job) => {
        const { destination, media } = parsePayload(job.data);
        const d = destinations.find((x) => x.name === destination);
        const key = shareUnique(media.id, destination);
        let outcome: ShareOutcome;
        if (!d) {
            outcome = { delivered: false, attempts: 0, lastError: `no destination ${destination} is configured` };
        } else {
            const body = JSON.stringify({ id: media.id, userId: media.userId, username: media.username, caption: media.caption, url: media.url, createdAt: media.createdAt });
            let attempts = 0;
            let last: Attempt = { ok: false, retry: true, error: "not tried" };
            while (attempts < d.attempts) {
                if (attempts > 0) await sleep(backoffMs(attempts));
                attempts++;
                last = await postOnce(d, body, key);
                if (last.ok || !last.retry) break;
            }
            outcome = last.ok ? { delivered: true, attempts } : { delivered: false, attempts, lastError: last.error };
        }
        if (!outcome.delivered) {
            await deadLetter(redis, { destination, mediaId: media.id, attempts: outcome.attempts, lastError: outcome.lastError!, at: new Date().toISOString() });
        }
        return JSON.stringify(outcome);
    };
}
