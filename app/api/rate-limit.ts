/**
 * Limits on guessing, in Redis. RateLimiter: fixed-window attempt counters (signups per name, every
 * attempt per client address, the guard on scrypt's CPU); every attempt counts, successful or not. LoginThrottle:
 * failed logins, per (address, username) and per address, which slow down the guesser and not the account's
 * owner elsewhere. Over a limit: 429 with Retry-After.
 */
import * as crypto from "crypto";
import Redis from "ioredis";
import { HttpError } from "./http";
import { execAll, readyRedis } from "./redis";
import { Unavailable } from "./shards";

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

/** A subject as it appears in a key: hashed, so Redis (and its dumps) hold no usernames or addresses in the clear. */
function subjectKey(subject: string): string {
    return crypto.createHash("sha256").update(subject).digest("base64url").slice(0, 22);
}

function tooMany(retryAfter: number, message = `too many attempts; retry in ${retryAfter} s`): HttpError {
    return new HttpError(429, "rate_limited", message, { retryAfterSeconds: retryAfter }, { "Retry-After": String(retryAfter) });
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
        const keys = checks.map((c) => `ratelimit:${c.what}:${c.limit.attempts}/${c.limit.windowSeconds}:${subjectKey(c.subject)}`);
        checks.forEach((c, i) => multi.incr(keys[i]).expire(keys[i], c.limit.windowSeconds, "NX").pttl(keys[i]));
        const results = await execAll(multi);
        let retryAfter = 0;
        checks.forEach((c, i) => {
            const count = Number(results[i * 3]);
            const pttl = Number(results[i * 3 + 2]);
            if (count > c.limit.attempts) retryAfter = Math.max(retryAfter, Math.ceil(Math.max(pttl, 1) / 1000));
        });
        if (retryAfter > 0) throw tooMany(retryAfter);
    }
}

/**
 * Checks and reserves one login attempt in one step, so that a parallel burst cannot pass the check together:
 * the attempt is counted as a failure up front and `succeeded` takes it back. KEYS: the pair's hash {n, last},
 * the address's counter. ARGV: free failures, the pair's window (s), failures allowed per address, its window
 * (s). Returns {0} to go on, {1, ms} when the address is over its cap, {2, ms} when the pair must still wait.
 * The time is Redis's own, one clock for every app host.
 */
/** Redis's clock in milliseconds, as a Lua expression (t is redis.call('TIME')). */
const NOW_MS = "tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";

const RESERVE_LOGIN = `
local t = redis.call('TIME')
local now = ${NOW_MS}
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local free = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[3]) then
    return {1, redis.call('PTTL', KEYS[2])}
end
if n >= free then
    local left = last + math.min(2 ^ (n - free), window) * 1000 - now
    if left > 0 then return {2, left} end
end
redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'last', now)
redis.call('PEXPIRE', KEYS[1], window * 1000)
redis.call('INCR', KEYS[2])
if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]) * 1000) end
return {0, 0}
`;

/**
 * Failed logins, counted where they come from. OWASP's authentication cheat sheet prefers throttling to
 * locking an account: a lock keyed on the username lets anyone lock anyone out. Here one address guessing one
 * username gets `pair.attempts` free failures, then waits 2^(failures − free) s after each further one (at
 * most the window), while the owner logs in from anywhere else; the pair's count ends `pair.windowSeconds`
 * after its last failure, or at a success. One address failing more than `perAddress.attempts` times within
 * its window (many usernames: a spray) is refused for any username until the window ends. A success takes its
 * own attempt back from the address's count (never more: a valid account of the guesser's must not reset it).
 */
export class LoginThrottle {
    constructor(private readonly redis: Redis | undefined, private readonly pair: Limit, private readonly perAddress: Limit) {}

    private keys(address: string, username: string): [string, string] {
        const tag = `${this.pair.attempts}/${this.pair.windowSeconds}`;
        return [`loginfail:pair:${tag}:${subjectKey(`${address}\n${username}`)}`, `loginfail:addr:${this.perAddress.attempts}/${this.perAddress.windowSeconds}:${subjectKey(address)}`];
    }

    /** Runs a script on this pair's keys (and ARGV); Redis away is Unavailable, as for every other Redis call. */
    private async run(script: string, keyCount: 1 | 2, address: string, username: string, ...args: (string | number)[]): Promise<unknown> {
        const redis = readyRedis(this.redis);
        try {
            return await redis.eval(script, keyCount, ...this.keys(address, username).slice(0, keyCount), ...args);
        } catch (e) {
            throw new Unavailable("redis", e as Error);
        }
    }

    /** Before the password is checked: 429 when this address must wait, else the attempt is counted. */
    async reserve(address: string, username: string): Promise<void> {
        const answer = (await this.run(RESERVE_LOGIN, 2, address, username, this.pair.attempts, this.pair.windowSeconds, this.perAddress.attempts, this.perAddress.windowSeconds)) as [number, number];
        const [verdict, ms] = answer;
        const seconds = Math.max(1, Math.ceil(Number(ms) / 1000));
        if (verdict === 1) throw tooMany(seconds, `too many failed logins from this address; retry in ${seconds} s`);
        if (verdict === 2) throw tooMany(seconds, `too many failed logins for this username from this address; retry in ${seconds} s`);
    }

    /**
     * The password was wrong: the wait runs from now, when the guesser learns it, not from the reservation
     * (scrypt's time in between would otherwise shorten it).
     */
    async failed(address: string, username: string): Promise<void> {
        await this.run(`if redis.call('EXISTS', KEYS[1]) == 1 then local t = redis.call('TIME') redis.call('HSET', KEYS[1], 'last', ${NOW_MS}) end return 0`, 1, address, username);
    }

    /** The password was right: forget this pair's failures and take the reserved attempt back. */
    async succeeded(address: string, username: string): Promise<void> {
        // (Not below zero, and not on a count that has expired meanwhile: a DECR would create one without a TTL.)
        await this.run("redis.call('DEL', KEYS[1]) if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end return 0", 2, address, username);
    }
}
