/**
 * The activity feed ("news" in Instagram's app): who followed you, liked or commented on your photo. A list
 * per user in Redis, newest first, trimmed like the main feed. It is derived from writes already committed
 * on the shards, so an entry Redis fails to take is logged and dropped, never a reason to fail the write.
 */
import Redis from "ioredis";
import { SessionUser } from "./sessions";
import { execAll, readyRedis, redisCall } from "./redis";

export const ACTIVITY_LENGTH = 100;
/** How much of a comment an activity entry quotes. */
const QUOTE_CHARS = 120;

export type ActivityEntry =
    | { type: "follow"; actor: SessionUser; at: string }
    | { type: "like"; actor: SessionUser; mediaId: string; at: string }
    | { type: "comment"; actor: SessionUser; mediaId: string; commentId: string; text: string; at: string };

export type NewEntry =
    | { type: "follow"; actor: SessionUser }
    | { type: "like"; actor: SessionUser; mediaId: string }
    | { type: "comment"; actor: SessionUser; mediaId: string; commentId: string; text: string };

const activityKey = (userId: string) => `activity:${userId}`;

/** Told of every entry recorded (the push notifications' queue). */
export interface ActivityListener {
    notify(recipient: string, event: { kind: NewEntry["type"]; actorName: string; mediaId?: string; text?: string }): Promise<void>;
}

export class Activity {
    constructor(private readonly redis: Redis | undefined, private readonly listener?: ActivityListener) {}

    /** Tell `recipient` what `entry.actor` did; nothing when they acted on their own photo. */
    async record(recipient: string, entry: NewEntry): Promise<void> {
        if (recipient === entry.actor.id) return;
        const stored = { ...entry, actor: { id: entry.actor.id, username: entry.actor.username }, ...(entry.type === "comment" ? { text: [...entry.text].slice(0, QUOTE_CHARS).join("") } : {}), at: new Date().toISOString() };
        try {
            const redis = readyRedis(this.redis);
            await execAll(redis.pipeline().lpush(activityKey(recipient), JSON.stringify(stored)).ltrim(activityKey(recipient), 0, ACTIVITY_LENGTH - 1));
        } catch (e) {
            console.error(`[${process.pid}] activity: a ${entry.type} entry for user ${recipient} was dropped: ${(e as Error).message}`);
        }
        if (!this.listener) return;
        try {
            await this.listener.notify(recipient, {
                kind: entry.type,
                actorName: entry.actor.username,
                ...(entry.type !== "follow" ? { mediaId: entry.mediaId } : {}),
                ...(entry.type === "comment" ? { text: stored.text } : {}),
            });
        } catch (e) {
            // Like the entry itself: derived from a committed write, so never a reason to fail it.
            console.error(`[${process.pid}] push: the ${entry.type} notification for user ${recipient} was not queued: ${(e as Error).message}`);
        }
    }

    async list(userId: string, limit: number): Promise<ActivityEntry[]> {
        const redis = readyRedis(this.redis);
        const items = await redisCall(() => redis.lrange(activityKey(userId), 0, limit - 1));
        return items.map((text) => JSON.parse(text) as ActivityEntry);
    }
}
