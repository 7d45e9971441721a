/**
 * A shard or search host's PostgreSQL, brought up by the role's own boot script (instagram-shard-postgres)
 * with the role's own generated files (cloud-init/roles/postgres.ts, search.ts), exactly as on EC2. The differences are this machine's: the data directory
 * stands in for the RAID array, postgresql-common's PG_CLUSTER_CONF_ROOT for the host's /etc/postgresql, the
 * installed PostgreSQL version for the release's, and each cluster gets its own socket directory and pid
 * file since they share one machine.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { account, hostDir, LocalContext, logFile, ownedDir, writeFileAs } from "../context";
import { hostsOf, LocalHost, LocalPlan, searchPrimary, shardHost } from "../plan";
import { pidAlive, sleep, tail } from "../processes";
import { BACKUP_CONF_DIR, CONF_SRC, shardEnv, ShardParams, shardRole } from "../../cloud-init/roles/postgres";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";
import { searchEnv, SearchParams, searchRole } from "../../cloud-init/roles/search";
import { RoleSpec } from "../../cloud-init/role";
import { postgresSizing, PostgresSizing } from "../../core/sizing";
import { DATABASE } from "../../core/database";
import { GeneratedSecretName, SECRETS_DIR } from "../../core/secrets";
import { LocalService, ServiceStatus, StartEnv } from "./service";
import { installedPostgresMajors } from "../deps";

/** Local shards are sized as the smallest shard host: every tier shares this machine. */
export function localPostgresSizing(plan: LocalPlan): PostgresSizing {
    return postgresSizing("t3.small", plan.hosts.filter((h) => h.role === "app").length * plan.workers);
}

export function installedPostgresVersion(): string {
    const [newest] = installedPostgresMajors();
    if (!newest) throw new Error("PostgreSQL is not installed (apt-get install postgresql)");
    return newest;
}

export interface ShardPaths {
    readonly root: string;
    readonly data: string;
    readonly confRoot: string;
    readonly confSrc: string;
    readonly sockets: string;
    readonly secrets: string;
    readonly env: string;
    readonly passfile: string;
    readonly userlist: string;
    readonly clusterDir: string;
    /** pgBackRest's configuration directory (the host's /etc/pgbackrest) and its spool, log and lock paths. */
    readonly backupConf: string;
    readonly backupRun: string;
    /** The shard's backup repository: shared by its primary and standby, as the bucket prefix is on AWS. None on a search host. */
    readonly repository?: string;
}

/** Where the one-machine stack keeps a physical shard's backups (the S3 bucket's stand-in). */
export function localRepository(ctx: LocalContext, shard: number): string {
    return path.join(ctx.dir, "backups", `shard-${shard}`);
}

export function shardPaths(ctx: LocalContext, host: LocalHost): ShardPaths {
    const root = hostDir(ctx, host);
    const data = path.join(root, "data");
    return {
        root,
        data,
        confRoot: path.join(root, "etc-postgresql"),
        confSrc: path.join(root, "etc-instagram-postgresql"),
        sockets: path.join(root, "run-postgresql"),
        secrets: path.join(root, "secrets"),
        env: path.join(root, "shard.env"),
        passfile: path.join(root, "pgpass"),
        userlist: path.join(root, "pgbouncer-userlist.txt"),
        clusterDir: path.join(data, "postgresql", installedPostgresVersion(), "main"),
        backupConf: path.join(root, "etc-pgbackrest"),
        backupRun: path.join(root, "pgbackrest"),
        repository: host.shard ? localRepository(ctx, host.shard.physicalShard) : undefined,
    };
}

function shardParams(ctx: LocalContext, host: LocalHost): ShardParams {
    const shard = host.shard!;
    const kind = host.role === "shard-standby" ? "standby" : "primary";
    const primary = shardHost(ctx.plan, shard.physicalShard);
    return {
        shard: shard.physicalShard,
        kind,
        hostname: host.name,
        ubuntuRelease: "24.04",
        sizing: localPostgresSizing(ctx.plan),
        volumeIds: ["vol-0local0000000000"],
        raidLevel: 0,
        volumeGiB: 10,
        logicalShards: shard.logicalShards,
        hasStandby: ctx.plan.shardStandby,
        primaryAddress: kind === "standby" ? primary.address : undefined,
        // On loopback every connection comes from 127.0.0.1, whichever 127.x address it goes to.
        replicationCidrs: ["127.0.0.1/32"],
        backup: { repository: { kind: "posix", path: localRepository(ctx, shard.physicalShard) }, retentionFull: 4, fullDay: "Sun", time: "02:00" },
    };
}

