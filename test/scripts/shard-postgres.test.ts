/**
 * The shard boot script end to end, with the real postgresql-common tools and PostgreSQL: a new primary on
 * its "array", a second run that changes nothing, a replaced host (empty /etc, same data) that registers the
 * existing cluster instead of initializing one, and a standby that clones from the primary and streams.
 * postgresql-common's PG_CLUSTER_CONF_ROOT stands in for each host's /etc/postgresql; mountpoint is faked
 * (the "array" is a directory). Runs as root, as the boot does.
 */
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Daemons, daemonAccount, eventually, requireCommand, tempDir } from "../harness/daemons";
import { shardEnv, shardRole, ShardParams, CONF_SRC } from "../../cloud-init/roles/postgres";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";
import { postgresSizing } from "../../core/sizing";
import { postgresBinDir } from "../harness/daemons";

const PRIMARY = "127.0.7.1";
const STANDBY = "127.0.7.2";
const SECRETS = { "postgres-app": "AppPw0000111122223333444455556666", "postgres-replication": "ReplPw000011112222333344445555666", "pgbouncer-auth": "BouncerPw0001111222233334444555566" };
const daemons = new Daemons();
let base: string;
let pgVersion: string;

interface Host { name: string; address: string; confRoot: string; data: string; sockets: string; env: string; userlist: string; passfile: string }

function makeHost(name: string, address: string, kind: "primary" | "standby", confRoot = path.join(base, name, "etc-postgresql")): Host {
    const dir = path.join(base, name);
    const host: Host = { name, address, confRoot, data: path.join(dir, "data"), sockets: path.join(dir, "run"), env: path.join(dir, "shard.env"), userlist: path.join(dir, "userlist.txt"), passfile: path.join(dir, "pgpass") };
    const account = daemonAccount();
    for (const d of [dir, host.data, host.sockets, confRoot, path.join(dir, "conf"), path.join(dir, "secrets")]) fs.mkdirSync(d, { recursive: true });
    fs.chownSync(host.sockets, account.uid!, account.gid!);
    const params: ShardParams = {
        shard: 0, kind, hostname: `shard-0-${kind}`, ubuntuRelease: "24.04", sizing: postgresSizing("t3.small", 20),
        volumeIds: ["vol-0123456789abcdef0"], raidLevel: 0, volumeGiB: 10, logicalShards: [{ first: 0, last: 7 }], hasStandby: true,
        primaryAddress: kind === "standby" ? PRIMARY : undefined, replicationCidrs: ["127.0.0.1/32"],
    };
    // The role's own files, with this machine's differences: its PostgreSQL version, a loopback address,
    // socket directory and pid file.
    for (const file of shardRole(params).files.filter((f) => f.path.startsWith(`${CONF_SRC}/`))) {
        let content = file.content
            // Two clusters named "main" on one machine must not share Debian's pid file either.
            .replace("listen_addresses = '*'", `listen_addresses = '${address}'\nunix_socket_directories = '${host.sockets}'\nexternal_pid_file = '${host.sockets}/main.pid'`)
            .replace("passfile=/var/lib/postgresql/.pgpass", `passfile=${host.passfile}`);
        fs.writeFileSync(path.join(dir, "conf", path.basename(file.path)), content);
    }
    const env = shardEnv(params)
        .replace(/PG_VERSION='\d+'/, `PG_VERSION='${pgVersion}'`)
        .replace("DATA_MOUNT='/data'", `DATA_MOUNT='${host.data}'`)
        .replace(`CONF_SRC='${CONF_SRC}'`, `CONF_SRC='${path.join(dir, "conf")}'`)
        .replace("SECRETS_DIR='/etc/instagram/secrets'", `SECRETS_DIR='${path.join(dir, "secrets")}'`);
    fs.writeFileSync(host.env, env);
    for (const [name_, value] of Object.entries(SECRETS)) fs.writeFileSync(path.join(dir, "secrets", name_), value, { mode: 0o600 });
    return host;
}

function runScript(host: Host) {
    return daemons.runAsync("sh", [path.join(SCRIPTS_DIR, "shard-postgres.sh"), host.env], {
        env: { ...process.env, PG_CLUSTER_CONF_ROOT: host.confRoot, PGHOST: host.sockets, MOUNTPOINT: "true", PASSFILE: host.passfile, PGBOUNCER_USERLIST: host.userlist },
        allowFailure: true,
    });
}

function sql(host: Host, query: string, db = "instagram"): string {
    return daemons.run("psql", ["-X", "-A", "-t", "-h", host.sockets, "-d", db, "-c", query], { account: daemonAccount(), env: { ...process.env, HOME: base } }).stdout.trim();
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
let firstRun: { status: number; stderr: string };

beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("the shard boot script runs as root (runuser, chown); run this test as root, as CI does");
    requireCommand("pg_createcluster", "postgresql-common");
    pgVersion = path.basename(path.dirname(postgresBinDir()));
    base = daemons.track(tempDir("shard-postgres"));
    primary = makeHost("primary", PRIMARY, "primary");
    firstRun = await runScript(primary);
}, 120_000);

afterAll(async () => {
    for (const host of [primary, standby]) if (host) await stopCluster(host.data);
    await daemons.cleanup();
});

describe("shard-postgres.sh", () => {
    test("a new primary is initialized on the array and bootstrapped from the role's SQL", () => {
        expect(firstRun.status, firstRun.stderr).toBe(0);
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
        expect(replaced.stderr).not.toMatch(/initializing a new primary/);
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
});
