/**
 * The shard boot script end to end, with the real postgresql-common tools and PostgreSQL: a new primary on
 * its "array", a second run that changes nothing, a replaced host (empty /etc, same data) that registers the
 * existing cluster instead of initializing one, and a standby that clones from the primary and streams.
 * postgresql-common's PG_CLUSTER_CONF_ROOT stands in for each host's /etc/postgresql; mountpoint is faked
 * (the "array" is a directory). Runs as root, as the boot does. The S3 repository is the dev stack's backup
 * bucket as the program names it, and every S3 call pgBackRest made there must be one the shard hosts'
 * rendered IAM policy allows.
 */
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Daemons, daemonAccount, eventually, requireCommand, tempDir } from "../harness/daemons";
import { shardEnv, shardRole, ShardParams, CONF_SRC } from "../../cloud-init/roles/postgres";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";
import { postgresSizing } from "../../core/sizing";
import { postgresBinDir } from "../harness/daemons";
import { FakeS3 } from "../harness/fake-s3";
import { callsDenied, renderedBucket, renderedStack } from "../harness/iam-evaluate";

const PRIMARY = "127.0.7.1";
const STANDBY = "127.0.7.2";
const SECRETS = {
    "postgres-app": "AppPw0000111122223333444455556666",
    "postgres-replication": "ReplPw000011112222333344445555666",
    "pgbouncer-auth": "BouncerPw0001111222233334444555566",
    "pgbackrest-cipher": "CipherPw000111122223333444455556666",
};
const daemons = new Daemons();
let base: string;
let pgVersion: string;

interface Host { name: string; address: string; confRoot: string; data: string; sockets: string; env: string; userlist: string; passfile: string; repository: string }

/** The shard's backup repository (a directory standing in for its S3 prefix), shared by every host of shard 0. */
const repositoryOf = () => path.join(base, "repository");

/** The S3 stand-in, for the hosts that keep their repository in a bucket. */
let s3: FakeS3;
let s3Address: { host: string; port: number };
const S3_CREDENTIALS = { accessKeyId: "AKIASHARDTEST0000000", secretAccessKey: "shardtest/secret+key0000000000000000000", sessionToken: "shard-test-token" };

function makeHost(name: string, address: string, kind: "primary" | "standby", confRoot = path.join(base, name, "etc-postgresql"), repository = repositoryOf(), inS3 = false): Host {
    const dir = path.join(base, name);
    const host: Host = { name, address, confRoot, data: path.join(dir, "data"), sockets: path.join(dir, "run"), env: path.join(dir, "shard.env"), userlist: path.join(dir, "userlist.txt"), passfile: path.join(dir, "pgpass"), repository };
    const account = daemonAccount();
    for (const d of [dir, host.data, host.sockets, confRoot, path.join(dir, "conf"), path.join(dir, "secrets")]) fs.mkdirSync(d, { recursive: true });
    if (!fs.existsSync(repository)) {
        fs.mkdirSync(repository, { recursive: true, mode: 0o750 });
        fs.chownSync(repository, account.uid!, account.gid!);
    }
    fs.chownSync(host.sockets, account.uid!, account.gid!);
    const params: ShardParams = {
        shard: 0, kind, hostname: `shard-0-${kind}`, ubuntuRelease: "24.04", sizing: postgresSizing("t3.small", 20),
        volumeIds: ["vol-0123456789abcdef0"], raidLevel: 0, volumeGiB: 10, logicalShards: [{ first: 0, last: 7 }], hasStandby: true,
        primaryAddress: kind === "standby" ? PRIMARY : undefined, replicationCidrs: ["127.0.0.1/32"],
        backup: { repository: inS3 ? { kind: "s3", bucket: s3.bucket, region: "us-east-1" } : { kind: "posix", path: repository }, retentionFull: 2, fullDay: "Sun", time: "02:00" },
    };
    // The role's own files, with this machine's differences: its PostgreSQL version, a loopback address,
    // socket directory and pid file.
    for (const file of shardRole(params).files.filter((f) => f.path.startsWith(`${CONF_SRC}/`))) {
        let content = file.content
            // Two clusters named "main" on one machine must not share Debian's pid file either.
            .replace("listen_addresses = '*'", `listen_addresses = '${address}'\nunix_socket_directories = '${host.sockets}'\nexternal_pid_file = '${host.sockets}/main.pid'`)
            .replace("passfile=/var/lib/postgresql/.pgpass", `passfile=${host.passfile}`)
            .replace("--config-path=/etc/pgbackrest ", `--config-path=${path.join(dir, "pgbackrest")} `);
        fs.writeFileSync(path.join(dir, "conf", path.basename(file.path)), content);
    }
    const env = shardEnv(params)
        .replace(/PG_VERSION='\d+'/, `PG_VERSION='${pgVersion}'`)
        .replace("DATA_MOUNT='/data'", `DATA_MOUNT='${host.data}'`)
        .replace(`CONF_SRC='${CONF_SRC}'`, `CONF_SRC='${path.join(dir, "conf")}'`)
        .replace("SECRETS_DIR='/etc/instagram/secrets'", `SECRETS_DIR='${path.join(dir, "secrets")}'`)
        .replace("BACKUP_CONF_DIR='/etc/pgbackrest'", `BACKUP_CONF_DIR='${path.join(dir, "pgbackrest")}'`) +
        ["SPOOL", "LOG", "LOCK"].map((d) => `BACKUP_${d}_DIR='${path.join(dir, "pgbackrest-run", d.toLowerCase())}'\n`).join("");
    fs.writeFileSync(host.env, env);
    for (const [name_, value] of Object.entries(SECRETS)) fs.writeFileSync(path.join(dir, "secrets", name_), value, { mode: 0o600 });
    return host;
}