function searchParams(ctx: LocalContext, host: LocalHost): SearchParams {
    const kind = host.role === "search-standby" ? "standby" : "primary";
    return {
        kind,
        hostname: host.name,
        ubuntuRelease: "24.04",
        sizing: localPostgresSizing(ctx.plan),
        volumeIds: ["vol-0local0000000000"],
        volumeGiB: 10,
        hasStandby: hostsOf(ctx.plan, "search-standby").length > 0,
        primaryAddress: kind === "standby" ? searchPrimary(ctx.plan)!.address : undefined,
        replicationCidrs: ["127.0.0.1/32"],
    };
}

/** The role's spec and env file for this host: a shard member's, or a search host's. */
function roleOf(ctx: LocalContext, host: LocalHost): { spec: RoleSpec; env: string } {
    if (host.shard) {
        const params = shardParams(ctx, host);
        return { spec: shardRole(params), env: shardEnv(params) };
    }
    const params = searchParams(ctx, host);
    return { spec: searchRole(params), env: searchEnv(params) };
}

/** Write what the role writes (its env file, its PostgreSQL files, the secrets), with this machine's paths. */
function writeRoleFiles(ctx: LocalContext, host: LocalHost, secrets: StartEnv["secrets"]): ShardPaths {
    const p = shardPaths(ctx, host);
    const postgres = account("postgres");
    ownedDir(p.root);
    ownedDir(p.data);
    ownedDir(p.confRoot);
    ownedDir(p.sockets, postgres, 0o755);
    ownedDir(p.secrets, undefined, 0o700);
    ownedDir(p.confSrc);
    if (p.repository) {
        ownedDir(path.dirname(p.repository), undefined, 0o755);
        ownedDir(p.repository, postgres, 0o750);
        ownedDir(p.backupRun, postgres, 0o750);
    }
    const role = roleOf(ctx, host);
    for (const file of role.spec.files.filter((f) => f.path.startsWith(`${CONF_SRC}/`))) {
        const content = file.content
            .replace("listen_addresses = '*'", `listen_addresses = '${host.address}'\nunix_socket_directories = '${p.sockets}'\nexternal_pid_file = '${p.sockets}/main.pid'`)
            .replace("passfile=/var/lib/postgresql/.pgpass", `passfile=${p.passfile}`)
            .replace(`--config-path=${BACKUP_CONF_DIR} `, `--config-path=${p.backupConf} `);
        writeFileAs(path.join(p.confSrc, path.basename(file.path)), content, Number.parseInt(file.permissions, 8));
    }
    const env = role.env
        .replace(/PG_VERSION='\d+'/, `PG_VERSION='${installedPostgresVersion()}'`)
        .replace("DATA_MOUNT='/data'", `DATA_MOUNT='${p.data}'`)
        .replace(`CONF_SRC='${CONF_SRC}'`, `CONF_SRC='${p.confSrc}'`)
        .replace(`SECRETS_DIR='${SECRETS_DIR}'`, `SECRETS_DIR='${p.secrets}'`)
        .replace(`BACKUP_CONF_DIR='${BACKUP_CONF_DIR}'`, `BACKUP_CONF_DIR='${p.backupConf}'`) +
        (p.repository ? ["spool", "log", "lock"].map((d) => `BACKUP_${d.toUpperCase()}_DIR='${path.join(p.backupRun, d)}'\n`).join("") : "");
    writeFileAs(p.env, env);
    // The secrets the role fetches at boot (a primary's include its app role's password).
    for (const name of role.spec.secrets as GeneratedSecretName[]) writeFileAs(path.join(p.secrets, name), secrets[name], 0o600);
    return p;
}

