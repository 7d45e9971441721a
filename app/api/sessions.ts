/**
 * Sessions in Redis, as Instagram kept them: a random token (32 bytes, base64url) handed to the client once;
 * Redis holds only its SHA-256, so a copy of Redis (a dump, a replica) logs nobody in. Each session key
 * expires on its own (the TTL); a per-user set of the user's session hashes lets a password change end the
 * others. The value is the user's id and username, which is all a request needs to know who is asking.
 */
import * as crypto from "crypto";
import Redis from "ioredis";
import { execAll, readyReader, readyRedis, redisCall } from "./redis";
import { RedisReader } from "./redis-reader";

export interface SessionUser {
    readonly id: string;
    readonly username: string;
}

export const TOKEN_BYTES = 32;
/** A token as clients send it: 43 base64url characters. Anything else is not looked up. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

const sessionKey = (hash: string) => `session:${hash}`;
const userSessionsKey = (userId: string) => `sessions:${userId}`;
const digest = (token: string) => crypto.createHash("sha256").update(token).digest("hex");

/** The CSRF token of a cookie session: derived from the session token, so it needs no storage and no other secret. */
export function csrfTokenFor(token: string): string {
    return crypto.createHash("sha256").update("instagram csrf\0").update(token).digest("base64url");
}

export class Sessions {
    /** `reader` answers the lookup every request makes; `redis` does the rest. */
    constructor(private readonly redis: Redis | undefined, private readonly reader: RedisReader | undefined, readonly ttlSeconds: number) {}

    /** A new session for `user`; the token is returned once and never stored. */
    async create(user: SessionUser): Promise<string> {
        const redis = readyRedis(this.redis);
        const token = crypto.randomBytes(TOKEN_BYTES).toString("base64url");
        const hash = digest(token);
        await execAll(redis.multi()
            .set(sessionKey(hash), JSON.stringify({ id: user.id, username: user.username }), "EX", this.ttlSeconds)
            .sadd(userSessionsKey(user.id), hash)
            .expire(userSessionsKey(user.id), this.ttlSeconds));
        return token;
    }

    /** Who a token belongs to, or undefined when it is malformed, unknown or expired. */
    async lookup(token: string): Promise<SessionUser | undefined> {
        if (!TOKEN_SHAPE.test(token)) return undefined;
        const reader = readyReader(this.reader);
        const value = await redisCall(() => reader.get(sessionKey(digest(token))));
        if (!value) return undefined;
        const parsed = JSON.parse(value) as SessionUser;
        return { id: String(parsed.id), username: String(parsed.username) };
    }

    async end(token: string, userId: string): Promise<void> {
        const redis = readyRedis(this.redis);
        const hash = digest(token);
        await execAll(redis.multi().del(sessionKey(hash)).srem(userSessionsKey(userId), hash));
    }

    /** End every session of `userId` but the one whose token is `keep` (a password change keeps the session that made it). */
    async endOthers(userId: string, keep: string): Promise<number> {
        const redis = readyRedis(this.redis);
        const kept = digest(keep);
        const hashes = (await redisCall(() => redis.smembers(userSessionsKey(userId)))).filter((h) => h !== kept);
        if (hashes.length === 0) return 0;
        await execAll(redis.multi().del(...hashes.map(sessionKey)).srem(userSessionsKey(userId), ...hashes));
        return hashes.length;
    }
}
