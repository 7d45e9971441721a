/**
 * Redis primary and replica from the generated configs, rendered with this host's address by the real
 * private-address script and with AUTH written by the real redis-auth script, run by redis-server.
 */
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Account, Daemons, daemonAccount, eventually, requireCommand, tempDir, writeOwned } from "../harness/daemons";
import { FakeImds, startFakeImds } from "../harness/fake-imds";
import { redisConf } from "../../cloud-init/configs/redis";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";

const PRIMARY = "127.0.2.1";
const REPLICA = "127.0.2.2";
const PASSWORD = "Rk4pQ9sLw2Zx7Vb1Nc3Md5Fg8Hj0Ty6U";
const daemons = new Daemons();
let account: Account;
let base: string;
const imds: FakeImds[] = [];

function cli(host: string, args: string[], auth = true) {
    return daemons.run("redis-cli", ["-h", host, "-p", "6379", "--no-raw", ...args], {
        env: { ...process.env, ...(auth ? { REDISCLI_AUTH: PASSWORD } : {}) },
        allowFailure: true,
    }).stdout.trim();
}

async function startRedis(name: string, address: string, kind: "primary" | "replica"): Promise<void> {
    const dir = path.join(base, name);
    fs.mkdirSync(dir);
    if (account.uid !== undefined) fs.chownSync(dir, account.uid, account.gid!);
    const template = path.join(dir, "redis.conf.in");
    writeOwned(template, redisConf({
        bind: "@PRIVATE_IP@",
        maxMemoryMiB: 64,
        dataDir: dir,
        persistent: kind === "replica",
        replicaOf: kind === "replica" ? { host: PRIMARY, port: 6379 } : undefined,
        secretsInclude: path.join(dir, "auth.conf"),
        redisMajor: 7,
    }), account, 0o640);
    // Each "host" gets its own metadata service answering its own address.
    const metadata = await startFakeImds("127.0.2.100", { "local-ipv4": address });
    imds.push(metadata);
    await daemons.runAsync("sh", [path.join(SCRIPTS_DIR, "private-address.sh"), template, path.join(dir, "redis.conf")], { env: { ...process.env, INSTAGRAM_IMDS_ENDPOINT: metadata.url } });
    const secret = path.join(dir, "redis-auth");
    fs.writeFileSync(secret, PASSWORD, { mode: 0o600 });
    daemons.run("sh", [path.join(SCRIPTS_DIR, "redis-auth.sh"), secret, path.join(dir, "auth.conf")]);
    if (account.uid !== undefined) fs.chownSync(path.join(dir, "auth.conf"), account.uid, account.gid!);
    daemons.start(name, "redis-server", [path.join(dir, "redis.conf")], { account, cwd: dir });
    await daemons.waitFor(name, address, 6379);
}

beforeAll(async () => {
    requireCommand("redis-server", "redis-server");
    account = daemonAccount("redis");
    base = daemons.track(tempDir("redis-test", account));
    await startRedis("primary", PRIMARY, "primary");
    await startRedis("replica", REPLICA, "replica");
}, 60_000);

afterAll(async () => {
    await daemons.cleanup();
    await Promise.all(imds.map((m) => m.close()));
});

describe("Redis with the generated configuration", () => {
    test("listens on the address from instance metadata, and only there", () => {
        expect(cli(PRIMARY, ["CONFIG", "GET", "bind"])).toContain(PRIMARY);
        expect(cli(PRIMARY, ["CONFIG", "GET", "bind"])).not.toContain("127.0.0.1");
    });

    test("refuses clients without the password, and the wrong one", () => {
        expect(cli(PRIMARY, ["PING"], false)).toMatch(/NOAUTH/);
        const wrong = daemons.run("redis-cli", ["-h", PRIMARY, "PING"], { env: { ...process.env, REDISCLI_AUTH: "wrong" }, allowFailure: true });
        expect(wrong.stderr).toMatch(/AUTH failed/);
        expect(wrong.stdout).toMatch(/NOAUTH/);
        expect(cli(PRIMARY, ["PING"])).toBe("PONG");
    });

    test("the replica authenticates to the primary and serves its writes", async () => {
        await eventually(() => (cli(REPLICA, ["INFO", "replication"]).includes("master_link_status:up") ? true : undefined), 15_000, "the replica to sync");
        cli(PRIMARY, ["SET", "feed:1", "m1,m2"]);
        const value = await eventually(() => { const v = cli(REPLICA, ["GET", "feed:1"]); return v.includes("m1,m2") ? v : undefined; }, 10_000, "the key on the replica");
        expect(value).toContain("m1,m2");
        expect(cli(REPLICA, ["SET", "x", "1"])).toMatch(/READONLY/);
    });

    test("only the replica persists; memory is bounded and never evicts silently", () => {
        expect(cli(PRIMARY, ["CONFIG", "GET", "save"])).toBe('1) "save"\n2) ""');
        expect(cli(PRIMARY, ["CONFIG", "GET", "appendonly"])).toContain("no");
        expect(cli(REPLICA, ["CONFIG", "GET", "save"])).toContain("900 1");
        expect(cli(REPLICA, ["CONFIG", "GET", "appendonly"])).toContain("yes");
        expect(cli(PRIMARY, ["CONFIG", "GET", "maxmemory"])).toContain(String(64 * 1024 * 1024));
        expect(cli(PRIMARY, ["CONFIG", "GET", "maxmemory-policy"])).toContain("noeviction");
    });

    test("a bucket of 1000 media IDs stays a compact listpack hash; past the limit it converts", () => {
        const fields = Array.from({ length: 1000 }, (_, i) => [`${1_000_000 + i}`, `${42 + i}`]).flat();
        cli(PRIMARY, ["HSET", "media:1000", ...fields]);
        expect(cli(PRIMARY, ["OBJECT", "ENCODING", "media:1000"])).toContain("listpack");
        cli(PRIMARY, ["HSET", "media:1000", ...Array.from({ length: 30 }, (_, i) => [`${2_000_000 + i}`, "1"]).flat()]);
        expect(cli(PRIMARY, ["OBJECT", "ENCODING", "media:1000"])).toContain("hashtable");
    });
});
