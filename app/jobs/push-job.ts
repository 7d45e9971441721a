/**
 * The `push` job: tell a user on their phones that someone followed them, liked or commented on their photo.
 * The API records the event in the recipient's pending hash (push/pending.ts) and, for the first event of a
 * burst, queues one job (unique per burst). The worker waits out the burst's coalescing window, reads the
 * recipient's devices from their shard, takes the burst, and sends one notification per device: APNs for iOS,
 * FCM for Android. A dead token (APNs 410/BadDeviceToken, FCM UNREGISTERED) is deleted from the shard; 429,
 * 5xx and lost connections are retried with back-off (PUSH_ATTEMPTS); any other refusal is logged with its
 * reason and counted, never retried. A notification is sent at most once: the burst is taken before the
 * sends, so a worker killed mid-send loses that notification instead of sending it twice (the activity feed
 * keeps the event).
 */
import { createHash } from "crypto";
import Redis from "ioredis";
import { GearmanClient } from "./gearman/client";
import { Job } from "./gearman/worker";
import { Devices } from "../api/devices";
import { AppContext } from "../server/protocol";
import { PUSH_ATTEMPTS, PUSH_BACKOFF_BASE_MS, PUSH_COALESCE_MS, PushPlatform } from "../../core/push";
import { addPendingEvent, pendingKey, PendingEvents, PushKind, takePending, unqueuePending } from "./push/pending";
import { Notification, PushSender, SendResult } from "./push/send-result";

export const PUSH_FUNCTION = "push";

export interface PushPayload {
    readonly recipient: string;
    readonly kind: PushKind;
    readonly mediaId?: string;
    /** When the burst's first event happened (ms): the job sends once PUSH_COALESCE_MS have passed since. */
    readonly first: number;
}

export interface PushEvent {
    readonly kind: PushKind;
    readonly actorName: string;
    readonly mediaId?: string;
    readonly text?: string;
}

const ID = /^\d{1,19}$/;

export function parsePushPayload(data: Buffer): PushPayload {
    let v: Record<string, unknown>;
    try {
        v = JSON.parse(data.toString("utf8"));
    } catch {
        throw new Error("push: the job's data is not JSON");
    }
    const ok = typeof v?.recipient === "string" && ID.test(v.recipient) && ["follow", "like", "comment"].includes(v.kind as string)
        && (v.mediaId === undefined || (typeof v.mediaId === "string" && ID.test(v.mediaId))) && Number.isSafeInteger(v.first);
    if (!ok) throw new Error(`push: expected {"recipient", "kind", "mediaId"?, "first"}, got ${data.toString("utf8").slice(0, 200)}`);
    return v as unknown as PushPayload;
}

/** A burst's unique ID: gearmand takes at most 64 bytes, less than the key and time themselves. */
export const pushUnique = (key: string, first: number) => `push:${createHash("sha1").update(`${key}:${first}`).digest("hex")}`;

/** The API's side: record an event for coalescing and queue the burst's job when it is the first. */
export class PushQueue {
    constructor(private readonly client: GearmanClient, private readonly redis: Redis | undefined) {}

    async notify(recipient: string, e: PushEvent): Promise<void> {
        const key = pendingKey(recipient, e.kind, e.mediaId);
        const first = await addPendingEvent(this.redis, key, e.actorName, e.text);
        if (first === undefined) return;
        const payload: PushPayload = { recipient, kind: e.kind, ...(e.mediaId ? { mediaId: e.mediaId } : {}), first };
        try {
            await this.client.submitBackground(PUSH_FUNCTION, pushUnique(key, first), JSON.stringify(payload));
        } catch (err) {
            await unqueuePending(this.redis, key).catch(() => undefined);
            throw err;
        }
    }
}

