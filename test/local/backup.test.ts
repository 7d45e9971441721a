/**
 * Backups and point-in-time recovery on the one-machine stack, with the real pgBackRest and the shard
 * role's own scripts, as an operator uses them: users signed up through the site, a time T noted, more
 * users, a table's rows deleted; `restore 0 --to T` gives exactly the rows committed before T (and the site
 * serves them, memcached emptied), a restore to just before the delete gives every row the delete took,
 * `restore --to latest` replays the delete too; a running primary is not replaced without --force, a
 * dry run says what it would restore and touches nothing, the standby is rebuilt on the new timeline, and
 * a shard whose data directory is wiped comes back from its repository on `up`.
 * The repository is a directory (.local/backups/shard-N): pgBackRest's S3 client would need an
 * S3-compatible server, and none is packaged for npm or Debian here (see README, Backups).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { contextFor } from "../../local/session";
import { LocalContext } from "../../local/context";
import { hostNamed } from "../../local/plan";
import { readState } from "../../local/state";
import { edgeCertificate } from "../../local/services/edge";
import { localRepository, psqlAsPostgres, shardPaths } from "../../local/services/postgres";
import { SiteClient } from "../../local/site-client";
import { logicalShardForUsername, shardSchema } from "../../core/shard-map";
import { runLocal } from "../harness/local-cli";
import { PORTS } from "../../core/ports";

const NET = "127.0.26";
let dir: string;
let ctx: LocalContext;
let site: SiteClient;

const local = (...args: string[]) => runLocal(dir, args);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const address = (host: string) => hostNamed(ctx.plan, host)!.address;
const primary = () => shardPaths(ctx, hostNamed(ctx.plan, "shard-0-primary")!);
const standby = () => shardPaths(ctx, hostNamed(ctx.plan, "shard-0-standby")!);
const sql = (query: string, p = primary()) => psqlAsPostgres(p, query);
const utcNow = () => new Date().toISOString().replace("T", " ").replace("Z", "+00");

async function ok(...args: string[]): Promise<string> {
    const r = await local(...args);
    if (r.status !== 0) throw new Error(`local ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
}

/** Every username on the site's shards, sorted: the users table of each logical shard. */
function usernames(p = primary()): string[] {
    const schemas = sql("SELECT nspname FROM pg_namespace WHERE nspname ~ '^shard[0-9]+$' ORDER BY 1", p).split("\n").filter(Boolean);
    return schemas.flatMap((s) => sql(`SELECT username FROM ${s}.users`, p).split("\n").filter(Boolean)).sort();
}

/** munin-node's answer to `fetch PLUGIN` on a host (as the Munin master asks it), without the final ".". */
function muninFetch(address: string, plugin: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const socket = net.connect(PORTS.muninNode, address);
        let data = "";
        socket.setTimeout(15_000, () => socket.destroy(new Error(`munin-node on ${address} did not answer fetch ${plugin}`)));
        socket.on("data", (chunk) => {
            data += chunk.toString();
            if (data.split("\n").length === 2) socket.write(`fetch ${plugin}\nquit\n`);
        });
        socket.on("close", () => resolve(data.split("\n").slice(1).join("\n").replace(/\n\.\n?$/, "").trim()));
        socket.on("error", reject);
    });
}

/** Each signed-up user's id, by username: the API reads a profile by id. */
const ids = new Map<string, string>();
async function signUp(names: string[]): Promise<void> {
    for (const name of names) ids.set(name, await site.createUser(name));
}
const profile = (name: string) => site.request("GET", `/api/v1/users/${ids.get(name)}`);

beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("the local stack runs daemons as their own users and binds ports 80/443: run as root (as CI does)");
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-backup-"));
    fs.chmodSync(dir, 0o755);
    await ok("up", "--stack", "dev", "--net", NET, "--workers", "1", "--set", "instagram:shardStandby=true", "--set", "instagram:redisReplica=true");
    ctx = contextFor(dir, readState(dir)!, () => undefined);
    site = new SiteClient(`${NET}.1`, edgeCertificate(ctx), "dev.example.com");
}, 180_000);

