/**
 * `npm run local`'s input checks: bad usage exits 2 with the usage, a bad stack config or a missing program
 * exits 1 naming what is wrong, and in each case nothing is started or written.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../delivery/sources";
import { localPlan } from "../../local/plan";
import { initialDirectory } from "../../core/shard-directory";
import { validateConfig } from "../../core/config";
import { loadStackConfig } from "../../local/project-files";

const dirs: string[] = [];
function emptyDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-cli-"));
    dirs.push(dir);
    return dir;
}
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function local(args: string[], env: NodeJS.ProcessEnv = process.env) {
    return spawnSync(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "local", "cli.ts"), ...args], { cwd: PROJECT_ROOT, encoding: "utf8", env });
}

describe("npm run local: input", () => {
    test.each([
        [[], "missing command"],
        [["frob"], 'unknown command "frob"'],
        [["up", "--set", "appServers"], "--set appServers: expected KEY=VALUE"],
        [["up", "--set", "instagram:appServers=[1"], "the value is not a JSON list"],
        [["up", "--workers", "0"], "--workers 0: must be an integer from 1 to 64"],
        [["up", "--bogus"], "unknown option --bogus"],
        [["status", "--stack", "dev"], "--stack, --set, --net, --workers and the push stand-in options belong to up"],
        [["up", "--apns-endpoint", "https://api.push.apple.com:443"], "--apns-endpoint https://api.push.apple.com:443: must be a stand-in on loopback"],
        [["up", "--set", "instagram:apnsKey=-----BEGIN PRIVATE KEY-----"], "instagram:apnsKey is a secret; pass its file as instagram:apnsKey=@FILE"],
        [["up", "--push-ca", "/nonexistent/ca.pem"], "--push-ca /nonexistent/ca.pem: no such file"],
        [["logs"], "logs takes one HOST or ROLE"],
        [["promote"], "promote takes one SHARD number"],
        [["down", "extra"], "down takes no arguments"],
        [["shards"], 'shards takes a subcommand: status, move or cleanup (got "")'],
        [["shards", "move", "0-3"], "shards move takes FIRST-LAST and --to P"],
        [["shards", "status", "--to", "1"], "shards status takes no arguments"],
        [["search"], 'search takes one subcommand: reindex (got "")'],
        [["search", "reindex", "now"], 'search takes one subcommand: reindex (got "reindex now")'],
        [["search", "reindex", "--to", "1"], "--to belongs to shards move and restore"],
        [["status", "--rollback"], "--to belongs to shards move and restore, --rollback to shards move"],
        [["shards", "move", "0-3", "--to", "one"], "--to one: must be a physical shard number"],
        [["restore", "0"], "restore takes --to TIME"],
        [["restore", "zero", "--to", "latest"], "restore zero: not a physical shard number (or redis)"],
        [["restore", "0", "--to", "latest", "--timeline", "x"], "--timeline x: must be a timeline number"],
        [["restore", "redis", "--to", "latest"], "restore redis loads a dump: it takes --from FILE and --force"],
        [["backup", "0", "--type", "big"], "--type big: must be one of full, diff, incr"],
        [["backup", "redis", "--type", "full"], "--type belongs to a shard's backup"],
        [["status", "--force"], "--force, --dry-run and --timeline belong to restore"],
        [["backup", "0", "--from", "x"], "--from belongs to restore redis"],
    ])("%j exits 2: %s", (args, message) => {
        const r = local(args as string[]);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain(message);
        expect(r.stderr).toContain("usage: npm run local --");
    });

    test("commands other than up need a stack that up started", () => {
        const dir = emptyDir();
        const r = local(["status", "--dir", dir]);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`no local stack in ${dir}: run \`npm run local -- up\` first`);
    });

    test("a missing program: up names the packages to install and starts nothing", () => {
        const dir = emptyDir();
        // A PATH with nothing on it but sh: nginx, redis-server, memcached... are "missing".
        const bin = emptyDir();
        fs.symlinkSync("/bin/sh", path.join(bin, "sh"));
        const r = local(["up", "--dir", dir], { PATH: bin, HOME: os.tmpdir() });
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/local: missing .*nginx.*: install the packages /);
        const packages = /install the packages (.*)$/m.exec(r.stderr)![1].split(" ");
        expect(packages).toEqual(expect.arrayContaining(["pgbouncer", "redis-server", "memcached", "nginx", "munin-node"]));
        expect(r.stderr).toContain("as root: npm run local -- install-deps");
        expect(r.stderr).toContain("Nothing was started.");
        expect(fs.readdirSync(dir).filter((f) => f !== "lock")).toEqual([]);
    });

    test("an invalid stack config or one that does not fit on one /24 is refused before anything starts", () => {
        if (process.getuid?.() !== 0) return; // up checks root before the config; CI runs as root
        const dir = emptyDir();
        const bad = local(["up", "--dir", dir, "--set", "instagram:azCount=7"]);
        expect(bad.status).toBe(1);
        expect(bad.stderr).toContain('instagram:azCount = "7": must be an integer from 2 to 3');
        const big = local(["up", "--dir", dir, "--set", "instagram:appServers=100"]);
        expect(big.status).toBe(1);
        expect(big.stderr).toContain("instagram:appServers = 100: the local stack has room for 70 on one /24");
        expect(fs.existsSync(path.join(dir, "state.json"))).toBe(false);
        expect(fs.existsSync(path.join(dir, "hosts"))).toBe(false);
    });
});

describe("the local plan", () => {
    const plan = (overrides: Record<string, unknown>, net = "127.0.20") => {
        const config = validateConfig(loadStackConfig("dev", overrides));
        return localPlan(config, { net, workers: 2 }, initialDirectory(config.logicalShards, config.physicalShards));
    };

    test("every host has its own address in the /24, and the roles follow the config", () => {
        const small = plan({});
        expect(small.hosts.map((h) => `${h.name}@${h.address}`)).toEqual([
            "edge@127.0.20.1", "munin@127.0.20.2", "shard-0-primary@127.0.20.80", "search-primary@127.0.20.208", "redis-primary@127.0.20.210", "memcached-0@127.0.20.220", "gearman-0@127.0.20.3", "app-0@127.0.20.10",
        ]);
        expect(small.jobWorkersOnApp).toBe(true);
        const seed = plan({ "instagram:physicalShards": 12, "instagram:logicalShards": 4096, "instagram:shardStandby": true, "instagram:redisReplica": true, "instagram:memcachedNodes": 6, "instagram:appServers": 25 }, "127.1.2");
        const addresses = seed.hosts.map((h) => h.address);
        expect(new Set(addresses).size).toBe(addresses.length);
        expect(addresses.every((a) => a.startsWith("127.1.2."))).toBe(true);
        expect(seed.hosts.filter((h) => h.role === "shard-standby")).toHaveLength(12);
        expect(seed.hosts.find((h) => h.name === "shard-11-standby")!.shard).toEqual({ physicalShard: 11, logicalShards: [{ first: seed.shardMap[11].firstLogicalShard, last: seed.shardMap[11].lastLogicalShard }] });
        expect(seed.hosts.filter((h) => h.role === "app")).toHaveLength(25);
        const workers = plan({ "instagram:gearmanServers": 2, "instagram:workerServers": 3 });
        expect(workers.hosts.filter((h) => h.role === "gearman").map((h) => h.address)).toEqual(["127.0.20.3", "127.0.20.4"]);
        expect(workers.hosts.filter((h) => h.role === "worker").map((h) => h.name)).toEqual(["worker-0", "worker-1", "worker-2"]);
        expect(workers.jobWorkersOnApp).toBe(false);
        // The search tier: off, a primary, or a primary and its standby beside it.
        const searchHosts = (n: number) => plan({ "instagram:searchServers": n }).hosts.filter((h) => h.role.startsWith("search-")).map((h) => `${h.name}@${h.address}`);
        expect(searchHosts(0)).toEqual([]);
        expect(searchHosts(2)).toEqual(["search-primary@127.0.20.208", "search-standby@127.0.20.209"]);
    });

    test("a --net that is not a loopback /24 is refused", () => {
        expect(() => plan({}, "10.0.0")).toThrow(/--net 10\.0\.0: must be the first three octets of a loopback \/24/);
        expect(() => plan({}, "127.0.300")).toThrow(/--net/);
    });
});