function runScript(host: Host) {
    return daemons.runAsync("sh", [path.join(SCRIPTS_DIR, "shard-postgres.sh"), host.env], {
        env: {
            ...process.env, PG_CLUSTER_CONF_ROOT: host.confRoot, PGHOST: host.sockets, MOUNTPOINT: "true", PASSFILE: host.passfile, PGBOUNCER_USERLIST: host.userlist,
            INSTAGRAM_BACKUP_LIB: path.join(SCRIPTS_DIR, "backup-lib.sh"),
            INSTAGRAM_BACKUP_S3_ENDPOINT: `${s3Address.host}:${s3Address.port}`,
            INSTAGRAM_BACKUP_S3_CREDENTIALS: `${S3_CREDENTIALS.accessKeyId}:${S3_CREDENTIALS.secretAccessKey}:${S3_CREDENTIALS.sessionToken}`,
        },
        allowFailure: true,
    });
}

function sql(host: Host, query: string, db = "instagram"): string {
    return daemons.run("psql", ["-X", "-A", "-t", "-h", host.sockets, "-d", db, "-c", query], { account: daemonAccount(), env: { ...process.env, HOME: base } }).stdout.trim();
}

function pgbackrest(host: Host, ...args: string[]): string {
    return daemons.run("pgbackrest", [`--config-path=${path.join(base, host.name, "pgbackrest")}`, "--stanza=shard-0", ...args], { account: daemonAccount(), env: { ...process.env, HOME: base } }).stdout;
}

/** Close the current WAL segment and wait until it is in the repository: what archive_timeout does within a minute. */
async function archiveNow(host: Host): Promise<void> {
    const segment = sql(host, "SELECT pg_walfile_name(pg_switch_wal())", "postgres");
    await eventually(() => (sql(host, "SELECT last_archived_wal FROM pg_stat_archiver", "postgres") >= segment ? true : undefined), 30_000, `WAL ${segment} archived`);
}

function clusters(host: Host): string {
    return daemons.run("pg_lsclusters", ["-h"], { env: { ...process.env, PG_CLUSTER_CONF_ROOT: host.confRoot } }).stdout.trim();
}

async function stopCluster(dataDir: string): Promise<void> {
    const pidFile = path.join(dataDir, "postgresql", pgVersion, "main", "postmaster.pid");
    if (!fs.existsSync(pidFile)) return;
    const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
    try { process.kill(pid, "SIGINT"); } catch { return; }
    await eventually(() => (fs.existsSync(pidFile) ? undefined : true), 30_000, `PostgreSQL ${pid} to stop`);
}

let primary: Host;
let standby: Host;
let s3Primary: Host | undefined;
let s3Rebuilt: Host | undefined;
let firstRun: { status: number; stderr: string };

beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("the shard boot script runs as root (runuser, chown); run this test as root, as CI does");
    requireCommand("pg_createcluster", "postgresql-common");
    pgVersion = path.basename(path.dirname(postgresBinDir()));
    base = daemons.track(tempDir("shard-postgres"));
    s3 = new FakeS3(renderedBucket(await renderedStack(), "backups"), S3_CREDENTIALS);
    s3Address = await s3.start("127.0.7.9");
    primary = makeHost("primary", PRIMARY, "primary");
    firstRun = await runScript(primary);
}, 120_000);

afterAll(async () => {
    for (const host of [primary, standby, s3Primary, s3Rebuilt]) if (host) await stopCluster(host.data);
    await daemons.cleanup();
    await s3?.stop();
});

