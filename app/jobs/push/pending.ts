/**
 * Coalescing: the events (a follow, a like, a comment) waiting to be told to one recipient, by kind and photo,
 * in one Redis hash. The first event of a burst marks the hash queued and the API submits one push job for
 * it; later ones only add to the hash. The job takes the whole hash atomically once the burst's window
 * (PUSH_COALESCE_MS) has passed, so a burst of likes is one notification ("alice and 4 others liked your
 * photo"), and an event after the take starts a new hash and a new job.
 */
import Redis from "ioredis";
import { readyRedis, redisCall } from "../../api/redis";

export type PushKind = "follow" | "like" | "comment";

/** Names kept per notification (the newest first); the rest are counted. */
const NAMES_KEPT = 20;
/** A hash nobody took (its job lost with a gearmand's disk) expires rather than blocking its key for good. */
const PENDING_TTL_SECONDS = 3600;

export const pendingKey = (recipient: string, kind: PushKind, mediaId?: string) => `push:pending:${recipient}:${kind}:${mediaId ?? "-"}`;

// KEYS[1] the hash; ARGV: now (ms), the actor's name, a comment's text ('' for none), names kept, TTL.
// Returns the burst's first-event time when this event is its first (submit a job), else 0.
const ADD_SCRIPT = `
local key = KEYS[1]
redis.call('HINCRBY', key, 'events', 1)
redis.call('HSETNX', key, 'first', ARGV[1])
local names = cjson.decode(redis.call('HGET', key, 'names') or '[]')
local kept = { ARGV[2] }
local others = tonumber(redis.call('HGET', key, 'others') or '0')
for _, n in ipairs(names) do
    if n ~= ARGV[2] then
        if #kept < tonumber(ARGV[4]) then table.insert(kept, n) else others = others + 1 end
    end
end
redis.call('HSET', key, 'names', cjson.encode(kept), 'others', others)
if ARGV[3] ~= '' then redis.call('HSET', key, 'text', ARGV[3]) end
redis.call('EXPIRE', key, ARGV[5])
if redis.call('HSETNX', key, 'queued', '1') == 1 then return tonumber(redis.call('HGET', key, 'first')) end
return 0`;

const TAKE_SCRIPT = `
local v = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return v`;

type PendingRedis = Redis & {
    pushAddEvent(numberOfKeys: number, ...args: string[]): Promise<number>;
    pushTakePending(numberOfKeys: number, ...args: string[]): Promise<string[]>;
};

function withScripts(redis: Redis): PendingRedis {
    if (!("pushAddEvent" in redis)) redis.defineCommand("pushAddEvent", { lua: ADD_SCRIPT });
    if (!("pushTakePending" in redis)) redis.defineCommand("pushTakePending", { lua: TAKE_SCRIPT });
    return redis as PendingRedis;
}

/** Add an event; the burst's first-event time (ms) when the caller must submit its job, else undefined. */
export async function addPendingEvent(redis: Redis | undefined, key: string, actorName: string, text = "", now = Date.now()): Promise<number | undefined> {
    const r = withScripts(readyRedis(redis));
    const first = await redisCall(() => r.pushAddEvent(1, key, String(now), actorName, text, String(NAMES_KEPT), String(PENDING_TTL_SECONDS)));
    return first > 0 ? first : undefined;
}

/** The job could not be queued: unmark the hash so the next event submits one (its events are kept). */
export async function unqueuePending(redis: Redis | undefined, key: string): Promise<void> {
    const r = readyRedis(redis);
    await redisCall(() => r.hdel(key, "queued"));
}

export interface PendingEvents {
    /** Events in the burst (a like, unlike and like again is two). */
    readonly events: number;
    /** Who, newest first (at most NAMES_KEPT), and how many more. */
    readonly names: readonly string[];
    readonly others: number;
    /** The newest comment's text. */
    readonly text?: string;
}

/** Take the burst (it is gone from Redis after this); undefined when an earlier run of the job took it. */
export async function takePending(redis: Redis | undefined, key: string): Promise<PendingEvents | undefined> {
    const r = withScripts(readyRedis(redis));
    const flat = await redisCall(() => r.pushTakePending(1, key));
    if (flat.length === 0) return undefined;
    const h: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]] = flat[i + 1];
    return { events: Number(h.events ?? 0), names: JSON.parse(h.names ?? "[]") as string[], others: Number(h.others ?? 0), text: h.text };
}
