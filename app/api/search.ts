/**
 * The search tier's index of photo locations (PostGIS; cloud-init/configs/search-sql.ts): what the `index`
 * job writes and GET /api/v1/media/search reads. Distances are great-circle metres on PostGIS's sphere
 * (use_spheroid false: the same for ST_DWithin, ST_Distance and the GiST index's nearest-first `<->`, and
 * within 0.5% of the spheroid, which a search radius does not need). Every query is bounded by
 * statement_timeout, which the search role has on the server (cloud-init/configs/search-sql.ts: pgbouncer,
 * in front of the tier, passes none from a client); a tier that is away or slow is Unavailable (503 for
 * search only). Searches are read from the standby while the primary is away (it streams from the primary,
 * so it lags by about a WAL record); writes wait for the primary (the index job retries).
 */
import { Pool } from "pg";
import { LatLng, SEARCH_QUERY_TIMEOUT_MS } from "../../core/geo";
import { SEARCH_DATABASE, SEARCH_ROLE } from "../../core/database";
import { Unavailable } from "./shards";

export interface IndexEntry {
    readonly mediaId: string;
    readonly userId: string;
    readonly location: LatLng;
    readonly takenAt: Date;
}

export interface SearchQuery {
    readonly center: LatLng;
    readonly distanceM: number;
    /** Unix seconds, inclusive. */
    readonly minTimestamp?: number;
    readonly maxTimestamp?: number;
    readonly count: number;
    readonly order: "nearest" | "newest";
}

export interface SearchHit {
    readonly mediaId: string;
    readonly distanceM: number;
}

const POINT = (lng: string, lat: string) => `ST_SetSRID(ST_MakePoint(${lng}, ${lat}), 4326)::geography`;

/** A statement that ran out of its statement_timeout: the tier is slow, not gone (the standby would be as slow). */
class SearchTooSlow extends Unavailable {}

/** After the primary fails a search, searches go to the standby for this long before the primary is asked again. */
export const PRIMARY_RETRY_MS = 5000;

type Target = { host: string; port: number; password?: string };

export class SearchIndex {
    private readonly pool: Pool;
    private readonly standbyPool?: Pool;
    /** Until when searches skip the primary (it failed one). */
    private primaryAwayUntil = 0;

    /**
     * `target`: the search primary's pgbouncer (or its PostgreSQL). `statementTimeoutMs`: a search's bound by
     * default; the reindex and the bench, whose sweeps take longer on a large index, raise it for their own
     * transactions (SET LOCAL, which transaction pooling keeps to the one statement's server connection).
     */
    constructor(target: Target, private readonly statementTimeoutMs = SEARCH_QUERY_TIMEOUT_MS, standby?: Target) {
        this.pool = this.poolFor(target);
        this.standbyPool = standby && this.poolFor(standby);
    }

    private poolFor(target: Target): Pool {
        const pool = new Pool({
            ...target,
            database: SEARCH_DATABASE,
            user: SEARCH_ROLE,
            max: 4,
            connectionTimeoutMillis: 2000,
            idleTimeoutMillis: 10_000,
            // The client's own bound, for a server that stops answering at all.
            query_timeout: this.statementTimeoutMs + 1000,
        });
        pool.on("error", () => undefined);
        return pool;
    }

    private async run(pool: Pool, text: string, values: unknown[]): Promise<unknown[]> {
        if (this.statementTimeoutMs === SEARCH_QUERY_TIMEOUT_MS) return (await pool.query(text, values)).rows;
        const client = await pool.connect();
        let broken: Error | undefined;
        try {
            await client.query(`BEGIN; SET LOCAL statement_timeout = ${Math.floor(this.statementTimeoutMs)}`);
            const rows = (await client.query(text, values)).rows;
            await client.query("COMMIT");
            return rows;
        } catch (e) {
            broken = e as Error;
            await client.query("ROLLBACK").catch(() => undefined);
            throw e;
        } finally {
            client.release(broken);
        }
    }

    private async query<T>(text: string, values: unknown[], pool = this.pool): Promise<T[]> {
        try {
            return (await this.run(pool, text, values)) as T[];
        } catch (e) {
            const code = (e as { code?: string }).code;
            if (code === "57014") throw new SearchTooSlow("search", new Error("the query took longer than its statement_timeout"));
            // A SQLSTATE outside connection (08), resources (53), operator (57) and system (58) errors is ours
            // (a constraint, a syntax error), not the tier's: a 500 with its message logged. A socket error
            // (ECONNREFUSED, ...) is the tier being away.
            if (code && /^[0-9A-Z]{5}$/.test(code) && !/^(08|53|57|58)/.test(code)) throw e;
            throw new Unavailable("search", e as Error);
        }
    }

