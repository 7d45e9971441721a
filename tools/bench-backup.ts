/**
 * `npm run bench:backup`: a shard's full backup and restore with pgBackRest, as the stack runs it (the
 * role's configuration: zstd level 3, two processes, encrypted, into the repository directory that stands
 * in for the bucket), side by side in the same run with the anchor it competes with, pg_basebackup of the
 * same cluster (plain, and zstd-compressed tar, over TCP as a standby's clone does) and putting its copy
 * back in place. The shard is filled
 * with BENCH_BACKUP_GIB (default 1) GiB of rows of random hex first. Throughput is the cluster's size over
 * the wall time. The one-machine stack on 127.0.32.0/24 in a temporary directory, taken down at the end;
 * needs root and the local stack's packages (npm run local -- install-deps).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "../delivery/sources";
import { local as localCli, table } from "./bench-stack";
import { contextFor } from "../local/session";
import { readState } from "../local/state";
import { shardHost } from "../local/plan";
import { psqlAsPostgres, shardPaths } from "../local/services/postgres";
import { backupStanza } from "../cloud-init/configs/pgbackrest";

const GIB = Number(process.env.BENCH_BACKUP_GIB ?? 1);
if (!Number.isInteger(GIB) || GIB < 1 || GIB > 16) {
    console.error("bench:backup: BENCH_BACKUP_GIB must be a whole number from 1 to 16");
    process.exit(2);
}
const NET = "127.0.32";

function run(command: string, args: string[], what: string, env: NodeJS.ProcessEnv = process.env): number {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(command, args, { cwd: "/", encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env });
    if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}): ${r.stderr || r.stdout}`);
    return Number(process.hrtime.bigint() - t0) / 1e9;
}

function local(dir: string, args: string[]): void {
    const r = localCli(dir, args);
    if (r.status !== 0) throw new Error(`local ${args.join(" ")} failed:\n${r.out}`);
}

const du = (p: string) => Number(spawnSync("du", ["-sb", p], { encoding: "utf8" }).stdout.split("\t")[0]);
const mib = (bytes: number) => bytes / 1024 / 1024;

async function main(): Promise<void> {
    if (process.getuid?.() !== 0) throw new Error("bench:backup runs the one-machine stack: run it as root");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-backup-"));
    fs.chmodSync(dir, 0o755);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bench-backup-scratch-"));
    spawnSync("chown", ["postgres:postgres", scratch]);
    try {
        local(dir, ["up", "--stack", "dev", "--net", NET, "--workers", "1"]);
        const ctx = contextFor(dir, readState(dir)!, () => undefined);
        const p = shardPaths(ctx, shardHost(ctx.plan, 0, "primary"));
        if (spawnSync("sh", ["-c", "command -v zstd"]).status !== 0) throw new Error("the anchor's decompression needs zstd (apt-get install zstd)");
        // Rows of random hex (about 260 bytes each on disk, so a little over the size asked for): half-compressible, like real rows, not a run of zeros.
        const rows = Math.round((GIB * 1024 * 1024 * 1024) / 250);
        console.log(`bench:backup: filling shard 0 with ${rows} rows (${GIB} GiB)...`);
        psqlAsPostgres(p, `CREATE TABLE public.bench_fill AS SELECT g AS id, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) AS body FROM generate_series(1, ${rows}) g`);
        psqlAsPostgres(p, "CHECKPOINT", "postgres");
        // The data directory without pg_wal: what both tools copy (each takes only the WAL of the backup itself).
        const clusterBytes = du(p.clusterDir) - du(path.join(p.clusterDir, "pg_wal"));
        const pgbr = ["runuser", "-u", "postgres", "--", "pgbackrest", `--config-path=${p.backupConf}`, `--stanza=${backupStanza(0)}`];
        const repoBefore = du(p.repository!);

        const backupS = run(pgbr[0], [...pgbr.slice(1), "backup", "--type=full"], "pgbackrest backup");
        const repoBytes = du(p.repository!) - repoBefore;
        const restoreDir = path.join(scratch, "pgbackrest-restore");
        fs.mkdirSync(restoreDir, { mode: 0o700 });
        spawnSync("chown", ["postgres:postgres", restoreDir]);
        const restoreS = run(pgbr[0], [...pgbr.slice(1), `--pg1-path=${restoreDir}`, "restore", "--type=immediate"], "pgbackrest restore");
        fs.rmSync(restoreDir, { recursive: true, force: true });

        // pg_basebackup as a standby clones: the replication role over TCP (the role's pg_hba.conf has no
        // local replication entry), its password from the stack's secrets.
        const primary = shardHost(ctx.plan, 0, "primary");
        const replication = { ...process.env, PGPASSWORD: fs.readFileSync(path.join(dir, "secrets", "postgres-replication"), "utf8").trim() };
        const basebackup = ["-u", "postgres", "--", "pg_basebackup", "-h", primary.address, "-U", "replicator", "-X", "stream", "-c", "fast"];
        const base = path.join(scratch, "basebackup");
        const baseS = run("runuser", [...basebackup, "-D", base], "pg_basebackup", replication);
        const baseBytes = du(base);
        const copyBack = path.join(scratch, "basebackup-restored");
        const copyS = run("cp", ["-a", base, copyBack], "cp -a of the basebackup");
        fs.rmSync(copyBack, { recursive: true, force: true });
        fs.rmSync(base, { recursive: true, force: true });
        const tar = path.join(scratch, "basebackup-tar");
        const tarS = run("runuser", [...basebackup, "-D", tar, "-Ft", "--compress=client-zstd:3"], "pg_basebackup -Ft zstd", replication);
        const tarBytes = du(tar);
        const untarDir = path.join(scratch, "basebackup-untar");
        fs.mkdirSync(untarDir);
        spawnSync("chown", ["postgres:postgres", untarDir]);
        const untarS = run("sh", ["-c", `zstd -dc "$1/base.tar.zst" | tar -x -C "$2"`, "sh", tar, untarDir], "untar of the zstd basebackup");
        fs.rmSync(tar, { recursive: true, force: true });
        fs.rmSync(untarDir, { recursive: true, force: true });

        const size = mib(clusterBytes);
        const rate = (s: number) => `${(size / s).toFixed(0)} MiB/s`;
        console.log(`\nbench:backup: shard 0, ${size.toFixed(0)} MiB of data (without pg_wal), ${os.cpus().length} cores; throughput = that size / wall time\n`);
        console.log(table(["operation", "took", "throughput", "stored"], [
            ["pgBackRest full backup (zstd:3, 2 processes, aes-256-cbc)", `${backupS.toFixed(1)} s`, rate(backupS), `${mib(repoBytes).toFixed(0)} MiB`],
            ["pgBackRest restore into an empty directory", `${restoreS.toFixed(1)} s`, rate(restoreS), "-"],
            ["anchor: pg_basebackup -X stream (plain)", `${baseS.toFixed(1)} s`, rate(baseS), `${mib(baseBytes).toFixed(0)} MiB`],
            ["anchor: cp -a of that copy back in place", `${copyS.toFixed(1)} s`, rate(copyS), "-"],
            ["anchor: pg_basebackup -Ft --compress=client-zstd:3", `${tarS.toFixed(1)} s`, rate(tarS), `${mib(tarBytes).toFixed(0)} MiB`],
            ["anchor: zstd -d | tar -x of that copy", `${untarS.toFixed(1)} s`, rate(untarS), "-"],
        ]));
    } finally {
        spawnSync(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "local", "cli.ts"), "down", "--dir", dir], { cwd: PROJECT_ROOT });
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

main().catch((e) => {
    console.error(`bench:backup: ${(e as Error).message}`);
    process.exit(1);
});
