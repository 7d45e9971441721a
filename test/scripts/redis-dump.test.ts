/**
 * instagram-redis-dump and instagram-redis-restore through S3, with real redis-servers from the role's config
 * and stand-ins for the instance metadata service and S3 on loopback (the S3 stand-in recomputes every
 * request's SigV4 signature, checks the payload hash and the session token): the persisting host's RDB goes
 * to redis/dump-<time>.rdb and redis/latest; the restore takes the latest from the bucket, refuses a primary
 * holding keys without --force, and loads the dump into a running primary without restarting it. The bucket
 * is the dev stack's backup bucket as the program names it, and every S3 call the scripts made must be one
 * the Redis hosts' rendered IAM policy allows.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Account, Daemons, daemonAccount, requireCommand, tempDir, writeOwned } from "../harness/daemons";
import { FakeImds, instanceRoleMetadata, startFakeImds } from "../harness/fake-imds";
import { FakeS3 } from "../harness/fake-s3";
import { callsDenied, renderedBucket, renderedStack } from "../harness/iam-evaluate";
import { redisConf } from "../../cloud-init/configs/redis";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";

const REPLICA = "127.0.7.21";
const PRIMARY = "127.0.7.22";
const PASSWORD = "Dm3pQ9sLw2Zx7Vb1Nc3Md5Fg8Hj0Ty6U";
const CREDS = { accessKeyId: "ASIAREDISDUMPTEST000", secretAccessKey: "redis/dump+secret", sessionToken: "redis-dump-token" };
const daemons = new Daemons();
let account: Account;
let base: string;
let imds: FakeImds;
let s3: FakeS3;
let s3Url: string;
/** s3://BUCKET/redis: the dev stack's backup bucket, where the Redis role dumps. */
let dumpTo: string;

const dirOf = (name: string) => path.join(base, name);
function cli(address: string, ...args: string[]): string {
    return daemons.run("redis-cli", ["-h", address, "--no-auth-warning", ...args], { env: { ...process.env, REDISCLI_AUTH: PASSWORD } }).stdout.trim();
}

async function startRedis(name: string, address: string, persistent: boolean): Promise<void> {
    const dir = dirOf(name);
    fs.mkdirSync(dir);
    fs.chownSync(dir, account.uid!, account.gid!);
    writeOwned(path.join(dir, "auth.conf"), `requirepass ${PASSWORD}\nmasterauth ${PASSWORD}\n`, account, 0o600);
    fs.writeFileSync(path.join(dir, "redis-auth"), PASSWORD, { mode: 0o600 });
    writeOwned(path.join(dir, "redis.conf"), redisConf({ bind: address, maxMemoryMiB: 64, dataDir: dir, persistent, secretsInclude: path.join(dir, "auth.conf"), redisMajor: 7 }).replace("supervised systemd", "supervised no"), account, 0o640);
    daemons.start(name, "redis-server", [path.join(dir, "redis.conf")], { account, cwd: dir });
    await daemons.waitFor(name, address, 6379);
}

function script(name: string, args: string[], host: string, address: string, extraEnv: Record<string, string> = {}) {
    return daemons.runAsync("sh", [path.join(SCRIPTS_DIR, name), ...args], {
        env: {
            ...extraEnv,
            PATH: process.env.PATH,
            REDIS_HOST: address,
            REDIS_DIR: dirOf(host),
            REDIS_SECRET: path.join(dirOf(host), "redis-auth"),
            REDIS_AUTH_CONF: path.join(dirOf(host), "auth.conf"),
            S3_GET: path.join(SCRIPTS_DIR, "s3-get.sh"),
            INSTAGRAM_IMDS_ENDPOINT: imds.url,
            INSTAGRAM_S3_ENDPOINT: s3Url,
            INSTAGRAM_FETCH_ATTEMPTS: "2",
            INSTAGRAM_AWS_LIB: path.join(SCRIPTS_DIR, "aws-lib.sh"),
        },
        allowFailure: true,
    });
}

