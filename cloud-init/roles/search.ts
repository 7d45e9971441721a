/**
 * A search host (the search tier, in the role of Instagram's Solr): PostgreSQL with PostGIS holding one index
 * of every shard's photo locations, with pgbouncer in front, on a RAID of EBS volumes. It boots as a shard
 * host does, by the same scripts (shard-raid, then shard-postgres) told its own database, roles and secrets,
 * with two differences: no pgBackRest (the index is derived data: a blank primary starts empty and
 * `search reindex` refills it from the shards), and PostGIS installed beside the server.
 */
import { RoleSpec } from "../role";
import { postgresqlConf, standbyConf } from "../configs/postgresql";
import { pgbouncerIni } from "../configs/pgbouncer";
import { pgHbaConf } from "../configs/pg-hba";
import { replicationSlotSql } from "../configs/postgres-sql";
import { searchBootstrapSql, searchSchemaSql } from "../configs/search-sql";
import { scriptFile, scriptPath } from "../scripts";
import { CONF_SRC, DATA_MOUNT, postgresMountDropIn, postgresMuninLinks, shellEnvFile } from "./postgres";
import { RELEASE_FACTS, UbuntuRelease } from "../../core/ubuntu";
import { PostgresSizing } from "../../core/sizing";
import { DB_ROLES, SEARCH_DATABASE, SEARCH_ROLE } from "../../core/database";
import { SecretName, SECRETS_DIR } from "../../core/secrets";

export const SEARCH_ENV = "/etc/instagram/search.env";
/** The standby's replication slot on the search primary. */
export const SEARCH_STANDBY_SLOT = "search_standby";
const PASSFILE = "/var/lib/postgresql/.pgpass";

/** The secrets each member reads: the primary sets the roles' passwords, both run pgbouncer and stream. */
const SEARCH_SECRETS = { app: "search-app", replication: "search-replication", pgbouncer: "search-pgbouncer-auth" } as const satisfies Record<string, SecretName>;

export interface SearchParams {
    readonly kind: "primary" | "standby";
    readonly hostname: string;
    readonly ubuntuRelease: UbuntuRelease;
    readonly sizing: PostgresSizing;
    /** EBS volume IDs; the RAID script finds each by its NVMe serial. Striped (RAID 0). */
    readonly volumeIds: readonly string[];
    readonly volumeGiB: number;
    /** Whether the tier has a standby (the primary keeps a replication slot for it). */
    readonly hasStandby: boolean;
    /** Address of the primary, for a standby. */
    readonly primaryAddress?: string;
    /** Where the standby connects from for replication: the VPC's private subnets. */
    readonly replicationCidrs: readonly string[];
}

/** The PostGIS package built for the release's PostgreSQL (Ubuntu's, as Debian's, is postgresql-N-postgis-3). */
export function postgisPackage(release: UbuntuRelease): string {
    return `postgresql-${RELEASE_FACTS[release].postgresVersion}-postgis-3`;
}

/** search.env: what shard-raid and shard-postgres read on a search host. */
export function searchEnv(p: SearchParams): string {
    return shellEnvFile("search.env", {
        KIND: p.kind,
        PG_VERSION: String(RELEASE_FACTS[p.ubuntuRelease].postgresVersion),
        DATABASE: SEARCH_DATABASE,
        DATA_MOUNT,
        MOUNT_POINT: DATA_MOUNT,
        VOLUME_IDS: p.volumeIds.join(" "),
        RAID_LEVEL: "0",
        CONF_SRC,
        SECRETS_DIR,
        APP_ROLE: SEARCH_ROLE,
        APP_SECRET: SEARCH_SECRETS.app,
        REPLICATION_SECRET: SEARCH_SECRETS.replication,
        PGBOUNCER_SECRET: SEARCH_SECRETS.pgbouncer,
        ...(p.hasStandby || p.kind === "standby" ? { STANDBY_SLOT: SEARCH_STANDBY_SLOT } : {}),
        ...(p.primaryAddress ? { PRIMARY_ADDRESS: p.primaryAddress } : {}),
    });
}

export function searchRole(p: SearchParams): RoleSpec {
    if (p.kind === "standby" && !p.primaryAddress) throw new Error("the search standby needs its primary's address");
    if (p.volumeIds.length === 0) throw new Error(`search ${p.kind} has no data volumes`);
    const version = RELEASE_FACTS[p.ubuntuRelease].postgresVersion;
    const arrayMiB = p.volumeGiB * p.volumeIds.length * 1024;
    const conf = (path: string, content: string, permissions = "0644") => ({ path: `${CONF_SRC}/${path}`, content, permissions });
    const files = [
        { path: SEARCH_ENV, content: searchEnv(p), permissions: "0644" },
        // No archive_command: nothing is restored from an archive here (see the header).
        conf("instagram.conf", postgresqlConf({ sizing: p.sizing, listenAddresses: "*", maxSlotWalKeepSizeMiB: Math.max(1024, Math.floor(arrayMiB / 10)) })),
        conf("pg_hba.conf", pgHbaConf({ database: SEARCH_DATABASE, appRoles: [SEARCH_ROLE, DB_ROLES.pgbouncer], replicationRole: DB_ROLES.replication, replicationCidrs: p.replicationCidrs })),
        ...(p.kind === "primary"
            ? [
                  conf("cluster.sql", searchBootstrapSql()),
                  conf("database.sql", searchSchemaSql()),
                  ...(p.hasStandby ? [conf("slot.sql", replicationSlotSql(SEARCH_STANDBY_SLOT))] : []),
              ]
            : [conf("standby.conf", standbyConf({ primaryHost: p.primaryAddress!, user: DB_ROLES.replication, passfile: PASSFILE, slot: SEARCH_STANDBY_SLOT, applicationName: p.hostname }))]),
        {
            path: "/etc/pgbouncer/pgbouncer.ini",
            content: pgbouncerIni({ sizing: p.sizing, database: SEARCH_DATABASE, listenAddress: "*", postgresHost: "127.0.0.1", authFile: "/etc/pgbouncer/userlist.txt", authUser: DB_ROLES.pgbouncer }),
            permissions: "0640",
            owner: "postgres:postgres",
            defer: true,
        },
        postgresMountDropIn(version),
        { path: "/etc/munin/plugin-conf.d/instagram-postgres", content: "[postgres_*]\nuser postgres\nenv.PGUSER postgres\n", permissions: "0644", defer: true },
        scriptFile("shardRaid"),
        scriptFile("shardPostgres"),
    ];
    return {
        roles: [`search-${p.kind}`],
        packages: ["postgresql", postgisPackage(p.ubuntuRelease), "pgbouncer", "mdadm", "xfsprogs", "nvme-cli", "libdbd-pg-perl"],
        files,
        commands: [
            ["systemctl", "daemon-reload"],
            [scriptPath("shardRaid"), SEARCH_ENV],
            [scriptPath("shardPostgres"), SEARCH_ENV],
            ["systemctl", "enable", "postgresql"],
            ...postgresMuninLinks(SEARCH_DATABASE),
        ],
        services: ["pgbouncer"],
        optionalServices: ["munin-node"],
        secrets: p.kind === "primary" ? [SEARCH_SECRETS.app, SEARCH_SECRETS.replication, SEARCH_SECRETS.pgbouncer] : [SEARCH_SECRETS.replication, SEARCH_SECRETS.pgbouncer],
    };
}
