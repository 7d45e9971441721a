/**
 * `npm run bench:search`: the search tier's index on a throwaway PostgreSQL + PostGIS cluster (this
 * machine's, run as `postgres` on 127.0.46.1, with the tier's generated SQL, removed at the end):
 *   1. Loading BENCH_POINTS (default 1,000,000) photo locations through the reindex's batched upserts
 *      (SearchIndex.upsertMany, 1,000 a statement): the index side of the reindex rate.
 *   2. Searches at 1,000 m, nearest first and newest first, count 20, from points near the photos (half of
 *      them lie in 40 city-sized clusters, half spread over the inhabited latitudes), p50/p99, one at a time,
 *      beside the anchor of the same query with the GiST index turned off (a scan of every row).
 * Needs root (runs PostgreSQL as its own user) and Debian's postgresql-15-postgis-3.
 */
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import { SearchIndex, SearchQuery } from "../app/api/search";
import { searchBootstrapSql, searchSchemaSql } from "../cloud-init/configs/search-sql";
import { SEARCH_DATABASE, SEARCH_ROLE } from "../core/database";
import { LatLng } from "../core/geo";
import { percentile } from "../local/site-client";
import { table } from "./bench-stack";

const ADDRESS = "127.0.46.1";
const PASSWORD = "BenchSearchPassw0rd000000000001";
const POINTS = Number(process.env.BENCH_POINTS ?? 1_000_000);
const QUERIES = 1000;
const ANCHOR_QUERIES = 20;

function postgresBin(): string {
    const base = "/usr/lib/postgresql";
    const v = fs.readdirSync(base).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a))[0];
    if (!v || !fs.existsSync(`/usr/share/postgresql/${v}/extension/postgis.control`)) throw new Error("PostgreSQL with PostGIS is not installed (apt-get install postgresql-15-postgis-3)");
    return path.join(base, v, "bin");
}