describe("shard-postgres.sh", () => {
    test("a new primary is initialized on the array and bootstrapped from the role's SQL", () => {
        expect(firstRun.status, firstRun.stderr).toBe(0);
        expect(firstRun.stderr).toMatch(/no backup of shard-0 has ever been taken: initializing a new shard/);
        expect(clusters(primary)).toMatch(new RegExp(`^${pgVersion}\\s+main\\s+5432\\s+online\\s+postgres\\s+${primary.data}/postgresql/${pgVersion}/main`));
        expect(sql(primary, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'shard%'")).toBe("8");
        expect(sql(primary, "SELECT slot_name FROM pg_replication_slots", "postgres")).toBe("shard_0_standby");
        expect(sql(primary, "SHOW data_checksums", "postgres")).toBe("on");
        expect(fs.readFileSync(primary.userlist, "utf8")).toBe(`"pgbouncer" "${SECRETS["pgbouncer-auth"]}"\n`);
        expect(fs.statSync(primary.userlist).mode & 0o777).toBe(0o640);
        // The app's password works over TCP with SCRAM, as pgbouncer will use it.
        const login = daemons.run("psql", ["-X", "-A", "-t", "-h", PRIMARY, "-U", "app", "-d", "instagram", "-c", "SELECT current_user"], { env: { ...process.env, PGPASSWORD: SECRETS["postgres-app"] } });
        expect(login.stdout.trim()).toBe("app");
    });

    test("running it again changes nothing and keeps the data", async () => {
        sql(primary, "INSERT INTO shard0003.users (username) VALUES ('kept')");
        const again = await runScript(primary);
        expect(again.status, again.stderr).toBe(0);
        expect(again.stderr).not.toMatch(/initializing|dropping/);
        expect(sql(primary, "SELECT username FROM shard0003.users")).toBe("kept");
    });

    test("a replaced host (fresh /etc, same volumes) registers the existing cluster and initializes nothing", async () => {
        await stopCluster(primary.data);
        primary = makeHost("primary", PRIMARY, "primary", path.join(base, "primary", "etc-postgresql-new-root"));
        const replaced = await runScript(primary);
        expect(replaced.status, replaced.stderr).toBe(0);
        expect(replaced.stderr).toMatch(/found an existing cluster on .*: registering it unchanged/);
        expect(replaced.stderr).not.toMatch(/initializing a new shard/);
        expect(sql(primary, "SELECT username FROM shard0003.users")).toBe("kept");
    }, 60_000);

    test("a standby clones from its primary through the slot and streams", async () => {
        standby = makeHost("standby", STANDBY, "standby");
        const result = await runScript(standby);
        expect(result.status, result.stderr).toBe(0);
        expect(sql(standby, "SELECT pg_is_in_recovery()", "postgres")).toBe("t");
        sql(primary, "INSERT INTO shard0005.users (username) VALUES ('streamed')");
        await eventually(() => (sql(standby, "SELECT count(*) FROM shard0005.users WHERE username = 'streamed'") === "1" ? true : undefined), 15_000, "the row on the standby");
        expect(sql(primary, "SELECT application_name || ' ' || state FROM pg_stat_replication", "postgres")).toBe("shard-0-standby streaming");
        expect(fs.statSync(standby.passfile).mode & 0o777).toBe(0o600);
    }, 90_000);

    test("the new primary archives its WAL and took its first full backup, encrypted, before serving", () => {
        const info = JSON.parse(pgbackrest(primary, "--output=json", "info"))[0];
        expect(info.status.message).toBe("ok");
        expect(info.cipher).toBe("aes-256-cbc");
        expect(info.backup.map((b: { type: string }) => b.type)).toEqual(["full"]);
        sql(primary, "SELECT pg_switch_wal()", "postgres");
        expect(sql(primary, "SELECT failed_count FROM pg_stat_archiver", "postgres")).toBe("0");
        // Nothing in the repository is readable without the passphrase: the backup.info file is ciphertext.
        const backupInfo = fs.readFileSync(path.join(primary.repository, "backup", "shard-0", "backup.info"));
        expect(backupInfo.subarray(0, 8).toString("latin1")).toBe("Salted__");
    });

    test("a primary on blank volumes restores its shard from the repository instead of starting empty", async () => {
        sql(primary, "INSERT INTO shard0006.users (username) VALUES ('archived')");
        await archiveNow(primary);
        for (const host of [standby, primary]) await stopCluster(host.data);
        // A new host in the primary's place: fresh /etc, blank array, the same shard and repository.
        const rebuilt = makeHost("rebuilt", PRIMARY, "primary");
        const result = await runScript(rebuilt);
        expect(result.status, result.stderr).toBe(0);
        expect(result.stderr).toMatch(/blank volumes, and shard-0's repository holds its backups: restoring the shard/);
        expect(result.stderr).not.toMatch(/initializing/);
        expect(sql(rebuilt, "SELECT username FROM shard0003.users UNION ALL SELECT username FROM shard0005.users UNION ALL SELECT username FROM shard0006.users ORDER BY 1")).toBe("archived\nkept\nstreamed");
        expect(sql(rebuilt, "SELECT pg_is_in_recovery()", "postgres")).toBe("f");
        // Its standby's slot is back (slots are not in a backup), and the restore's targets are gone.
        expect(sql(rebuilt, "SELECT slot_name FROM pg_replication_slots", "postgres")).toBe("shard_0_standby");
        expect(sql(rebuilt, "SELECT count(*) FROM pg_file_settings WHERE name LIKE 'recovery_target%' OR name = 'restore_command'", "postgres")).toBe("0");
        primary = rebuilt;
    }, 120_000);

    test("blank volumes with a stanza but no backup, or an unreadable repository, are refused rather than served empty", async () => {
        // A repository that holds the shard's WAL archive but lost its backups.
        const bare = path.join(base, "bare-repository");
        fs.cpSync(repositoryOf(), bare, { recursive: true });
        fs.rmSync(path.join(bare, "backup", "shard-0"), { recursive: true });
        daemons.run("chown", ["-R", "postgres:postgres", bare]);
        const stale = makeHost("stale", "127.0.7.5", "primary", undefined, bare);
        const refused = await runScript(stale);
        expect(refused.status).not.toBe(0);
        expect(refused.stderr).toMatch(/holds the shard's stanza or WAL archive but no backup to restore: refusing to serve an empty cluster as shard 0/);
        expect(clusters(stale)).toBe("");

        const locked = path.join(base, "locked-repository");
        fs.mkdirSync(locked, { mode: 0o700 });
        const unreachable = makeHost("unreachable", "127.0.7.6", "primary", undefined, locked);
        const failed = await runScript(unreachable);
        expect(failed.status).not.toBe(0);
        expect(failed.stderr).toMatch(/cannot read shard shard-0's backup repository/);
        expect(failed.stderr).not.toMatch(/refusing to serve an empty cluster/);
        expect(clusters(unreachable)).toBe("");
    }, 60_000);

    test("with its repository in S3 (the loopback stand-in, every request's SigV4 checked): the first backup and the WAL go to the shard's prefix, and a blank primary restores from there", async () => {
        s3Primary = makeHost("s3-primary", "127.0.7.7", "primary", undefined, undefined, true);
        const first = await runScript(s3Primary);
        expect(first.status, first.stderr).toBe(0);
        expect(fs.readFileSync(path.join(base, "s3-primary", "pgbackrest", "conf.d", "host.conf"), "utf8")).toMatch(/repo1-s3-key-type=shared/);
        expect(s3.keys("pgbackrest/shard-0/backup/shard-0/").some((k) => k.endsWith("backup.manifest"))).toBe(true);
        sql(s3Primary, "INSERT INTO shard0002.users (username) VALUES ('in-s3')");
        await archiveNow(s3Primary);
        expect(s3.keys("pgbackrest/shard-0/archive/shard-0/").length).toBeGreaterThan(1);
        // Nothing outside the shard's prefix, and nothing readable: the repository is encrypted before upload.
        expect(s3.keys().every((k) => k.startsWith("pgbackrest/shard-0/"))).toBe(true);
        expect(s3.objects.get("pgbackrest/shard-0/backup/shard-0/backup.info")!.subarray(0, 8).toString("latin1")).toBe("Salted__");
        await stopCluster(s3Primary.data);
        s3Rebuilt = makeHost("s3-rebuilt", "127.0.7.7", "primary", undefined, undefined, true);
        const restored = await runScript(s3Rebuilt);
        expect(restored.status, restored.stderr).toBe(0);
        expect(restored.stderr).toMatch(/restoring the shard/);
        expect(sql(s3Rebuilt, "SELECT username FROM shard0002.users")).toBe("in-s3");
    }, 120_000);

    test("a missing secret stops the script before it touches anything", async () => {
        const broken = makeHost("broken", "127.0.7.3", "primary");
        fs.rmSync(path.join(base, "broken", "secrets", "postgres-app"));
        const result = await runScript(broken);
        expect(result.status).not.toBe(0);
        expect(result.stderr).toMatch(/secret postgres-app is missing/);
        expect(result.stderr).not.toMatch(/initializing/);
        expect(clusters(broken)).toBe("");
        expect(fs.readdirSync(broken.data)).toEqual([]);
    }, 60_000);

    test("every S3 call pgBackRest made to the repository is allowed by the shard hosts' rendered IAM policy", async () => {
        expect(s3.calls.actions()).toEqual(["s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject"]);
        expect(await callsDenied(await renderedStack(), "shard-0", s3.calls.distinct())).toEqual([]);
    });
});
