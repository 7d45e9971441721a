/**
 * The shard host's generated PostgreSQL, replication and pgbouncer settings, run by the real daemons on
 * loopback: a primary on 127.0.1.1, a standby built from it on 127.0.1.2, pgbouncer in front of the primary.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Account, Daemons, daemonAccount, eventually, postgresBinDir, requireCommand, tempDir, writeOwned } from "../harness/daemons";
import { postgresqlConf, standbyConf } from "../../cloud-init/configs/postgresql";
import { pgHbaConf } from "../../cloud-init/configs/pg-hba";
import { pgbouncerIni } from "../../cloud-init/configs/pgbouncer";
import { clusterBootstrapSql, databaseBootstrapSql, replicationSlotSql, schemasOf, standbySlotName } from "../../cloud-init/configs/postgres-sql";
import { decodeId } from "../../core/ids";
import { DB_ROLES as ROLES } from "../../core/database";
import { postgresSizing } from "../../core/sizing";

const PRIMARY = "127.0.1.1";
const STANDBY = "127.0.1.2";
const DB = "instagram";
const password = () => crypto.randomBytes(30).toString("base64").replace(/[^A-Za-z0-9]/g, "").slice(0, 40);
const PASSWORDS = { app: password(), replicator: password(), pgbouncer: password() };

const daemons = new Daemons();
let account: Account;
let bin: string;
let base: string;
/** Each cluster's unix socket directory (both listen on port 5432, on their own addresses). */
let sockets: string;
let standbySockets: string;

function psql(sql: string, opts: { host?: string; port?: number; db?: string; user?: string; password?: string; allowFailure?: boolean; file?: boolean } = {}) {
    const env = { ...process.env, PGPASSWORD: opts.password ?? "", PGCONNECT_TIMEOUT: "5", HOME: base };
    const args = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", opts.host ?? sockets, "-p", String(opts.port ?? 5432), "-U", opts.user ?? "postgres", "-d", opts.db ?? "postgres"];
    // Over a unix socket psql runs as the daemon account (peer auth); over TCP it authenticates by password.
    const overTcp = /^\d/.test(opts.host ?? "");
    return daemons.run("psql", args, { account: overTcp ? undefined : account, env, input: sql, allowFailure: opts.allowFailure });
}

