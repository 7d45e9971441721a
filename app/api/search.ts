/**
 * The search tier's index of photo locations (PostGIS; cloud-init/configs/search-sql.ts): what the `index`
 * job writes and GET /api/v1/media/search reads. Distances are great-circle metres on PostGIS's sphere
 * (use_spheroid false: the same for ST_DWithin, ST_Distance and the GiST index's nearest-first `<->`, and
 * within 0.5% of the spheroid, which a search radius does not need). Every query is bounded by
 * statement_timeout; a tier that is away or slow is Unavailable (503 for search only).
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

export class SearchIndex {
    private readonly pool: Pool;

    constructor(target: { host: string; port: number; password?: string }) {
        this.pool = new Pool({
            ...target,
            database: SEARCH_DATABASE,
            user: SEARCH_ROLE,
            max: 4,
            connectionTimeoutMillis: 2000,
            idleTimeoutMillis: 10_000,
            // Straight to PostgreSQL (no pgbouncer on the search tier), so the server bounds each statement.
            statement_timeout: SEARCH_QUERY_TIMEOUT_MS,
            query_timeout: SEARCH_QUERY_TIMEOUT_MS + 1000,
        });
        this.pool.on("error", () => undefined);
    }

    private async query<T>(text: string, values: unknown[]): Promise<T[]> {
        try {
            return (await this.pool.query(text, values)).rows as T[];
        } catch (e) {
            const code = (e as { code?: string }).code;
            if (code === "57014") throw new Unavailable("search", new Error(`the query took longer than ${SEARCH_QUERY_TIMEOUT_MS} ms`));
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

    async remove(mediaId: string): Promise<void> {
        await this.query("DELETE FROM media_locations WHERE media_id = $1", [mediaId]);
    }

    async search(q: SearchQuery): Promise<SearchHit[]> {
        const order = q.order === "nearest" ? `location <-> ${POINT("$1", "$2")}` : "taken_at DESC, media_id DESC";
        const rows = await this.query<{ media_id: string; distance: number }>(`
            SELECT media_id, ST_Distance(location, ${POINT("$1", "$2")}, false) AS distance
            FROM media_locations
            WHERE ST_DWithin(location, ${POINT("$1", "$2")}, $3, false)
              AND ($4::double precision IS NULL OR taken_at >= to_timestamp($4))
              AND ($5::double precision IS NULL OR taken_at <= to_timestamp($5))
            ORDER BY ${order}
            LIMIT $6`, [q.center.longitude, q.center.latitude, q.distanceM, q.minTimestamp ?? null, q.maxTimestamp ?? null, q.count]);
        return rows.map((r) => ({ mediaId: String(r.media_id), distanceM: Number(r.distance) }));
    }

    /** For /readyz: the tier answers. */
    async check(): Promise<string | undefined> {
        try {
            await this.query("SELECT 1", []);
            return undefined;
        } catch (e) {
            return (e as Error).message;
        }
    }

    close(): Promise<void> {
        return this.pool.end();
    }
}