/** The postmaster's pid, if it runs. */
export function postmasterPid(p: ShardPaths): number | undefined {
    try {
        const pid = Number(fs.readFileSync(path.join(p.clusterDir, "postmaster.pid"), "utf8").split("\n")[0]);
        return pidAlive(pid) ? pid : undefined;
    } catch {
        return undefined;
    }
}

export function postgresqlCommonEnv(p: ShardPaths): NodeJS.ProcessEnv {
    return {
        ...process.env,
        PG_CLUSTER_CONF_ROOT: p.confRoot,
        PGHOST: p.sockets,
        MOUNTPOINT: "true",
        PASSFILE: p.passfile,
        PGBOUNCER_USERLIST: p.userlist,
        INSTAGRAM_BACKUP_LIB: path.join(SCRIPTS_DIR, "backup-lib.sh"),
        SHARD_POSTGRES: path.join(SCRIPTS_DIR, "shard-postgres.sh"),
    };
}

/** psql as the postgres superuser over the host's socket. */
export function psqlAsPostgres(p: ShardPaths, query: string, db = DATABASE): string {
    return execFileSync("runuser", ["-u", "postgres", "--", "psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", p.sockets, "-d", db, "-c", query], { encoding: "utf8", cwd: "/" }).trim();
}

export const postgresService: LocalService = {
    daemon: "postgres",
    async start(ctx, host, env) {
        if (host.role === "shard-primary" && env.failedOver.includes(host.shard!.physicalShard)) return "skipped";
        const p = writeRoleFiles(ctx, host, env.secrets);
        if (postmasterPid(p) !== undefined) return "running";
        const log = logFile(ctx, host, "shard-postgres");
        fs.mkdirSync(path.dirname(log), { recursive: true });
        const r = spawnSync("sh", [path.join(SCRIPTS_DIR, "shard-postgres.sh"), p.env], { env: { ...postgresqlCommonEnv(p), PRIMARY_WAIT_SECONDS: "60" }, encoding: "utf8", cwd: "/" });
        fs.appendFileSync(log, `${r.stdout ?? ""}${r.stderr ?? ""}`);
        if (r.status !== 0) throw new Error(`${host.name}: instagram-shard-postgres failed (exit ${r.status}); ${log} ends:\n${tail(log)}`);
        return "started";
    },
    async stop(ctx, host) {
        const p = shardPaths(ctx, host);
        const pid = postmasterPid(p);
        if (pid === undefined) return "not running";
        // SIGINT is PostgreSQL's fast shutdown: sessions end, a shutdown checkpoint is written, and a
        // primary sends its standby all WAL first. The next start needs no recovery.
        process.kill(pid, "SIGINT");
        const deadline = Date.now() + 60_000;
        while (pidAlive(pid)) {
            if (Date.now() > deadline) throw new Error(`${host.name}: PostgreSQL (pid ${pid}) did not shut down within 60 s`);
            await sleep(100);
        }
        return "stopped cleanly";
    },
    async status(ctx, host, env): Promise<ServiceStatus> {
        if (host.role === "shard-primary" && env.failedOver.includes(host.shard!.physicalShard)) return { ok: true, detail: "retired (its standby was promoted)" };
        const p = shardPaths(ctx, host);
        if (postmasterPid(p) === undefined) return { ok: false, detail: "not running" };
        try {
            const recovery = psqlAsPostgres(p, "SELECT pg_is_in_recovery()", "postgres");
            return { ok: true, detail: recovery === "t" ? "standby, streaming" : "primary" };
        } catch (e) {
            return { ok: false, detail: (e as Error).message.split("\n")[0] };
        }
    },
};

/** Promote a shard's standby (the role's instagram-shard-promote), after its primary is lost. */
export function promoteStandby(ctx: LocalContext, standby: LocalHost): void {
    const p = shardPaths(ctx, standby);
    const log = logFile(ctx, standby, "shard-promote");
    const r = spawnSync("sh", [path.join(SCRIPTS_DIR, "shard-promote.sh"), p.env], {
        env: { ...postgresqlCommonEnv(p), VMTOUCH_LOG: log },
        encoding: "utf8",
        cwd: "/",
    });
    if (r.status !== 0) throw new Error(`${standby.name}: instagram-shard-promote failed (exit ${r.status}): ${r.stderr}`);
}