function initCluster(dir: string, listen: string, socketDir: string): void {
    daemons.run(path.join(bin, "initdb"), ["-D", dir, "-U", "postgres", "--auth-local=peer", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"], { account });
    fs.mkdirSync(path.join(dir, "conf.d"));
    fs.chownSync(path.join(dir, "conf.d"), account.uid ?? process.getuid!(), account.gid ?? process.getgid!());
    fs.appendFileSync(path.join(dir, "postgresql.conf"), "\ninclude_dir = 'conf.d'\n");
    const sizing = postgresSizing("t3.small", 20);
    writeOwned(path.join(dir, "conf.d", "instagram.conf"), postgresqlConf({
        sizing,
        listenAddresses: listen,
        maxSlotWalKeepSizeMiB: 1024,
        extra: { unix_socket_directories: `'${socketDir}'`, logging_collector: "off" },
    }), account, 0o644);
    writeOwned(path.join(dir, "pg_hba.conf"), pgHbaConf({
        database: DB,
        appRoles: [ROLES.app, ROLES.pgbouncer],
        replicationRole: ROLES.replication,
        // On loopback every connection comes from 127.0.0.1, whichever 127.x address it goes to; that is
        // also the address pgbouncer connects from on a real host (the default localCidrs).
        replicationCidrs: ["127.0.0.1/32"],
    }), account, 0o600);
}

function startCluster(name: string, dir: string): void {
    daemons.start(name, path.join(bin, "postgres"), ["-D", dir], { account });
}

beforeAll(async () => {
    requireCommand("psql", "postgresql-client");
    requireCommand("pgbouncer", "pgbouncer");
    account = daemonAccount();
    bin = postgresBinDir();
    base = daemons.track(tempDir("pg-test", account));
    sockets = path.join(base, "sockets-primary");
    standbySockets = path.join(base, "sockets-standby");
    for (const dir of [sockets, standbySockets]) {
        fs.mkdirSync(dir);
        fs.chownSync(dir, account.uid ?? process.getuid!(), account.gid ?? process.getgid!());
    }

    // Primary: generated config, then the generated bootstrap SQL, as the boot script runs it.
    initCluster(path.join(base, "primary"), PRIMARY, sockets);
    startCluster("primary", path.join(base, "primary"));
    await daemons.waitForPostgres("primary", PRIMARY);
    for (let run = 0; run < 2; run++) {
        // Twice: every statement must be idempotent, since a boot script can run again.
        psql(clusterBootstrapSql(DB));
        psql(`ALTER ROLE ${ROLES.app} PASSWORD '${PASSWORDS.app}'; ALTER ROLE ${ROLES.replication} PASSWORD '${PASSWORDS.replicator}'; ALTER ROLE ${ROLES.pgbouncer} PASSWORD '${PASSWORDS.pgbouncer}';`);
        psql(databaseBootstrapSql([{ first: 0, last: 3 }]), { db: DB });
        psql(replicationSlotSql(standbySlotName(0)));
    }

    // Standby: a base backup over the network with the replication role, then streaming from the slot.
    const standbyDir = path.join(base, "standby");
    const passfile = path.join(base, "pgpass");
    writeOwned(passfile, `${PRIMARY}:5432:replication:${ROLES.replication}:${PASSWORDS.replicator}\n`, account, 0o600);
    daemons.run("pg_basebackup", ["-h", PRIMARY, "-p", "5432", "-U", ROLES.replication, "-D", standbyDir, "-X", "stream", "-S", standbySlotName(0), "--checkpoint=fast"], {
        account,
        env: { ...process.env, PGPASSFILE: passfile, HOME: base },
    });
    const conf = fs.readFileSync(path.join(standbyDir, "conf.d", "instagram.conf"), "utf8")
        .replace(`listen_addresses = '${PRIMARY}'`, `listen_addresses = '${STANDBY}'`)
        .replace(`unix_socket_directories = '${sockets}'`, `unix_socket_directories = '${standbySockets}'`);
    writeOwned(path.join(standbyDir, "conf.d", "instagram.conf"), conf, account, 0o644);
    writeOwned(path.join(standbyDir, "conf.d", "standby.conf"), standbyConf({
        primaryHost: PRIMARY,
        user: ROLES.replication,
        passfile,
        slot: standbySlotName(0),
        applicationName: "shard-0-standby",
    }), account, 0o644);
    writeOwned(path.join(standbyDir, "standby.signal"), "", account, 0o600);
    startCluster("standby", standbyDir);
    await daemons.waitForPostgres("standby", STANDBY);

    // pgbouncer in front of the primary, with only the auth_user's plain-text password in its file.
    const userlist = path.join(base, "userlist.txt");
    writeOwned(userlist, `"${ROLES.pgbouncer}" "${PASSWORDS.pgbouncer}"\n`, account, 0o600);
    const ini = path.join(base, "pgbouncer.ini");
    writeOwned(ini, pgbouncerIni({
        sizing: postgresSizing("t3.small", 20),
        database: DB,
        listenAddress: PRIMARY,
        postgresHost: PRIMARY,
        authFile: userlist,
        authUser: ROLES.pgbouncer,
        unixSocketDir: sockets,
        extra: { logfile: path.join(base, "pgbouncer.log"), pidfile: path.join(base, "pgbouncer.pid") },
    }), account, 0o600);
    daemons.start("pgbouncer", "pgbouncer", [ini], { account });
    await daemons.waitFor("pgbouncer", PRIMARY, 6432, 15_000);
}, 120_000);

afterAll(async () => {
    await daemons.cleanup();
});

const viaPgbouncer = (sql: string, user: string = ROLES.app, pw = PASSWORDS.app, allowFailure = false) =>
    psql(sql, { host: PRIMARY, port: 6432, db: DB, user, password: pw, allowFailure });

describe("PostgreSQL shard with the generated configuration", () => {
    test("runs with the generated sizing and replication settings", () => {
        const show = (name: string) => psql(`SHOW ${name}`).stdout.trim();
        const sizing = postgresSizing("t3.small", 20);
        expect(show("shared_buffers")).toBe(`${sizing.sharedBuffersMiB}MB`);
        expect(show("max_connections")).toBe(String(sizing.maxConnections));
        expect(show("password_encryption")).toBe("scram-sha-256");
        expect(show("wal_level")).toBe("logical");
        expect(show("max_slot_wal_keep_size")).toBe("1GB");
    });

    test("one schema per logical shard, named as the shard map names them", () => {
        const schemas = psql("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'shard%' ORDER BY 1", { db: DB }).stdout.trim().split("\n");
        expect(schemas).toEqual(schemasOf(0, 3));
    });

    test("the standby streams from its slot and serves a row written on the primary", async () => {
        viaPgbouncer("INSERT INTO shard0001.users (username) VALUES ('replicated')");
        expect(psql("SELECT pg_is_in_recovery()", { host: standbySockets }).stdout.trim()).toBe("t");
        const seen = await eventually(() => {
            const out = psql("SELECT username FROM shard0001.users WHERE username = 'replicated'", { host: standbySockets, db: DB, allowFailure: true }).stdout.trim();
            return out === "replicated" ? out : undefined;
        }, 15_000, "the row to reach the standby");
        expect(seen).toBe("replicated");
        const replication = psql("SELECT application_name, state, sync_state FROM pg_stat_replication").stdout.trim();
        expect(replication).toBe("shard-0-standby|streaming|async");
        expect(psql(`SELECT active FROM pg_replication_slots WHERE slot_name = '${standbySlotName(0)}'`).stdout.trim()).toBe("t");
    });

    test("the standby refuses writes", () => {
        const out = psql("INSERT INTO shard0001.users (username) VALUES ('nope')", { host: standbySockets, db: DB, allowFailure: true });
        expect(out.status).not.toBe(0);
        expect(out.stderr).toMatch(/read-only transaction/);
    });

    test("pgbouncer authenticates the app with SCRAM through auth_query, in transaction pooling", () => {
        expect(viaPgbouncer("SELECT current_user").stdout.trim()).toBe("app");
        const bad = viaPgbouncer("SELECT 1", ROLES.app, "wrong-password", true);
        expect(bad.status).not.toBe(0);
        expect(bad.stderr).toMatch(/SASL authentication failed|password authentication failed/);
        // auth_query never hands out a superuser's or the replication role's secret.
        expect(viaPgbouncer("SELECT 1", "postgres", "anything", true).status).not.toBe(0);
        expect(viaPgbouncer("SELECT 1", ROLES.replication, PASSWORDS.replicator, true).status).not.toBe(0);
        const pools = psql("SHOW POOLS", { host: PRIMARY, port: 6432, db: "pgbouncer", user: ROLES.pgbouncer, password: PASSWORDS.pgbouncer, allowFailure: true });
        expect(pools.stdout).toContain("transaction");
    });

    test("the app can use its shards but not create objects or read password hashes", () => {
        expect(viaPgbouncer("CREATE TABLE public.x (i int)", ROLES.app, PASSWORDS.app, true).stderr).toMatch(/permission denied/);
        expect(viaPgbouncer("SELECT rolpassword FROM pg_authid", ROLES.app, PASSWORDS.app, true).stderr).toMatch(/permission denied/);
        expect(viaPgbouncer("SELECT * FROM pgbouncer.get_auth('app')", ROLES.app, PASSWORDS.app, true).stderr).toMatch(/permission denied/);
    });

    test("the replication role gets a move's operations and nothing else; a frozen copy refuses writes with IGM01 and serves reads", () => {
        const asReplicator = (sql: string) => psql(sql, { host: PRIMARY, db: DB, user: ROLES.replication, password: PASSWORDS.replicator, allowFailure: true });
        expect(asReplicator("SELECT count(*) FROM shard0003.users").stderr).toMatch(/permission denied/);
        expect(asReplicator("SELECT instagram.drop_moved_copy(3)").stderr).toMatch(/permission denied/);
        expect(asReplicator("SELECT instagram.create_shard_schema(9)").status).not.toBe(0);
        expect(asReplicator("SELECT table_name, row_count FROM instagram.move_digest(3, false) ORDER BY 1").stdout.trim().split("\n")).toEqual(["comments|0", "devices|0", "followers|0", "follows|0", "likes|0", "media|0", "users|0"]);
        expect(asReplicator("SELECT instagram.move_frozen(3)").stdout.trim()).toBe("f");
        expect(asReplicator("SELECT instagram.move_freeze(3)").stdout.trim()).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
        const write = viaPgbouncer("INSERT INTO shard0003.users (username) VALUES ('frozen')", ROLES.app, PASSWORDS.app, true);
        expect(write.stderr).toMatch(/logical shard 3 is moving or has moved: this copy is read-only/);
        expect(viaPgbouncer("SELECT count(*) FROM shard0003.users", ROLES.app, PASSWORDS.app).stdout.trim()).toBe("0");
        // Another logical shard on the same physical shard takes writes as before.
        expect(viaPgbouncer("INSERT INTO shard0002.users (username) VALUES ('unfrozen')", ROLES.app, PASSWORDS.app).status).toBe(0);
        expect(asReplicator("SELECT instagram.move_thaw(3)").status).toBe(0);
        expect(viaPgbouncer("INSERT INTO shard0003.users (username) VALUES ('thawed')", ROLES.app, PASSWORDS.app).status).toBe(0);
    });

    test("next_id() under concurrent inserts on two logical shards: unique ids that decode to their shard and time", async () => {
        const started = Date.now();
        const inserts = [2, 2, 3, 3].map((shard, i) => new Promise<string>((resolve, reject) => {
            const { spawn } = require("child_process") as typeof import("child_process");
            const child = spawn("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", PRIMARY, "-p", "6432", "-U", ROLES.app, "-d", DB, "-c",
                `INSERT INTO shard000${shard}.users (username) SELECT 'u${i}-' || g FROM generate_series(1, 400) g RETURNING id, ${shard}`],
            { env: { ...process.env, PGPASSWORD: PASSWORDS.app } });
            let out = "";
            child.stdout.on("data", (d) => (out += d));
            child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`insert ${i} exited ${code}`))));
        }));
        const rows = (await Promise.all(inserts)).join("").trim().split("\n").map((l) => l.split("|"));
        const finished = Date.now();
        expect(rows).toHaveLength(1600);
        const ids = rows.map(([id]) => BigInt(id));
        expect(new Set(ids.map(String)).size).toBe(1600);
        for (const [id, shard] of rows) {
            const decoded = decodeId(BigInt(id));
            expect(decoded.logicalShard).toBe(Number(shard));
            expect(decoded.millis).toBeGreaterThanOrEqual(started - 1000);
            expect(decoded.millis).toBeLessThanOrEqual(finished + 1000);
            expect(decoded.sequence).toBeLessThan(1024);
        }
    });
});
