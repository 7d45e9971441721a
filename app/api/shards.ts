/**
 * Where a row lives: a user's logical shard is fixed at signup (a hash of the username, so a lookup by name
 * needs no directory) and recoverable from any ID it owns (13 bits of the ID); the logical→physical map is
 * the same pure function the Pulumi program exports. Every query goes through pgbouncer in transaction
 * mode: parameterized, unnamed statements only, no session state.
 */
import { Pool, QueryResultRow } from "pg";
import { logicalShardForUsername, shardSchema } from "../../core/shard-map";
import { physicalShardIn, ShardDirectory } from "../../core/shard-directory";
import { decodeId } from "../../core/ids";
import { DATABASE, DB_ROLES, MOVED_SQLSTATE } from "../../core/database";
import { ApiConfig } from "./config";

/** An ID whose logical shard this stack does not have: it names nothing here (callers answer 404). */
export class UnknownShard extends Error {}

export class Unavailable extends Error {
    constructor(readonly dependency: string, cause?: Error, readonly retryAfterSeconds?: number) {
        super(`${dependency} is unavailable${cause ? `: ${cause.message}` : ""}`, { cause });
    }
}

/**
 * The statement certainly did not commit: PostgreSQL answered it with an error (a SQLSTATE, outside class 08,
 * which the client reports for a connection it lost), or a move refused it. After a lost connection or a
 * timeout it may have committed: not refused.
 */
export function statementRefused(e: unknown): boolean {
    if (e instanceof Moving) return true;
    const err = (e instanceof Unavailable ? e.cause : e) as { code?: unknown } | undefined;
    return typeof err?.code === "string" && /^[0-9A-Z]{5}$/.test(err.code) && !err.code.startsWith("08");
}

/** A write to a logical shard that a move has frozen (SQLSTATE MOVED_SQLSTATE) while the directory still routes it there. */
export class Moving extends Unavailable {
    constructor(readonly logicalShard: number) {
        super(`logical shard ${logicalShard}`, new Error("it is moving to another physical shard; retry shortly"), 2);
    }
}

export class ShardRouter {
    /** One pool per pgbouncer endpoint, made when first needed: a promotion or a new shard brings a new one. */
    private readonly pools = new Map<string, Pool>();

    /**
     * `directory` is read on every query: the live shard directory (directory-source.ts), or a fixed one.
     * `reread` (when the directory is live) reads it again at once: a write refused by a moved copy asks it.
     */
    constructor(
        private readonly config: ApiConfig & { logicalShards: number },
        private readonly directory: () => ShardDirectory,
        private readonly reread?: () => Promise<void>,
    ) {}

    /** host:port of a physical shard's pgbouncer: the directory's endpoint, else the environment's host. */
    private endpointOf(physical: number): string {
        const fromDirectory = this.directory().physicalShards[physical]?.endpoint;
        if (fromDirectory) return fromDirectory;
        const target = this.config.shards[physical];
        if (!target) throw new Unavailable(`shard ${physical}`, new Error("no pgbouncer endpoint is known for it"));
        return `${target.host}:${target.port}`;
    }

    private poolOf(physical: number): Pool {
        const endpoint = this.endpointOf(physical);
        let pool = this.pools.get(endpoint);
        if (!pool) {
            const colon = endpoint.lastIndexOf(":");
            pool = new Pool({
                host: endpoint.slice(0, colon),
                port: Number(endpoint.slice(colon + 1)),
                database: DATABASE,
                user: DB_ROLES.app,
                password: this.config.dbPassword,
                max: 4,
                connectionTimeoutMillis: 2000,
                idleTimeoutMillis: 10_000,
                // Client-side: pgbouncer refuses startup parameters such as statement_timeout, and in
                // transaction mode nothing may rely on session state anyway.
                query_timeout: 5000,
            });
            pool.on("error", () => undefined); // idle client lost: the next query reconnects
            this.pools.set(endpoint, pool);
        }
        return pool;
    }

    get logicalShards(): number {
        return this.config.logicalShards;
    }

    logicalShardForUsername(username: string): number {
        return logicalShardForUsername(username, this.config.logicalShards);
    }

    /** The logical shard an ID names; UnknownShard (a 404) when this stack has no such shard (a made-up ID). */
    logicalShardOfId(id: bigint): number {
        const shard = this.knownLogicalShardOf(id);
        if (shard === undefined) throw new UnknownShard(`no such ID ${id}: its logical shard ${decodeId(id).logicalShard} is outside this stack's 0..${this.config.logicalShards - 1}`);
        return shard;
    }

    /** The logical shard an ID names, or undefined when this stack has no such logical shard (a made-up ID). */
    knownLogicalShardOf(id: bigint): number | undefined {
        const shard = decodeId(id).logicalShard;
        return shard < this.config.logicalShards ? shard : undefined;
    }

    physicalShardOf(logicalShard: number): number {
        return physicalShardIn(this.directory(), logicalShard);
    }

    schema(logicalShard: number): string {
        return shardSchema(logicalShard);
    }

    /**
     * Run one statement on the physical shard that holds `logicalShard`; connection failures become
     * Unavailable. A write refused because a move froze that copy re-reads the directory: if the shard has
     * flipped it runs once more at its new home (the refused statement wrote nothing), else it is Moving (503).
     */
    async query<R extends QueryResultRow>(logicalShard: number, text: string, values: unknown[]): Promise<R[]> {
        const physical = this.physicalShardOf(logicalShard);
        try {
            return await this.run<R>(physical, text, values);
        } catch (e) {
            if ((e as { code?: string }).code !== MOVED_SQLSTATE) throw e;
            await this.reread?.();
            const now = this.physicalShardOf(logicalShard);
            if (now === physical) throw new Moving(logicalShard);
            try {
                return await this.run<R>(now, text, values);
            } catch (again) {
                if ((again as { code?: string }).code === MOVED_SQLSTATE) throw new Moving(logicalShard);
                throw again;
            }
        }
    }

    private async run<R extends QueryResultRow>(physical: number, text: string, values: unknown[]): Promise<R[]> {
        const pool = this.poolOf(physical);
        try {
            return (await pool.query<R>(text, values)).rows;
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
        return Promise.all(this.directory().physicalShards.map(async ({ physicalShard: shard }) => {
            try {
                await this.poolOf(shard).query("SELECT 1");
                return { shard, ok: true };
            } catch (e) {
                return { shard, ok: false, error: (e as Error).message };
            }
        }));
    }

    async close(): Promise<void> {
        await Promise.all([...this.pools.values()].map((p) => p.end()));
    }
}
