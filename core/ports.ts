/** The standard port of every daemon in the stack: security rules, configs, the app and the local stack use these. */
export const PORTS = {
    http: 80,
    https: 443,
    ssh: 22,
    postgres: 5432,
    pgbouncer: 6432,
    redis: 6379,
    memcached: 11211,
    muninNode: 4949,
    gearman: 4730,
} as const;