    /** Index a photo (again): the newest write of an entry wins, so a job run twice changes nothing. */
    async upsert(e: IndexEntry): Promise<void> {
        await this.query(`
            INSERT INTO media_locations (media_id, user_id, location, taken_at) VALUES ($1, $2, ${POINT("$3", "$4")}, $5)
            ON CONFLICT (media_id) DO UPDATE SET user_id = EXCLUDED.user_id, location = EXCLUDED.location, taken_at = EXCLUDED.taken_at, indexed_at = now()`,
        [e.mediaId, e.userId, e.location.longitude, e.location.latitude, e.takenAt]);
    }

    /** Many entries in one statement (the reindex's batches). */
    async upsertMany(entries: readonly IndexEntry[]): Promise<void> {
        if (entries.length === 0) return;
        await this.query(`
            INSERT INTO media_locations (media_id, user_id, location, taken_at)
            SELECT m, u, ${POINT("lng", "lat")}, t FROM unnest($1::bigint[], $2::bigint[], $3::float8[], $4::float8[], $5::timestamptz[]) AS x(m, u, lat, lng, t)
            ON CONFLICT (media_id) DO UPDATE SET user_id = EXCLUDED.user_id, location = EXCLUDED.location, taken_at = EXCLUDED.taken_at, indexed_at = now()`,
        [entries.map((e) => e.mediaId), entries.map((e) => e.userId), entries.map((e) => e.location.latitude), entries.map((e) => e.location.longitude), entries.map((e) => e.takenAt)]);
    }

    /** The search server's clock (what indexed_at is stamped with). */
    async now(): Promise<Date> {
        const [row] = await this.query<{ now: Date }>("SELECT now() AS now", []);
        return row.now;
    }

    /** Entries not written since `since`: the reindex's sweep. How many went. */
    async removeNotIndexedSince(since: Date): Promise<number> {
        const rows = await this.query("DELETE FROM media_locations WHERE indexed_at < $1 RETURNING 1", [since]);
        return rows.length;
    }

    async remove(mediaId: string): Promise<void> {
        await this.query("DELETE FROM media_locations WHERE media_id = $1", [mediaId]);
    }

    async search(q: SearchQuery): Promise<SearchHit[]> {
        return this.read((pool) => this.searchOn(pool, q));
    }

    /**
     * A read from the primary, or from the standby while the primary is away: one that fails for any reason but
     * slowness marks it away for PRIMARY_RETRY_MS, and the standby answers instead.
     */
    private async read<T>(on: (pool: Pool) => Promise<T>): Promise<T> {
        if (!this.standbyPool) return on(this.pool);
        if (Date.now() < this.primaryAwayUntil) return on(this.standbyPool);
        try {
            return await on(this.pool);
        } catch (e) {
            if (!(e instanceof Unavailable) || e instanceof SearchTooSlow) throw e;
            this.primaryAwayUntil = Date.now() + PRIMARY_RETRY_MS;
            return on(this.standbyPool);
        }
    }

    private async searchOn(pool: Pool, q: SearchQuery): Promise<SearchHit[]> {
        const order = q.order === "nearest" ? `location <-> ${POINT("$1", "$2")}` : "taken_at DESC, media_id DESC";
        const rows = await this.query<{ media_id: string; distance: number }>(`
            SELECT media_id, ST_Distance(location, ${POINT("$1", "$2")}, false) AS distance
            FROM media_locations
            WHERE ST_DWithin(location, ${POINT("$1", "$2")}, $3, false)
              AND ($4::double precision IS NULL OR taken_at >= to_timestamp($4))
              AND ($5::double precision IS NULL OR taken_at <= to_timestamp($5))
            ORDER BY ${order}
            LIMIT $6`, [q.center.longitude, q.center.latitude, q.distanceM, q.minTimestamp ?? null, q.maxTimestamp ?? null, q.count], pool);
        return rows.map((r) => ({ mediaId: String(r.media_id), distanceM: Number(r.distance) }));
    }

    /** For /readyz: "up", "standby only (primary: …)" while searches are read from the standby, or "down: …". */
    async readiness(): Promise<string> {
        const probe = (pool: Pool) => this.query("SELECT 1", [], pool).then(() => undefined, (e: Error) => e.message);
        const primary = await probe(this.pool);
        if (!primary) return "up";
        const standby = this.standbyPool ? await probe(this.standbyPool) : "no standby";
        return standby ? `down: ${primary}${this.standbyPool ? `; standby: ${standby}` : ""}` : `standby only (writes wait): primary ${primary}`;
    }

    async close(): Promise<void> {
        await Promise.all([this.pool.end(), this.standbyPool?.end()]);
    }
}
