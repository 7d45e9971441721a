/**
 * A search host on loopback: PostgreSQL with PostGIS (Debian's postgresql-15-postgis-3), bootstrapped with
 * the search tier's SQL (cloud-init/configs/search-sql.ts), the `search` role given a password.
 */
import * as fs from "fs";
import * as path from "path";
import { Daemons, daemonAccount, postgresBinDir, tempDir, writeOwned } from "./daemons";
import { postgresqlConf } from "../../cloud-init/configs/postgresql";
import { pgHbaConf } from "../../cloud-init/configs/pg-hba";
import { searchBootstrapSql, searchSchemaSql } from "../../cloud-init/configs/search-sql";
import { SEARCH_DATABASE, SEARCH_ROLE } from "../../core/database";
import { postgresSizing } from "../../core/sizing";

export interface SearchHost {
    readonly address: string;
    sql(query: string, db?: string): string;
    stop(): Promise<void>;
    start(): Promise<void>;
}

export async function startSearchHost(daemons: Daemons, name: string, address: string, password: string): Promise<SearchHost> {
    const version = path.basename(path.dirname(postgresBinDir()));
    if (!fs.existsSync(`/usr/share/postgresql/${version}/extension/postgis.control`)) {
        throw new Error("PostGIS is not installed: apt-get install postgresql-${version}-postgis-3 (as .ci/run does)");
    }
    const account = daemonAccount();
    const base = daemons.track(tempDir(`search-${name}`, account));
    const sockets = path.join(base, "run");
    const data = path.join(base, "data");
    fs.mkdirSync(sockets);
    if (account.uid !== undefined) fs.chownSync(sockets, account.uid, account.gid!);
    const bin = postgresBinDir();
    daemons.run(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth-local=peer", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"], { account });
    fs.appendFileSync(path.join(data, "postgresql.conf"), `\n${postgresqlConf({ sizing: postgresSizing("t3.small", 50), listenAddresses: address, maxSlotWalKeepSizeMiB: 1024, extra: { unix_socket_directories: `'${sockets}'` } })}`);
    writeOwned(path.join(data, "pg_hba.conf"), pgHbaConf({ database: SEARCH_DATABASE, appRoles: [SEARCH_ROLE], replicationRole: "replicator", replicationCidrs: [] }), account);
    const start = async () => {
        daemons.start(`${name}-postgres`, path.join(bin, "postgres"), ["-D", data], { account });
        await daemons.waitFor(`${name}-postgres`, address, 5432, 30_000);
    };
    await start();
    const sql = (query: string, db = "postgres") =>
        daemons.run("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", sockets, "-U", "postgres", "-d", db], { account, input: query, env: { ...process.env, HOME: base } }).stdout.trim();
    sql(searchBootstrapSql());
    sql(`ALTER ROLE ${SEARCH_ROLE} PASSWORD '${password}';`);
    sql(searchSchemaSql(), SEARCH_DATABASE);
    return { address, sql, start, stop: () => daemons.stopOne(`${name}-postgres`) };
}
