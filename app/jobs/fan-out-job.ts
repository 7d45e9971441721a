/**
 * The `fanout` job: an upload queues it with the photo's owner and ID (unique `fanout:<media id>`, so a
 * resubmit joins the queued job), and a worker delivers the photo to the followers' feeds in batches
 * (app/api/fan-out.ts; idempotent, so a job run twice delivers nothing twice).
 */
import { GearmanClient } from "./gearman/client";
import { Job } from "./gearman/worker";
import { FanOutQueue } from "../api/feed";
import { fanOutToFollowers, FanOutResult } from "../api/fan-out";
import { ShardRouter } from "../api/shards";
import Redis from "ioredis";

export const FAN_OUT_FUNCTION = "fanout";

export interface FanOutPayload {
    readonly ownerId: string;
    readonly mediaId: string;
}

const ID = /^\d{1,19}$/;

/** The payload of a fanout job, checked: a job with anything else fails instead of touching a feed. */
export function parseFanOutPayload(data: Buffer): FanOutPayload {
    let value: unknown;
    try {
        value = JSON.parse(data.toString("utf8"));
    } catch {
        throw new Error("fanout: the job's data is not JSON");
    }
    const { ownerId, mediaId } = (value ?? {}) as Record<string, unknown>;
    if (typeof ownerId !== "string" || !ID.test(ownerId) || typeof mediaId !== "string" || !ID.test(mediaId)) {
        throw new Error(`fanout: expected {"ownerId": "<id>", "mediaId": "<id>"}, got ${data.toString("utf8").slice(0, 200)}`);
    }
    return { ownerId, mediaId };
}

export class GearmanFanOutQueue implements FanOutQueue {
    constructor(private readonly client: GearmanClient) {}

    async submit(ownerId: string, mediaId: string): Promise<void> {
        const payload: FanOutPayload = { ownerId, mediaId };
        await this.client.submitBackground(FAN_OUT_FUNCTION, `fanout:${mediaId}`, JSON.stringify(payload));
    }
}

export function fanOutHandler(shards: ShardRouter, redis: Redis): (job: Job) => Promise<string> {
    return async (job) => {
        const { ownerId, mediaId } = parseFanOutPayload(job.data);
        const result: FanOutResult = await fanOutToFollowers(shards, redis, ownerId, mediaId);
        return JSON.stringify(result);
    };
}
