/**
 * Fixed-window attempt counters in Redis, for login and signup: per username (guessing one account's
 * password) and per client address (guessing many). Every attempt counts, successful or not, so the limit
 * cannot be probed for which attempts "worked". Over the limit: 429 with Retry-After, the seconds until the
 * window ends.
 */
import * as crypto from "crypto";
import Redis from "ioredis";
import { HttpError } from "./http";
import { execAll, readyRedis } from "./redis";

export interface Limit {
    readonly attempts: number;
    readonly windowSeconds: number;
}

/** `<attempts>/<seconds>`, e.g. `10/300`: attempts 1-100000, window 1-86400 s. */
export function parseLimit(text: string): Limit | string {
    const m = /^(\d{1,6})\/(\d{1,5})$/.exec(text.trim());
    const attempts = m ? Number(m[1]) : NaN;
    const windowSeconds = m ? Number(m[2]) : NaN;
    if (!m || attempts < 1 || attempts > 100_000 || windowSeconds < 1 || windowSeconds > 86_400) return `expected <attempts 1-100000>/<seconds 1-86400>, got ${text}`;
    return { attempts, windowSeconds };
}

export class RateLimiter {
    constructor(private readonly redis: Redis | undefined) {}

    /**
     * Count one attempt against each (what, subject, limit); 429 when any is over. Subjects are hashed into the
     * key, so Redis (and its dumps) hold no usernames or addresses in the clear. The key names the limit too:
     * app hosts share a counter only when they enforce the same limit, and a changed limit starts afresh.
     */
    async hit(checks: readonly { what: string; subject: string; limit: Limit }[]): Promise<void> {
        const redis = readyRedis(this.redis);
        const multi = redis.multi();
        const keys = checks.map((c) => `ratelimit:${c.what}:${c.limit.attempts}/${c.limit.windowSeconds}:${crypto.createHash("sha256").update(c.subject).digest("base64url").slice(0, 22)}`);
        checks.forEach((c, i) => multi.incr(keys[i]).expire(keys[i], c.limit.windowSeconds, "NX").pttl(keys[i]));
        const results = await execAll(multi);
        let retryAfter = 0;
        checks.forEach((c, i) => {
            const count = Number(results[i * 3]);
            const pttl = Number(results[i * 3 + 2]);
            if (count > c.limit.attempts) retryAfter = Math.max(retryAfter, Math.ceil(Math.max(pttl, 1) / 1000));
        });
        if (retryAfter > 0) {
            throw new HttpError(429, "rate_limited", `too many attempts; retry in ${retryAfter} s`, { retryAfterSeconds: retryAfter }, { "Retry-After": String(retryAfter) });
        }
    }
}