beforeAll(async () => {
    requireCommand("redis-server", "redis-server");
    if (process.getuid?.() !== 0) throw new Error("the Redis scripts run as root (runuser, chown), as on a host: run this test as root");
    account = daemonAccount("redis");
    base = daemons.track(tempDir("redis-dump", account));
    imds = await startFakeImds("127.0.7.23", instanceRoleMetadata("redis-host-role", { Code: "Success", AccessKeyId: CREDS.accessKeyId, SecretAccessKey: CREDS.secretAccessKey, Token: CREDS.sessionToken }, "us-east-1"));
    const bucket = renderedBucket(await renderedStack(), "backups");
    dumpTo = `s3://${bucket}/redis`;
    s3 = new FakeS3(bucket, CREDS);
    s3Url = `http://127.0.7.24:${(await s3.start("127.0.7.24", 0, { tls: false })).port}`;
    await startRedis("replica", REPLICA, true);
    await startRedis("primary", PRIMARY, false);
}, 60_000);

afterAll(async () => {
    await daemons.cleanup();
    await imds?.close();
    await s3?.stop();
});

describe("Redis dumps through S3", () => {
    test("instagram-redis-dump: BGSAVE, then the RDB to redis/dump-<time>.rdb and redis/latest, signed", async () => {
        cli(REPLICA, "SET", "feed:1", "a");
        cli(REPLICA, "RPUSH", "feed:2", "x", "y");
        // Sessions are in the dump, and left out of a restore (the next test).
        cli(REPLICA, "SET", "session:0123abcd", '{"id":"1","username":"a"}');
        cli(REPLICA, "SADD", "sessions:1", "0123abcd");
        const r = await script("redis-dump.sh", [dumpTo], "replica", REPLICA);
        expect(r.status, r.stderr).toBe(0);
        const dumps = s3.keys("redis/dump-");
        expect(dumps).toHaveLength(1);
        expect(dumps[0]).toMatch(/^redis\/dump-\d{8}T\d{6}Z\.rdb$/);
        expect(s3.objects.get("redis/latest")!.toString()).toBe(`${dumps[0].slice("redis/".length)}\n`);
        expect(s3.objects.get(dumps[0])!.subarray(0, 5).toString()).toBe("REDIS");
        expect(r.stderr).toMatch(new RegExp(`saved dump-.*\\.rdb \\(\\d+ bytes\\) to ${dumpTo}`));
        // The hard link it uploaded from is gone.
        expect(fs.readdirSync(dirOf("replica")).filter((f) => f.startsWith(".instagram-dump"))).toEqual([]);
    });

    test("instagram-redis-restore: the latest dump from the bucket, not over keys without --force, then loaded into the running primary, without its sessions", async () => {
        cli(PRIMARY, "SET", "stale", "1");
        const pid = cli(PRIMARY, "INFO", "server").match(/process_id:(\d+)/)![1];
        const refused = await script("redis-restore.sh", [dumpTo], "primary", PRIMARY);
        expect(refused.status).toBe(1);
        expect(refused.stderr).toContain("this Redis holds 1 keys: loading the dump replaces them all. Run again with --force");
        expect(cli(PRIMARY, "GET", "stale")).toBe("1");

        const r = await script("redis-restore.sh", [dumpTo, "--force"], "primary", PRIMARY);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toMatch(new RegExp(`restored ${dumpTo}/dump-.*\\.rdb: the primary holds 2 keys and takes writes`));
        expect(cli(PRIMARY, "GET", "feed:1")).toBe("a");
        expect(cli(PRIMARY, "LRANGE", "feed:2", "0", "-1")).toBe("x\ny");
        expect(cli(PRIMARY, "EXISTS", "stale")).toBe("0");
        expect(cli(PRIMARY, "EXISTS", "session:0123abcd", "sessions:1")).toBe("0");
        expect(cli(PRIMARY, "INFO", "replication")).toMatch(/role:master/);
        expect(cli(PRIMARY, "SET", "after", "ok")).toBe("OK");
        expect(cli(PRIMARY, "INFO", "server").match(/process_id:(\d+)/)![1]).toBe(pid);
        expect(fs.readdirSync(dirOf("primary")).filter((f) => f.startsWith(".instagram-restore"))).toEqual([]);
    });

    test("a file that is not an RDB is refused before anything is touched", async () => {
        const bogus = path.join(base, "bogus.rdb");
        fs.writeFileSync(bogus, "not a dump");
        const r = await script("redis-restore.sh", [bogus, "--force"], "primary", PRIMARY);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/is not a sound RDB file/);
        expect(cli(PRIMARY, "GET", "after")).toBe("ok");
    });

    describe("a dump too big for one PUT (S3 takes at most 5 GiB), with the threshold and part size scaled down to S3's 5 MiB minimum part", () => {
        const SMALL = { MULTIPART_ABOVE_MIB: "5", PART_MIB: "5" };
        beforeAll(() => {
            // 12 MiB that RDB's compression cannot shrink: three parts of 5, 5 and about 2 MiB.
            const noise = path.join(base, "noise");
            fs.writeFileSync(noise, crypto.randomBytes(12 * 1024 * 1024));
            daemons.run("sh", ["-c", `redis-cli -h ${REPLICA} --no-auth-warning -x SET big < ${noise}`], { env: { ...process.env, REDISCLI_AUTH: PASSWORD } });
        });

        test("goes up as a multipart upload, part by part, and S3 holds exactly the saved file", async () => {
            const before = s3.requests.length;
            const r = await script("redis-dump.sh", [dumpTo], "replica", REPLICA, SMALL);
            expect(r.status, r.stderr).toBe(0);
            const latest = `redis/${s3.objects.get("redis/latest")!.toString().trim()}`;
            expect(r.stderr).toMatch(new RegExp(`uploaded ${latest} in 3 parts of 5 MiB`));
            const made = s3.requests.slice(before).map((q) => `${q.method} ${q.key}${q.query.replace(/uploadId=[0-9a-f]+/, "uploadId=ID")}`);
            expect(made).toEqual([
                `POST ${latest}?uploads=`,
                ...[1, 2, 3].map((n) => `PUT ${latest}?partNumber=${n}&uploadId=ID`),
                `POST ${latest}?uploadId=ID`,
                "PUT redis/latest",
            ]);
            expect(s3.objects.get(latest)!.equals(fs.readFileSync(path.join(dirOf("replica"), "dump.rdb")))).toBe(true);
            expect(s3.openUploads).toBe(0);
            expect(fs.readdirSync(dirOf("replica")).filter((f) => f.startsWith(".instagram-"))).toEqual([]);
        });

        test("a part S3 keeps refusing: the upload is aborted (no parts left behind), latest still names the last good dump, and the dump fails saying so", async () => {
            const latestBefore = s3.objects.get("redis/latest")!.toString();
            const keysBefore = s3.keys();
            s3.refuse = (method, _key, q) => method === "PUT" && q.get("partNumber") === "2";
            try {
                const r = await script("redis-dump.sh", [dumpTo], "replica", REPLICA, SMALL);
                expect(r.status).toBe(1);
                expect(r.stderr).toMatch(/part 2 of 3 of redis\/dump-\S+ failed/);
                expect(r.stderr).toMatch(/could not upload dump-\S+\.rdb to s3:/);
            } finally {
                s3.refuse = undefined;
            }
            expect(s3.openUploads).toBe(0);
            expect(s3.requests.at(-1)!.method).toBe("DELETE");
            expect(s3.keys()).toEqual(keysBefore);
            expect(s3.objects.get("redis/latest")!.toString()).toBe(latestBefore);
            expect(fs.readdirSync(dirOf("replica")).filter((f) => f.startsWith(".instagram-"))).toEqual([]);
        });
    });

    test("every S3 call the dump and the restore made is allowed by the Redis hosts' rendered IAM policy", async () => {
        expect(s3.calls.actions()).toEqual(["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]);
        expect(await callsDenied(await renderedStack(), "redis", s3.calls.distinct())).toEqual([]);
    });
});