/** "alice", "alice and bob", "alice, bob and 3 others". */
function who(p: PendingEvents): string {
    const names = p.names.slice(0, 2);
    const rest = p.names.length - names.length + p.others;
    if (rest > 0) return `${names.join(", ")} and ${rest} other${rest === 1 ? "" : "s"}`;
    return names.length === 2 ? `${names[0]} and ${names[1]}` : names[0] ?? "Someone";
}

export function notificationFor(payload: PushPayload, p: PendingEvents): Notification {
    const data: Record<string, string> = { kind: payload.kind, ...(payload.mediaId ? { mediaId: payload.mediaId } : {}), events: String(p.events) };
    const collapseId = `${payload.kind}:${payload.mediaId ?? payload.recipient}`;
    const many = p.names.length + p.others > 1;
    switch (payload.kind) {
        case "follow": return { body: `${who(p)} started following you.`, collapseId, data };
        case "like": return { body: `${who(p)} liked your photo.`, collapseId, data };
        case "comment": return { body: many ? `${who(p)} commented on your photo.` : `${who(p)} commented: ${p.text ?? ""}`, collapseId, data };
    }
}

export interface PushHandlerOptions {
    readonly devices: Devices;
    readonly redis: Redis;
    readonly senders: Partial<Record<PushPlatform, PushSender>>;
    readonly context: Pick<AppContext, "count">;
    readonly sleep?: (ms: number) => Promise<void>;
    readonly now?: () => number;
    readonly coalesceMs?: number;
}

/** One device: up to PUSH_ATTEMPTS tries while the answer says a retry may pass, with jittered back-off. */
async function sendWithRetries(sender: PushSender, token: string, n: Notification, sleep: (ms: number) => Promise<void>): Promise<SendResult & { attempts: number }> {
    let attempts = 0;
    for (;;) {
        attempts++;
        const result = await sender.send(token, n);
        if (result.ok || !result.retry || attempts >= PUSH_ATTEMPTS) return { ...result, attempts };
        const base = PUSH_BACKOFF_BASE_MS * 2 ** (attempts - 1);
        await sleep(base + Math.floor(Math.random() * base));
    }
}

const short = (token: string) => `${token.slice(0, 8)}…`;

export function pushHandler(o: PushHandlerOptions): (job: Job) => Promise<string> {
    const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const now = o.now ?? Date.now;
    const window = o.coalesceMs ?? PUSH_COALESCE_MS;
    return async (job) => {
        const payload = parsePushPayload(job.data);
        const wait = payload.first + window - now();
        if (wait > 0) await sleep(Math.min(wait, window));
        // The devices first: a shard that is away sends the job back before the burst is taken.
        const devices = await o.devices.list(BigInt(payload.recipient));
        const pending = await takePending(o.redis, pendingKey(payload.recipient, payload.kind, payload.mediaId));
        if (!pending) return JSON.stringify({ sent: 0, note: "the burst was taken by an earlier run of this job" });
        const n = notificationFor(payload, pending);
        const outcome = { devices: devices.length, sent: 0, failed: 0, removed: 0, skipped: 0 };
        for (const d of devices) {
            const sender = o.senders[d.platform];
            if (!sender) { outcome.skipped++; continue; }
            const r = await sendWithRetries(sender, d.token, n, sleep);
            if (r.ok) { outcome.sent++; o.context.count("push_sent"); continue; }
            outcome.failed++;
            o.context.count("push_failed");
            if (r.unregistered) {
                await o.devices.remove(BigInt(payload.recipient), d.token, d.platform).then(() => {
                    outcome.removed++;
                    o.context.count("push_tokens_removed");
                }, (e: Error) => console.error(`push: could not delete dead ${d.platform} token ${short(d.token)} of user ${payload.recipient}: ${e.message}`));
            }
            console.error(`push: ${d.platform} token ${short(d.token)} of user ${payload.recipient}: ${r.status || "no answer"} ${r.reason ?? ""} after ${r.attempts} attempt(s)${r.unregistered ? "; token deleted" : ""}`);
        }
        return JSON.stringify(outcome);
    };
}