afterAll(async () => {
    site?.close();
    if (!dir) return;
    const r = await local("down");
    if (r.status !== 0) console.error(r.stdout, r.stderr);
    fs.rmSync(dir, { recursive: true, force: true });
}, 120_000);

const before = ["backup_before_0", "backup_before_1", "backup_before_2", "backup_before_3"];
const after = ["backup_after_0", "backup_after_1", "backup_after_2"];
let timeT = "";
let beforeDelete = "";

describe("backups and point-in-time recovery on the one-machine stack", () => {
    test("up took the shard's first full backup into its repository, encrypted, and archives WAL", async () => {
        const repo = localRepository(ctx, 0);
        expect(fs.readdirSync(path.join(repo, "backup", "shard-0")).some((f) => /^\d{8}-\d{6}F$/.test(f))).toBe(true);
        expect(fs.readFileSync(path.join(repo, "backup", "shard-0", "backup.info")).subarray(0, 8).toString("latin1")).toBe("Salted__");
        sql("SELECT pg_switch_wal()");
        await sleep(1500);
        expect(sql("SELECT archived_count > 0 AND failed_count = 0 FROM pg_stat_archiver")).toBe("t");
    });

    test("Munin reports the backup's age and the WAL archive's lag (primary), unknown lag on the standby", async () => {
        const primaryAge = await muninFetch(address("shard-0-primary"), "instagram_backup_age");
        expect(Number(/newest\.value ([\d.]+)/.exec(primaryAge)?.[1])).toBeLessThan(1);
        expect(Number(/full\.value ([\d.]+)/.exec(primaryAge)?.[1])).toBeLessThan(1);
        expect(await muninFetch(address("shard-0-primary"), "instagram_wal_archive")).toMatch(/^lag\.value \d+\nready\.value \d+\nfailed\.value 0$/);
        expect(await muninFetch(address("shard-0-standby"), "instagram_wal_archive")).toBe("lag.value U\nready.value U\nfailed.value U");
        expect(await muninFetch(address("shard-0-standby"), "instagram_backup_age")).toMatch(/^newest\.value [\d.]+\nfull\.value [\d.]+$/);
    });

    test("rows before T, T, rows after, a delete: restore to T gives exactly the rows committed before T", async () => {
        await signUp(before);
        await sleep(1100);
        timeT = utcNow();
        await sleep(1100);
        await signUp(after);
        await sleep(1100);
        beforeDelete = utcNow();
        await sleep(1100);
        // The operator error: every user of one logical shard deleted, no WHERE.
        const victimSchema = shardSchema(logicalShardForUsername(before[0], ctx.plan.directory.logicalShards));
        sql(`DELETE FROM ${victimSchema}.users`);
        expect(usernames()).not.toContain(before[0]);
        // A site read caches the profile; the restore must not leave it served from memcached.
        expect((await profile(after[0])).status).toBe(200);

        // A running primary is not replaced without --force, and nothing is touched.
        const refused = await local("restore", "0", "--to", timeT);
        expect(refused.status).toBe(1);
        expect(refused.stdout).toMatch(/PostgreSQL is running as shard 0's primary: a restore replaces its data/);
        expect(usernames()).not.toContain(before[0]);

        // A dry run says what it would restore: the backup set, the WAL range, the target.
        const plan = await ok("restore", "0", "--to", timeT, "--dry-run");
        expect(plan).toMatch(/restore the full backup \d{8}-\d{6}F \(finished .*\+00\)/);
        expect(plan).toMatch(/replaying archived WAL from [0-9A-F]{24} \(at most up to [0-9A-F]{24}\)/);
        expect(plan).toContain(`up to ${timeT.replace(/\.(\d{3})\+00$/, ".$1000+00")}: every transaction committed by then, none after`);

        const out = await ok("restore", "0", "--to", timeT, "--force");
        expect(out).toMatch(/shard 0 restored: timeline \d+, taking writes/);
        expect(out).toMatch(/memcached-0 .*emptied/);
        expect(usernames()).toEqual([...before].sort());
        for (const name of before) expect((await profile(name)).json().username).toBe(name);
        expect((await profile(after[0])).status).toBe(404);
    }, 180_000);

    test("the standby was rebuilt on the new timeline and streams the restored primary", async () => {
        expect(sql("SELECT pg_is_in_recovery()", standby())).toBe("t");
        expect(usernames(standby())).toEqual([...before].sort());
        await signUp(["backup_streamed"]);
        for (let i = 0; i < 50 && !usernames(standby()).includes("backup_streamed"); i++) await sleep(200);
        expect(usernames(standby())).toContain("backup_streamed");
        expect(sql("SELECT application_name || ' ' || state FROM pg_stat_replication")).toBe("shard-0-standby streaming");
    }, 60_000);

    test("a restore to just before the delete gets back every row the delete took; latest replays the delete too", async () => {
        // The first restore put the shard on a new timeline at T; the moment before the delete is on the
        // old one, which pgBackRest reaches with the timeline it names (--timeline is not needed for the
        // current one, so the runbook first restores to the moment before the mistake, nothing else).
        const out = await ok("restore", "0", "--to", beforeDelete, "--force", "--timeline", "1");
        expect(out).toMatch(/shard 0 restored/);
        expect(usernames()).toEqual([...before, ...after].sort());

        const victimSchema = shardSchema(logicalShardForUsername(before[0], ctx.plan.directory.logicalShards));
        sql(`DELETE FROM ${victimSchema}.users`);
        const gone = usernames();
        await ok("restore", "0", "--to", "latest", "--force");
        expect(usernames()).toEqual(gone);
    }, 180_000);

    test("a shard whose data directory is wiped comes back from its repository on up", async () => {
        const kept = usernames();
        await ok("down");
        fs.rmSync(primary().data, { recursive: true, force: true });
        fs.rmSync(standby().data, { recursive: true, force: true });
        const out = await ok("up");
        expect(out).toMatch(/daemons started/);
        const log = fs.readFileSync(path.join(dir, "logs", "shard-0-primary", "shard-postgres.log"), "utf8");
        expect(log).toMatch(/blank volumes, and shard-0's repository holds its backups: restoring the shard/);
        expect(usernames()).toEqual(kept);
        expect(sql("SELECT pg_is_in_recovery()", standby())).toBe("t");
    }, 180_000);

    test("backup redis copies the replica's RDB; restore redis loads it into the primary (not over data without --force), and the replica follows", async () => {
        const redis = (host: string, ...args: string[]) =>
            execFileSync("redis-cli", ["--no-auth-warning", "-h", address(host), ...args], { encoding: "utf8", env: { ...process.env, REDISCLI_AUTH: fs.readFileSync(path.join(dir, "hosts", host, "secrets", "redis-auth"), "utf8").trim() } }).trim();
        redis("redis-primary", "SET", "backup:kept", "before");
        redis("redis-primary", "RPUSH", "backup:list", "a", "b");
        for (let i = 0; i < 50 && redis("redis-replica", "GET", "backup:kept") !== "before"; i++) await sleep(100);
        const dumped = await ok("backup", "redis");
        expect(dumped).toMatch(/redis-replica .*saved dump-\d{8}T\d{6}Z\.rdb \(\d+ bytes\)/);
        redis("redis-primary", "DEL", "backup:kept");
        redis("redis-primary", "SET", "backup:later", "after");

        const refused = await local("restore", "redis");
        expect(refused.status).toBe(1);
        expect(refused.stdout).toMatch(/this Redis holds \d+ keys: loading the dump replaces them all. Run again with --force/);
        expect(redis("redis-primary", "GET", "backup:later")).toBe("after");

        const out = await ok("restore", "redis", "--force");
        expect(out).toMatch(/restored .*dump-.*\.rdb: the primary holds \d+ keys and takes writes/);
        expect(redis("redis-primary", "GET", "backup:kept")).toBe("before");
        expect(redis("redis-primary", "LRANGE", "backup:list", "0", "-1")).toBe("a\nb");
        expect(redis("redis-primary", "EXISTS", "backup:later")).toBe("0");
        expect(redis("redis-primary", "SET", "backup:writable", "yes")).toBe("OK");
        for (let i = 0; i < 100 && redis("redis-replica", "GET", "backup:writable") !== "yes"; i++) await sleep(100);
        expect(redis("redis-replica", "GET", "backup:kept")).toBe("before");
        expect(redis("redis-replica", "EXISTS", "backup:later")).toBe("0");
    }, 120_000);
});
