/**
 * The shards' database contract: the database every shard host creates and the login roles in it. The
 * shard role's SQL and configs (cloud-init/) create them; the app (app/api/) and the one-machine stack
 * connect as them.
 */
import { shardSchema } from "./shard-map";

/** The database on every shard primary; logical shards are schemas inside it. */
export const DATABASE = "instagram";

/** Login roles on every shard. */
export const DB_ROLES = {
    /** The app's workers, through pgbouncer. */
    app: "app",
    /** Standbys streaming WAL. */
    replication: "replicator",
    /** pgbouncer's auth_user, which runs auth_query. */
    pgbouncer: "pgbouncer",
} as const;

/**
 * The SQLSTATE a logical shard's copy raises when a move has frozen it: being switched to its new physical
 * shard, or left behind read-only until `shards cleanup`. The app answers it with 503 and Retry-After.
 */
export const MOVED_SQLSTATE = "IGM01";

/** Names a move gives the objects it creates: the source's publication and the destination's subscription. */
export function moveObjectName(logicalShard: number): string {
    return `move_${shardSchema(logicalShard)}`;
}

/** The search tier's database (PostGIS, one global index of photo locations) and its login role. */
export const SEARCH_DATABASE = "search";
export const SEARCH_ROLE = "search";
