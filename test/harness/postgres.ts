/**
 * A shard host on loopback for tests that need the database tier: PostgreSQL from the generated config and
 * bootstrap SQL, with pgbouncer in front, as the shard role sets them up (see test/daemons/postgres.test.ts
 * for the same pieces checked one by one, with a standby).
 */
import * as fs from "fs";
import * as path from "path";
import { Daemons, daemonAccount, postgresBinDir, tempDir, writeOwned } from "./daemons";
import { postgresqlConf } from "../../cloud-init/configs/postgresql";
import { pgHbaConf } from "../../cloud-init/configs/pg-hba";
import { pgbouncerIni } from "../../cloud-init/configs/pgbouncer";
import { clusterBootstrapSql, databaseBootstrapSql } from "../../cloud-init/configs/postgres-sql";
import { DB_ROLES as ROLES } from "../../core/database";
import { postgresSizing } from "../../core/sizing";

export interface ShardHost {
    readonly address: string;
    readonly sockets: string;
    /** psql as the postgres superuser over the unix socket. */
    sql(query: string, db?: string): string;
    stopPgbouncer(): Promise<void>;
    startPgbouncer(): Promise<void>;
}

/** A PostgreSQL cluster of the role's generated config on `address`, started, with psql as postgres over its socket. */
export async function startCluster(daemons: Daemons, dirName: string, name: string, address: string, hba: { database: string; appRoles: string[] }) {
    const account = daemonAccount();
    const base = daemons.track(tempDir(dirName, account));
    const sockets = path.join(base, "run");
    const data = path.join(base, "data");
    fs.mkdirSync(sockets);
    if (account.uid !== undefined) fs.chownSync(sockets, account.uid, account.gid!);
    const bin = postgresBinDir();
    daemons.run(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth-local=peer", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"], { account });
    fs.appendFileSync(path.join(data, "postgresql.conf"), `\n${postgresqlConf({ sizing: postgresSizing("t3.small", 50), listenAddresses: address, maxSlotWalKeepSizeMiB: 1024, extra: { unix_socket_directories: `'${sockets}'` } })}`);
    writeOwned(path.join(data, "pg_hba.conf"), pgHbaConf({ ...hba, replicationRole: ROLES.replication, replicationCidrs: [] }), account);
    const start = async () => {
        daemons.start(`${name}-postgres`, path.join(bin, "postgres"), ["-D", data], { account });
        await daemons.waitForPostgres(`${name}-postgres`, address);
    };
    await start();
    const sql = (query: string, db = "postgres") =>
        daemons.run("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", sockets, "-U", "postgres", "-d", db], { account, input: query, env: { ...process.env, HOME: base } }).stdout.trim();
    return { base, sockets, account, sql, start, stop: () => daemons.stopOne(`${name}-postgres`) };
}

export async function startShardHost(daemons: Daemons, name: string, address: string, firstLogical: number, lastLogical: number, passwords: { app: string; pgbouncer: string }): Promise<ShardHost> {
    const { base, sockets, sql, account } = await startCluster(daemons, `shard-${name}`, name, address, { database: "instagram", appRoles: [ROLES.app, ROLES.pgbouncer] });
    const sizing = postgresSizing("t3.small", 50);
    sql(clusterBootstrapSql("instagram"));
    sql(`ALTER ROLE ${ROLES.app} PASSWORD '${passwords.app}'; ALTER ROLE ${ROLES.pgbouncer} PASSWORD '${passwords.pgbouncer}';`);
    sql(databaseBootstrapSql([{ first: firstLogical, last: lastLogical }]), "instagram");
    const userlist = path.join(base, "userlist.txt");
    writeOwned(userlist, `"${ROLES.pgbouncer}" "${passwords.pgbouncer}"\n`, account);
    const ini = path.join(base, "pgbouncer.ini");
    writeOwned(ini, pgbouncerIni({
        sizing, database: "instagram", listenAddress: address, postgresHost: address, authFile: userlist, authUser: ROLES.pgbouncer, unixSocketDir: sockets,
        extra: { logfile: path.join(base, "pgbouncer.log"), pidfile: path.join(base, "pgbouncer.pid") },
    }), account);
    const startPgbouncer = async () => {
        daemons.start(`${name}-pgbouncer`, "pgbouncer", [ini], { account });
        await daemons.waitFor(`${name}-pgbouncer`, address, 6432);
    };
    await startPgbouncer();
    return { address, sockets, sql, startPgbouncer, stopPgbouncer: () => daemons.stopOne(`${name}-pgbouncer`) };
}
