/**
 * A shard host: PostgreSQL (primary or standby) on a RAID of EBS volumes with pgbouncer in front. The boot
 * runs shard-raid (array), then shard-postgres (cluster on the array, bootstrap or clone); the configs and
 * SQL they install are generated here.
 */
import { RoleSpec } from "../role";
import { postgresqlConf, standbyConf } from "../configs/postgresql";
import { pgbouncerIni } from "../configs/pgbouncer";
import { pgHbaConf } from "../configs/pg-hba";
import { clusterBootstrapSql, databaseBootstrapSql, replicationSlotSql, shippedSql, standbySlotName } from "../configs/postgres-sql";
import { LogicalShardRange } from "../../core/shard-directory";
import { scriptFile, scriptPath } from "../scripts";
import { archiveCommand, BackupRepository, backupS3Endpoint, backupStanza, backupUnits, pgBackRestConf } from "../configs/pgbackrest";
import { RELEASE_FACTS, UbuntuRelease } from "../../core/ubuntu";
import { PostgresSizing } from "../../core/sizing";
import { DATABASE, DB_ROLES as ROLES } from "../../core/database";
import { SECRETS_DIR } from "../../core/secrets";
export const DATA_MOUNT = "/data";
export const SHARD_ENV = "/etc/instagram/shard.env";
export const CONF_SRC = "/etc/instagram/postgresql";
const PASSFILE = "/var/lib/postgresql/.pgpass";
/** pgBackRest's configuration directory on a shard host (the role's file, plus conf.d written at boot). */
export const BACKUP_CONF_DIR = "/etc/pgbackrest";
export const BACKUP_LIB = "/usr/local/lib/instagram/backup-lib.sh";

/** The backup plugin's graphs (cloud-init/scripts/munin-backup.sh), linked as instagram_<graph>. */
export const BACKUP_MUNIN_GRAPHS = ["backup_age", "wal_archive"] as const;
const BACKUP_MUNIN_PLUGIN = "/usr/local/share/munin/plugins/instagram_backup";

/** The backup plugin's settings: as postgres (it reads the repository and pg_stat_archiver), with the shard's env file. */
export function muninBackupPluginConf(envFile: string, pgHost?: string): string {
    return BACKUP_MUNIN_GRAPHS.map((g) => `[instagram_${g}]\nuser postgres\nenv.envfile ${envFile}\n${pgHost ? `env.PGHOST ${pgHost}\n` : ""}`).join("\n");
}

export interface ShardBackupParams {
    readonly repository: BackupRepository;
    /** Full backups kept (instagram:backupRetentionFull). */
    readonly retentionFull: number;
    /** The weekly full backup's day and the daily backup's UTC time (instagram:backupFullDay, backupTime). */
    readonly fullDay: string;
    readonly time: string;
}

export interface ShardParams {
    readonly shard: number;
    readonly kind: "primary" | "standby";
    readonly hostname: string;
    readonly ubuntuRelease: UbuntuRelease;
    readonly sizing: PostgresSizing;
    /** EBS volume IDs; the RAID script finds each by its NVMe serial. */
    readonly volumeIds: readonly string[];
    readonly raidLevel: 0 | 10;
    readonly volumeGiB: number;
    /** The logical shards (schemas) it holds, from the shard directory; none for a shard not yet filled. */
    readonly logicalShards: readonly LogicalShardRange[];
    /** Whether this shard has a standby (the primary keeps a replication slot for it). */
    readonly hasStandby: boolean;
    /** Address of the primary, for a standby. */
    readonly primaryAddress?: string;
    /** Where standbys connect from for replication: the VPC's private subnets. */
    readonly replicationCidrs: readonly string[];
    /**
     * The host tools tarball (components/host-tools.ts: instagram-shard-move, -promote) the host installs at
     * boot; the one-machine stack runs those scripts from the checkout instead.
     */
    readonly hostTools?: { readonly url: string; readonly sha256: string };
    /** pgBackRest: where the shard's WAL archive and backups go, how many are kept, when they are taken. */
    readonly backup: ShardBackupParams;
}

