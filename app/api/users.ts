/** Users and follows, on the users' shards. A follow writes both directions: follows on the follower's shard, followers on the followee's. */
import { ShardRouter } from "./shards";

export interface User {
    readonly id: string;
    readonly username: string;
    readonly createdAt: string;
}

export class Conflict extends Error {}
export class NotFound extends Error {}

interface UserRow { id: string; username: string; created_at: Date }
const toUser = (r: UserRow): User => ({ id: String(r.id), username: r.username, createdAt: r.created_at.toISOString() });

export class Users {
    constructor(private readonly shards: ShardRouter) {}

    /** A new account; `passwordHash` is the stored form (passwords.ts), never the password. */
    async create(username: string, passwordHash: string): Promise<User> {
        const shard = this.shards.logicalShardForUsername(username);
        try {
            const [row] = await this.shards.query<UserRow>(shard, `INSERT INTO ${this.shards.schema(shard)}.users (username, password_hash) VALUES ($1, $2) RETURNING id, username, created_at`, [username, passwordHash]);
            return toUser(row);
        } catch (e) {
            if ((e as { code?: string }).code === "23505") throw new Conflict(`username ${username} is taken`);
            throw e;
        }
    }

    async get(id: bigint): Promise<User> {
        const shard = this.shards.knownLogicalShardOf(id);
        if (shard === undefined) throw new NotFound(`no user ${id}`);
        const [row] = await this.shards.query<UserRow>(shard, `SELECT id, username, created_at FROM ${this.shards.schema(shard)}.users WHERE id = $1`, [String(id)]);
        if (!row) throw new NotFound(`no user ${id}`);
        return toUser(row);
    }

    /** A user by name, with the stored password hash (null for an account made before passwords). */
    async findByUsername(username: string): Promise<{ user: User; passwordHash: string | null } | undefined> {
        const shard = this.shards.logicalShardForUsername(username);
        const [row] = await this.shards.query<UserRow & { password_hash: string | null }>(shard,
            `SELECT id, username, created_at, password_hash FROM ${this.shards.schema(shard)}.users WHERE username = $1`, [username]);
        return row ? { user: toUser(row), passwordHash: row.password_hash } : undefined;
    }

    async passwordHashOf(id: bigint): Promise<string | null> {
        const shard = this.shards.logicalShardOfId(id);
        const [row] = await this.shards.query<{ password_hash: string | null }>(shard, `SELECT password_hash FROM ${this.shards.schema(shard)}.users WHERE id = $1`, [String(id)]);
        if (!row) throw new NotFound(`no user ${id}`);
        return row.password_hash;
    }

    async setPasswordHash(id: bigint, passwordHash: string): Promise<void> {
        const shard = this.shards.logicalShardOfId(id);
        await this.shards.query(shard, `UPDATE ${this.shards.schema(shard)}.users SET password_hash = $2 WHERE id = $1`, [String(id), passwordHash]);
    }

    /** `follower` follows `followee`; true when this is new (a repeat changes nothing). */
    async follow(follower: bigint, followee: bigint): Promise<boolean> {
        if (follower === followee) throw new Conflict("a user cannot follow themselves");
        await this.get(followee);
        const a = this.shards.logicalShardOfId(follower);
        const b = this.shards.logicalShardOfId(followee);
        // Idempotent on both sides, so a retry after a failure between the two writes completes the pair.
        await this.shards.query(a, `INSERT INTO ${this.shards.schema(a)}.follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [String(follower), String(followee)]);
        const added = await this.shards.query(b, `INSERT INTO ${this.shards.schema(b)}.followers (followee_id, follower_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`, [String(followee), String(follower)]);
        return added.length > 0;
    }

    async unfollow(follower: bigint, followee: bigint): Promise<void> {
        const a = this.shards.logicalShardOfId(follower);
        const b = this.shards.logicalShardOfId(followee);
        await this.shards.query(b, `DELETE FROM ${this.shards.schema(b)}.followers WHERE followee_id = $1 AND follower_id = $2`, [String(followee), String(follower)]);
        await this.shards.query(a, `DELETE FROM ${this.shards.schema(a)}.follows WHERE follower_id = $1 AND followee_id = $2`, [String(follower), String(followee)]);
    }

    async followers(user: bigint): Promise<string[]> {
        const shard = this.shards.logicalShardOfId(user);
        const rows = await this.shards.query<{ follower_id: string }>(shard, `SELECT follower_id FROM ${this.shards.schema(shard)}.followers WHERE followee_id = $1`, [String(user)]);
        return rows.map((r) => String(r.follower_id));
    }
}
