/**
 * A search host on loopback: PostgreSQL with PostGIS (Debian's postgresql-15-postgis-3), bootstrapped with
 * the search tier's SQL (cloud-init/configs/search-sql.ts), the `search` role given a password.
 */
import * as fs from "fs";
import * as path from "path";
import { Daemons, postgresBinDir } from "./daemons";
import { startCluster } from "./postgres";
import { searchBootstrapSql, searchSchemaSql } from "../../cloud-init/configs/search-sql";
import { SEARCH_DATABASE, SEARCH_ROLE } from "../../core/database";

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
    const { sql, start, stop } = await startCluster(daemons, `search-${name}`, name, address, { database: SEARCH_DATABASE, appRoles: [SEARCH_ROLE] });
    sql(searchBootstrapSql());
    sql(`ALTER ROLE ${SEARCH_ROLE} PASSWORD '${password}';`);
    sql(searchSchemaSql(), SEARCH_DATABASE);
    return { address, sql, start, stop };
}