/** A seeded generator, so every run measures the same points. */
function random(seed: number): () => number {
    let x = seed;
    return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

function points(n: number, rnd: () => number, cities: LatLng[]): LatLng[] {
    return Array.from({ length: n }, (_, i) => {
        if (i % 2 === 0) return { latitude: -55 + 125 * rnd(), longitude: -180 + 360 * rnd() };
        const c = cities[Math.floor(rnd() * cities.length)];
        // About 20 km of spread around the city centre (a rough normal from two uniforms).
        const g = () => (rnd() + rnd() + rnd() - 1.5) * 0.2;
        return { latitude: Math.max(-90, Math.min(90, c.latitude + g())), longitude: Math.max(-180, Math.min(180, c.longitude + g() / Math.cos((c.latitude * Math.PI) / 180))) };
    });
}

async function timed(queries: number, run: (i: number) => Promise<number>): Promise<{ ms: number[]; hits: number }> {
    const ms: number[] = [];
    let hits = 0;
    for (let i = 0; i < queries; i++) {
        const t0 = process.hrtime.bigint();
        hits += await run(i);
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return { ms, hits };
}

async function main(): Promise<void> {
    if (process.getuid?.() !== 0) throw new Error("run as root (sudo npm run bench:search): PostgreSQL runs as its own user");
    if (!Number.isInteger(POINTS) || POINTS < 1000 || POINTS > 20_000_000) throw new Error("BENCH_POINTS must be 1000 to 20000000");
    const bin = postgresBin();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-search-"));
    fs.chmodSync(dir, 0o755);
    const data = path.join(dir, "data");
    const asPostgres = (cmd: string, args: string[], input?: string) => execFileSync("runuser", ["-u", "postgres", "--", cmd, ...args], { cwd: "/", input, encoding: "utf8" });
    const sockets = path.join(dir, "run");
    fs.mkdirSync(data);
    fs.mkdirSync(sockets);
    spawnSync("chown", ["postgres:postgres", data, sockets]);
    asPostgres(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth-local=peer", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"]);
    fs.appendFileSync(path.join(data, "postgresql.conf"), `\nlisten_addresses = '${ADDRESS}'\nunix_socket_directories = '${sockets}'\nshared_buffers = 512MB\nwork_mem = 16MB\nmaintenance_work_mem = 256MB\nmax_wal_size = 4GB\nsynchronous_commit = on\n`);
    fs.appendFileSync(path.join(data, "pg_hba.conf"), `host ${SEARCH_DATABASE} ${SEARCH_ROLE} 127.0.0.1/32 scram-sha-256\n`);
    // As the postgres user directly (runuser in front of a long-lived child takes the terminal's signals with it).
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    const log = fs.openSync(path.join(dir, "postgres.log"), "w");
    fs.fchownSync(log, uid, gid);
    const server = spawn(path.join(bin, "postgres"), ["-D", data], { stdio: ["ignore", log, log], cwd: "/", uid, gid });
    try {
        for (let i = 0; ; i++) {
            if (spawnSync("runuser", ["-u", "postgres", "--", "psql", "-h", sockets, "-c", "SELECT 1"], { cwd: "/" }).status === 0) break;
            if (i > 100 || server.exitCode !== null) throw new Error(`PostgreSQL did not start: ${fs.readFileSync(path.join(dir, "postgres.log"), "utf8").slice(-500)}`);
            await new Promise((r) => setTimeout(r, 200));
        }
        const psql = (sql: string, db = "postgres") => asPostgres("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", sockets, "-d", db], sql);
        psql(searchBootstrapSql());
        psql(`ALTER ROLE ${SEARCH_ROLE} PASSWORD '${PASSWORD}';`);
        psql(searchSchemaSql(), SEARCH_DATABASE);
        const target = { host: ADDRESS, port: 5432, password: PASSWORD };
        const index = new SearchIndex(target, 120_000);

        const rnd = random(42);
        const cities = Array.from({ length: 40 }, () => ({ latitude: -40 + 100 * rnd(), longitude: -180 + 360 * rnd() }));
        const all = points(POINTS, rnd, cities);
        const t0 = Date.now();
        const epoch = Date.now() - 365 * 24 * 3600 * 1000;
        for (let i = 0; i < all.length; i += 1000) {
            await index.upsertMany(all.slice(i, i + 1000).map((location, j) => ({ mediaId: String(1_000_000 + i + j), userId: String(1 + ((i + j) % 10_000)), location, takenAt: new Date(epoch + (i + j) * 30_000) })));
        }
        const loadS = (Date.now() - t0) / 1000;
        psql("VACUUM ANALYZE media_locations;", SEARCH_DATABASE);

        // Centres near photos: a city point's neighbourhood (most searches in an app are where people are).
        const centres = Array.from({ length: QUERIES }, (_, i) => all[(i * 7919 * 2 + 1) % all.length]);
        const query = (i: number, order: SearchQuery["order"]): SearchQuery => ({ center: centres[i], distanceM: 1000, count: 20, order });
        const nearest = await timed(QUERIES, async (i) => (await index.search(query(i, "nearest"))).length);
        const newest = await timed(QUERIES, async (i) => (await index.search(query(i, "newest"))).length);
        // The anchor: the same nearest-first query with the GiST index off, in its own session.
        const client = new Client({ ...target, database: SEARCH_DATABASE, user: SEARCH_ROLE });
        await client.connect();
        await client.query("SET enable_indexscan = off; SET enable_bitmapscan = off; SET max_parallel_workers_per_gather = 0");
        const scan = await timed(ANCHOR_QUERIES, async (i) => (await client.query(`
            SELECT media_id FROM media_locations
            WHERE ST_DWithin(location, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, 1000, false)
            ORDER BY location <-> ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography LIMIT 20`, [centres[i].longitude, centres[i].latitude])).rowCount ?? 0);
        await client.end();
        await index.close();

        console.log(`\nbench:search: ${POINTS.toLocaleString("en-US")} indexed points, PostgreSQL ${path.basename(path.dirname(bin))} + PostGIS on this machine, one query at a time\n`);
        console.log(table(["operation", "count", "p50 ms", "p99 ms", "results per query"], [
            ["search 1000 m, nearest first (GiST)", String(QUERIES), percentile(nearest.ms, 50).toFixed(2), percentile(nearest.ms, 99).toFixed(2), (nearest.hits / QUERIES).toFixed(1)],
            ["search 1000 m, newest first (GiST)", String(QUERIES), percentile(newest.ms, 50).toFixed(2), percentile(newest.ms, 99).toFixed(2), (newest.hits / QUERIES).toFixed(1)],
            ["anchor: nearest first, no index (every row)", String(ANCHOR_QUERIES), percentile(scan.ms, 50).toFixed(2), percentile(scan.ms, 99).toFixed(2), (scan.hits / ANCHOR_QUERIES).toFixed(1)],
        ]));
        console.log(`\nreindex's index writes: ${POINTS.toLocaleString("en-US")} entries in ${loadS.toFixed(1)} s = ${Math.round(POINTS / loadS).toLocaleString("en-US")} a second (1,000 a statement, GiST maintained as it goes)\n`);
    } finally {
        if (server.exitCode === null) {
            server.kill("SIGINT");
            await new Promise((r) => server.once("exit", r));
        }
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().catch((e) => { console.error(`bench:search: ${(e as Error).message}`); process.exit(1); });
