/**
 * Where a row lives: a user's logical shard is fixed at signup (a hash of the username, so a lookup by name
 * needs no directory) and recoverable from any ID it owns (13 bits of the ID); the logical→physical map is
 * the same pure function the Pulumi program exports. Every query goes through pgbouncer in transaction
 * mode: parameterized, unnamed statements only, no session state.
 */
import * as crypto from "crypto";
import { Pool, QueryResultRow } from "pg";
import { physicalShardOf, shardSchema } from "../../core/shard-map";
import { decodeId } from "../../core/ids";
import { DATABASE, DB_ROLES } from "../../core/database";
import { ApiConfig } from "./config";

export class Unavailable extends Error {
    constructor(readonly dependency: string, cause?: Error) {
        super(`${dependency} is unavailable${cause ? `: ${cause.message}` : ""}`);
    }
}

export class ShardRouter {
    private readonly pools: Pool[];

    constructor(private readonly config: ApiConfig & { logicalShards: number }) {
        this.pools = config.shards.map((s) => new Pool({
            host: s.host,
            port: s.port,
            database: DATABASE,
            user: DB_ROLES.app,
            password: config.dbPassword,
            max: 4,
            connectionTimeoutMillis: 2000,
            idleTimeoutMillis: 10_000,
            // Client-side: pgbouncer refuses startup parameters such as statement_timeout, and in
            // transaction mode nothing may rely on session state anyway.
            query_timeout: 5000,
        }));
        for (const pool of this.pools) pool.on("error", () => undefined); // idle client lost: the next query reconnects
    }

    get logicalShards(): number {
        return this.config.logicalShards;
    }

    logicalShardForUsername(username: string): number {
        return crypto.createHash("md5").update(username).digest().readUInt32BE(0) % this.config.logicalShards;
    }

    logicalShardOfId(id: bigint): number {
        return decodeId(id).logicalShard;
    }

    physicalShardOf(logicalShard: number): number {
        return physicalShardOf(logicalShard, this.config.logicalShards, this.pools.length);
    }

    schema(logicalShard: number): string {
        return shardSchema(logicalShard);
    }

    /** Run one statement on the physical shard that holds `logicalShard`; connection failures become Unavailable. */
    async query<R extends QueryResultRow>(logicalShard: number, text: string, values: unknown[]): Promise<R[]> {
        const physical = this.physicalShardOf(logicalShard);
        try {
            return (await this.pools[physical].query<R>(text, values)).rows;
        } catch (e) {
            const err = e as Error & { code?: string };
            // SQLSTATE classes 08 (connection) and 57P (shutdown), and socket errors: the shard, not the request.
            if (!err.code || /^(08|57P|ECONN|ETIMEDOUT)/.test(err.code) || /timeout|terminat|ECONNREFUSED/i.test(err.message)) {
                throw new Unavailable(`shard ${physical}`, err);
            }
            throw e;
        }
    }

    /** Which physical shards answer (for /readyz). */
    async check(): Promise<{ shard: number; ok: boolean; error?: string }[]> {
        return Promise.all(this.pools.map(async (pool, shard) => {
            try {
                await pool.query("SELECT 1");
                return { shard, ok: true };
            } catch (e) {
                return { shard, ok: false, error: (e as Error).message };
            }
        }));
    }

    async close(): Promise<void> {
        await Promise.all(this.pools.map((p) => p.end()));
    }
}
