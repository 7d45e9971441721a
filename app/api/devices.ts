/**
 * The devices a user gets push notifications on, on the user's shard: registered by the app after it asks
 * iOS or Android for a token, forgotten on logout (DELETE) or when APNs/FCM say the token is dead. A user keeps
 * at most MAX_DEVICES_PER_USER; registering another forgets the one registered longest ago.
 */
import { ShardRouter } from "./shards";
import { MAX_DEVICES_PER_USER, PushPlatform } from "../../core/push";

export interface Device {
    readonly platform: PushPlatform;
    readonly token: string;
    readonly registeredAt: string;
}

interface DeviceRow { platform: PushPlatform; token: string; created_at: Date }

export class Devices {
    constructor(private readonly shards: ShardRouter) {}

    /** Register (or re-register: it becomes the newest) a device; true when it was not registered before. */
    async register(userId: bigint, platform: PushPlatform, token: string): Promise<boolean> {
        const shard = this.shards.logicalShardOfId(userId);
        const s = this.shards.schema(shard);
        // One statement: the upsert and the trim of the oldest beyond the limit commit together.
        const [row] = await this.shards.query<{ inserted: boolean }>(shard, `
            WITH upserted AS (
                INSERT INTO ${s}.devices (user_id, platform, token) VALUES ($1, $2, $3)
                ON CONFLICT (user_id, platform, token) DO UPDATE SET created_at = now()
                RETURNING (xmax = 0) AS inserted),
            trimmed AS (
                DELETE FROM ${s}.devices WHERE user_id = $1 AND (platform, token) IN (
                    SELECT platform, token FROM ${s}.devices WHERE user_id = $1 AND NOT (platform = $2 AND token = $3)
                    ORDER BY created_at DESC OFFSET ${MAX_DEVICES_PER_USER - 1}))
            SELECT inserted FROM upserted`, [String(userId), platform, token]);
        return row.inserted;
    }

    /** Forget a token of the user's (any platform); true when it was registered. */
    async remove(userId: bigint, token: string, platform?: PushPlatform): Promise<boolean> {
        const shard = this.shards.logicalShardOfId(userId);
        const rows = await this.shards.query(shard, `DELETE FROM ${this.shards.schema(shard)}.devices WHERE user_id = $1 AND token = $2${platform ? " AND platform = $3" : ""} RETURNING 1`,
            platform ? [String(userId), token, platform] : [String(userId), token]);
        return rows.length > 0;
    }

    async list(userId: bigint): Promise<Device[]> {
        const shard = this.shards.logicalShardOfId(userId);
        const rows = await this.shards.query<DeviceRow>(shard, `SELECT platform, token, created_at FROM ${this.shards.schema(shard)}.devices WHERE user_id = $1 ORDER BY created_at DESC`, [String(userId)]);
        return rows.map((r) => ({ platform: r.platform, token: r.token, registeredAt: r.created_at.toISOString() }));
    }
}