/** Usable size of the array: RAID 10 mirrors, so half. */
export function raidCapacityGiB(p: Pick<ShardParams, "raidLevel" | "volumeGiB" | "volumeIds">): number {
    const total = p.volumeGiB * p.volumeIds.length;
    return p.raidLevel === 10 ? total / 2 : total;
}

/** shard.env: what the boot scripts read. Values are IDs, numbers and addresses: no quoting needed, checked anyway. */
export function shardEnv(p: ShardParams): string {
    const values: Record<string, string> = {
        SHARD: String(p.shard),
        KIND: p.kind,
        PG_VERSION: String(RELEASE_FACTS[p.ubuntuRelease].postgresVersion),
        DATABASE,
        DATA_MOUNT,
        MOUNT_POINT: DATA_MOUNT,
        VOLUME_IDS: p.volumeIds.join(" "),
        RAID_LEVEL: String(p.raidLevel),
        CONF_SRC,
        SECRETS_DIR,
        BACKUP_STANZA: backupStanza(p.shard),
        BACKUP_CONF_DIR,
        ...(p.backup.repository.kind === "s3" ? { BACKUP_S3_ENDPOINT: backupS3Endpoint(p.backup.repository.region) } : {}),
        // Informational (the SQL creates the schemas): one range as FIRST/LAST, otherwise the list.
        ...(p.logicalShards.length === 1
            ? { FIRST_LOGICAL_SHARD: String(p.logicalShards[0].first), LAST_LOGICAL_SHARD: String(p.logicalShards[0].last) }
            : { LOGICAL_SHARDS: p.logicalShards.map((r) => `${r.first}-${r.last}`).join(" ") }),
        ...(p.hasStandby || p.kind === "standby" ? { STANDBY_SLOT: standbySlotName(p.shard) } : {}),
        ...(p.primaryAddress ? { PRIMARY_ADDRESS: p.primaryAddress } : {}),
    };
    return shellEnvFile("shard.env", values);
}

/** An env file the boot scripts source: IDs, numbers and addresses, so no quoting is needed (checked anyway). */
export function shellEnvFile(name: string, values: Readonly<Record<string, string>>): string {
    for (const [k, v] of Object.entries(values)) {
        if (!/^[A-Za-z0-9 ._\/-]*$/.test(v)) throw new Error(`${name} value ${k}=${v} has characters a shell would interpret`);
    }
    return `${Object.entries(values).map(([k, v]) => `${k}='${v}'`).join("\n")}\n`;
}

/** PostgreSQL starts only once the array is mounted (the mount is nofail, so the host still boots). */
export function postgresMountDropIn(version: number) {
    return {
        path: `/etc/systemd/system/postgresql@${version}-main.service.d/instagram.conf`,
        content: `[Unit]\nRequiresMountsFor=${DATA_MOUNT}\n`,
        permissions: "0644",
    };
}

/** Munin's PostgreSQL plugins for a host serving `database`, linked from the package's wildcard plugins. */
export function postgresMuninLinks(database: string): string[][] {
    const plugins = ["postgres_bgwriter", "postgres_checkpoints", "postgres_connections_db", "postgres_users", "postgres_xlog", `postgres_size_${database}`, `postgres_cache_${database}`, `postgres_transactions_${database}`];
    return plugins.map((plugin) => ["ln", "-sfn", `/usr/share/munin/plugins/${plugin.replace(new RegExp(`${database}$`), "")}`, `/etc/munin/plugins/${plugin}`]);
}

