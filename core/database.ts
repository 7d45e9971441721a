/**
 * The shards' database contract: the database every shard host creates and the login roles in it. The
 * shard role's SQL and configs (cloud-init/) create them; the app (app/api/) and the one-machine stack
 * connect as them.
 */

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