export function shardRole(p: ShardParams): RoleSpec {
    if (p.kind === "standby" && !p.primaryAddress) throw new Error(`shard ${p.shard} standby needs its primary's address`);
    if (p.volumeIds.length === 0) throw new Error(`shard ${p.shard} ${p.kind} has no data volumes`);
    const version = RELEASE_FACTS[p.ubuntuRelease].postgresVersion;
    // A standby may lag by at most a tenth of the array before its slot stops holding WAL for it.
    const maxSlotWalKeepSizeMiB = Math.max(1024, Math.floor((raidCapacityGiB(p) * 1024) / 10));
    const conf = (path: string, content: string, permissions = "0644") => ({ path: `${CONF_SRC}/${path}`, content, permissions });
    const files = [
        { path: SHARD_ENV, content: shardEnv(p), permissions: "0644" },
        conf("instagram.conf", postgresqlConf({ sizing: p.sizing, listenAddresses: "*", maxSlotWalKeepSizeMiB, archiveCommand: archiveCommand(BACKUP_CONF_DIR, p.shard) })),
        conf("pgbackrest.conf", pgBackRestConf({ shard: p.shard, repository: p.backup.repository, retentionFull: p.backup.retentionFull })),
        conf("pg_hba.conf", pgHbaConf({ database: DATABASE, appRoles: [ROLES.app, ROLES.pgbouncer], replicationRole: ROLES.replication, replicationCidrs: p.replicationCidrs })),
        ...(p.kind === "primary"
            ? [
                  conf("cluster.sql", shippedSql(clusterBootstrapSql(DATABASE))),
                  conf("database.sql", shippedSql(databaseBootstrapSql(p.logicalShards))),
                  ...(p.hasStandby ? [conf("slot.sql", replicationSlotSql(standbySlotName(p.shard)))] : []),
              ]
            : [conf("standby.conf", standbyConf({ primaryHost: p.primaryAddress!, user: ROLES.replication, passfile: PASSFILE, slot: standbySlotName(p.shard), applicationName: p.hostname }))]),
        {
            path: "/etc/pgbouncer/pgbouncer.ini",
            content: pgbouncerIni({ sizing: p.sizing, database: DATABASE, listenAddress: "*", postgresHost: "127.0.0.1", authFile: "/etc/pgbouncer/userlist.txt", authUser: ROLES.pgbouncer }),
            permissions: "0640",
            owner: "postgres:postgres",
            defer: true,
        },
        postgresMountDropIn(version),
        {
            path: "/etc/munin/plugin-conf.d/instagram-postgres",
            content: `[postgres_*]\nuser postgres\nenv.PGUSER postgres\n\n${muninBackupPluginConf(SHARD_ENV)}`,
            permissions: "0644",
            defer: true,
        },
        scriptFile("muninBackup", BACKUP_MUNIN_PLUGIN),
        ...backupUnits({ fullDay: p.backup.fullDay, time: p.backup.time, script: scriptPath("shardBackup"), envFile: SHARD_ENV, dataMount: DATA_MOUNT })
            .map((unit) => ({ path: `/etc/systemd/system/${unit.name}`, content: unit.content, permissions: "0644" })),
        scriptFile("shardRaid"),
        scriptFile("backupLib", BACKUP_LIB),
        scriptFile("shardPostgres"),
        // The operational tools (move, promote, backup, restore; on the standby too: once promoted it is the primary) come
        // as the host tools tarball, installed below with these two.
        ...(p.hostTools ? [scriptFile("s3Get"), scriptFile("toolsInstall")] : []),
    ];
    return {
        roles: [`postgres-${p.kind}`],
        packages: ["postgresql", "pgbouncer", "pgbackrest", "mdadm", "xfsprogs", "nvme-cli", "vmtouch", "libdbd-pg-perl"],
        files,
        commands: [
            ["systemctl", "daemon-reload"],
            [scriptPath("shardRaid"), SHARD_ENV],
            [scriptPath("shardPostgres"), SHARD_ENV],
            // After PostgreSQL: the tools are for operations, and serving does not wait for them.
            ...(p.hostTools ? [[scriptPath("toolsInstall"), p.hostTools.url, p.hostTools.sha256]] : []),
            // Back after a reboot: enabled explicitly, not left to the package's defaults (the boot script
            // already started it; no restart).
            ["systemctl", "enable", "postgresql"],
            ["systemctl", "enable", "--now", "instagram-shard-backup-full.timer", "instagram-shard-backup-diff.timer"],
            ...BACKUP_MUNIN_GRAPHS.map((g) => ["ln", "-sfn", BACKUP_MUNIN_PLUGIN, `/etc/munin/plugins/instagram_${g}`]),
            ...postgresMuninLinks(DATABASE),
        ],
        services: ["pgbouncer"],
        optionalServices: ["munin-node"],
        secrets: p.kind === "primary" ? ["postgres-app", "postgres-replication", "pgbouncer-auth", "pgbackrest-cipher"] : ["postgres-replication", "pgbouncer-auth", "pgbackrest-cipher"],
    };
}
