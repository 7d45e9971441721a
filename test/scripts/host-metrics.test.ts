/**
 * instagram-host-metrics against real daemons on loopback: a PostgreSQL primary whose archive_command fails
 * (its oldest waiting segment ages) and then succeeds (0), a streaming standby (0 while it keeps up, a growing
 * lag once its primary is gone), Redis with a maxmemory, gearmand with queued jobs; and the publication, a
 * PutMetricData request that a loopback stand-in of CloudWatch checks as the service would (the SigV4
 * signature computed again, scoped to monitoring; the Query API's form; the namespace and the Host dimension).
 * The namespace is the dev stack's, and every call the publisher made must be one the shard hosts' rendered
 * IAM policy allows (the publisher runs as shard-0-primary here).
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { AddressInfo } from "net";
import { spawn, spawnSync } from "child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Daemons, daemonAccount, eventually, postgresBinDir, tempDir, writeOwned } from "../harness/daemons";
import { FakeImds, instanceRoleMetadata, startFakeImds } from "../harness/fake-imds";
import { checkSignature, FAKE_KEY } from "../harness/fake-ssm";
import { gearmand } from "../harness/gearmand";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";
import { hostMetricsNamespace } from "../../core/host-metrics";
import { AwsCallRecorder, cloudWatchCalls } from "../harness/aws-calls";
import { callsDenied, renderedStack } from "../harness/iam-evaluate";

const NET = "127.0.51";
const SCRIPT = path.join(SCRIPTS_DIR, "host-metrics.sh");
const NAMESPACE = hostMetricsNamespace("dev");
const daemons = new Daemons();
const account = daemonAccount();
let primary: { sockets: string; data: string; sql: (q: string) => string };
let standby: { sockets: string };
let imds: FakeImds;
let cloudwatch: { url: string; requests: { params: URLSearchParams; error?: string }[]; calls: AwsCallRecorder; server: http.Server };
const scratch = daemons.track(tempDir("host-metrics-"));
const redisSecret = path.join(scratch, "redis-auth");

/** Runs the script without blocking the event loop: the daemons' output pipes keep draining meanwhile. */
function metrics(collectors: string[], env: NodeJS.ProcessEnv = {}, print = true): Promise<{ status: number; stdout: string; stderr: string }> {
    return run("sh", [SCRIPT, ...(print ? ["--print"] : []), ...collectors], { PATH: process.env.PATH!, IO_SAMPLE_SECONDS: "1", HOST_METRICS_ENV: path.join(scratch, "host-metrics.env"), ...env });
}
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, input = ""): Promise<{ status: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(command, args, { env });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr }));
        // A command that exits before reading its input (a refused collector) closes the pipe: EPIPE is its answer, not an error of the test.
        child.stdin.on("error", () => undefined);
        child.stdin.end(input);
    });
}
const values = (stdout: string) => Object.fromEntries(stdout.trim().split("\n").filter(Boolean).map((l) => { const [n, u, v] = l.split(" "); return [n, { unit: u, value: Number(v) }]; }));
const psqlAt = (sockets: string) => `runuser -u postgres -- psql -h ${sockets} -U postgres -d postgres`;

async function cluster(name: string, address: string, init: (data: string) => void) {
    const base = daemons.track(tempDir(`metrics-${name}-`, account));
    const sockets = path.join(base, "run");
    const data = path.join(base, "data");
    fs.mkdirSync(sockets);
    fs.chownSync(sockets, account.uid!, account.gid!);
    init(data);
    fs.appendFileSync(path.join(data, "postgresql.conf"), `\nlisten_addresses = '${address}'\nunix_socket_directories = '${sockets}'\n`);
    daemons.start(`${name}-postgres`, path.join(postgresBinDir(), "postgres"), ["-D", data], { account });
    await daemons.waitForPostgres(`${name}-postgres`, address);
    const sql = (q: string) => daemons.run("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", sockets, "-U", "postgres", "-d", "postgres"], { account, input: q, env: { ...process.env, HOME: base } }).stdout.trim();
    return { sockets, data, sql };
}

beforeAll(async () => {
    const bin = postgresBinDir();
    primary = await cluster("primary", `${NET}.90`, (data) => {
        daemons.run(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=trust", "-E", "UTF8", "--locale=C"], { account });
        fs.appendFileSync(path.join(data, "postgresql.conf"), "\narchive_mode = on\narchive_command = 'true'\nwal_level = replica\n");
        fs.appendFileSync(path.join(data, "pg_hba.conf"), `\nhost replication all ${NET}.0/24 trust\n`);
    });
    standby = await cluster("standby", `${NET}.91`, (data) => {
        daemons.run(path.join(bin, "pg_basebackup"), ["-h", `${NET}.90`, "-U", "postgres", "-D", data, "-R", "-X", "stream"], { account });
        fs.writeFileSync(path.join(data, "postgresql.auto.conf"), fs.readFileSync(path.join(data, "postgresql.auto.conf"), "utf8") + "\narchive_mode = on\n");
    });
    imds = await startFakeImds(`${NET}.92`, instanceRoleMetadata("shard-host-role", { Code: "Success", AccessKeyId: FAKE_KEY.accessKeyId, SecretAccessKey: FAKE_KEY.secretAccessKey, Token: "session-token-1" }, "eu-west-1"));
    const requests: { params: URLSearchParams; error?: string }[] = [];
    const calls = new AwsCallRecorder();
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const body = Buffer.concat(chunks);
            const params = new URLSearchParams(body.toString("utf8"));
            try {
                checkSignature(req, body, "eu-west-1", "monitoring");
                if (req.headers["x-amz-security-token"] !== "session-token-1") throw new Error("no session token");
                if (!String(req.headers["content-type"]).startsWith("application/x-www-form-urlencoded")) throw new Error(`content-type ${req.headers["content-type"]}`);
                if (params.get("Action") !== "PutMetricData" || params.get("Version") !== "2010-08-01") throw new Error("not PutMetricData 2010-08-01");
                if (!params.get("Namespace") || params.get("Namespace")!.startsWith("AWS/")) throw new Error("the namespace must be set and not AWS/'s");
                for (let n = 1; params.has(`MetricData.member.${n}.MetricName`); n++) {
                    if (!Number.isFinite(Number(params.get(`MetricData.member.${n}.Value`)))) throw new Error(`member ${n}: not a number`);
                }
                requests.push({ params });
                calls.record(() => cloudWatchCalls(params));
                res.writeHead(200, { "Content-Type": "text/xml" }).end("<PutMetricDataResponse><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></PutMetricDataResponse>");
            } catch (e) {
                requests.push({ params, error: (e as Error).message });
                res.writeHead(400, { "Content-Type": "text/xml" }).end(`<ErrorResponse><Error><Message>${(e as Error).message}</Message></Error></ErrorResponse>`);
            }
        });
    });
    await new Promise<void>((resolve) => server.listen(0, `${NET}.93`, resolve));
    cloudwatch = { url: `http://${NET}.93:${(server.address() as AddressInfo).port}`, requests, calls, server };
    fs.writeFileSync(path.join(scratch, "host-metrics.env"), `METRICS_NAMESPACE='${NAMESPACE}'\nMETRICS_HOST='shard-0-primary'\n`);
}, 120_000);

afterAll(async () => {
    cloudwatch?.server.close();
    await imds?.close();
    await daemons.cleanup();
});

describe("instagram-host-metrics", () => {
    test("data: the volume's used share as df says it", async () => {
        const r = await metrics(["data"], { DATA_DIR: primary.data });
        expect(r.status, r.stderr).toBe(0);
        const df = Number(spawnSync("df", ["-P", primary.data], { encoding: "utf8" }).stdout.split("\n")[1].split(/\s+/)[4].replace("%", ""));
        expect(values(r.stdout).DataVolumeUsedPercent).toEqual({ unit: "Percent", value: df });
    });

    test("postgres on a primary whose archiving fails: the oldest waiting segment's age; once it archives, 0", async () => {
        // Failing only from here: pg_basebackup (the standby's clone) waits for its WAL to be archived.
        primary.sql("ALTER SYSTEM SET archive_command = 'false'; SELECT pg_reload_conf();");
        primary.sql("CREATE TABLE t AS SELECT g FROM generate_series(1, 10000) g; SELECT pg_switch_wal();");
        await new Promise((r) => setTimeout(r, 2500));
        const failing = values((await metrics(["postgres"], { PSQL: psqlAt(primary.sockets) })).stdout);
        expect(failing.WalArchiveLagSeconds.unit).toBe("Seconds");
        expect(failing.WalArchiveLagSeconds.value).toBeGreaterThanOrEqual(2);
        expect(failing.ReplicationLagSeconds).toBeUndefined();
        primary.sql("ALTER SYSTEM SET archive_command = 'true'; SELECT pg_reload_conf();");
        await eventually(async () => (values((await metrics(["postgres"], { PSQL: psqlAt(primary.sockets) })).stdout).WalArchiveLagSeconds?.value === 0 ? true : undefined), 20_000, "the archive lag to fall to 0");
    });

    test("postgres on a standby: 0 while it streams and keeps up; once its primary is gone, the age of what it last replayed", async () => {
        primary.sql("INSERT INTO t SELECT 1");
        const caughtUp = await eventually(async () => {
            const v = values((await metrics(["postgres"], { PSQL: psqlAt(standby.sockets) })).stdout);
            return v.ReplicationLagSeconds?.value === 0 ? v : undefined;
        }, 20_000, "the standby to report no lag");
        expect(caughtUp.WalArchiveLagSeconds).toBeUndefined();
        await daemons.stopOne("primary-postgres");
        await new Promise((r) => setTimeout(r, 3000));
        const behind = values((await metrics(["postgres"], { PSQL: psqlAt(standby.sockets) })).stdout);
        expect(behind.ReplicationLagSeconds.value).toBeGreaterThanOrEqual(2);
    });

    test("redis: used memory as a share of maxmemory, with the password from its file", async () => {
        writeOwned(redisSecret, "metrics-redis-secret\n");
        daemons.start("redis", "redis-server", ["--bind", `${NET}.94`, "--port", "6379", "--requirepass", "metrics-redis-secret", "--maxmemory", "100mb", "--save", "", "--appendonly", "no"]);
        await daemons.waitFor("redis", `${NET}.94`, 6379);
        const r = await metrics(["redis"], { REDIS_HOST: `${NET}.94`, REDIS_SECRET: redisSecret });
        expect(r.status, r.stderr).toBe(0);
        const info = (await run("redis-cli", ["-h", `${NET}.94`, "--no-auth-warning", "-a", "metrics-redis-secret", "INFO", "memory"])).stdout;
        const used = Number(/used_memory:(\d+)/.exec(info)![1]);
        expect(values(r.stdout).RedisMemoryUsedPercent.value).toBeCloseTo((100 * used) / (100 * 1024 * 1024), 0);
    });

    test("gearman: the jobs it holds, all functions", async () => {
        await gearmand(daemons, `${NET}.95`).start();
        for (const n of [1, 2, 3]) await run("gearman", ["-h", `${NET}.95`, "-b", "-f", n === 3 ? "other" : "fanout", "-u", `job-${n}`], process.env, "x");
        const r = await metrics(["gearman"], { GEARMAN_HOST: `${NET}.95` });
        expect(r.status, r.stderr).toBe(0);
        expect(values(r.stdout).GearmanQueuedJobs).toEqual({ unit: "Count", value: 3 });
    });

    test("gearman without GEARMAN_HOST asks instance metadata for the private address gearmand listens on", async () => {
        const metadata = await startFakeImds(`${NET}.96`, { "local-ipv4": `${NET}.95` });
        try {
            const r = await metrics(["gearman"], { INSTAGRAM_AWS_LIB: path.join(SCRIPTS_DIR, "aws-lib.sh"), INSTAGRAM_IMDS_ENDPOINT: metadata.url });
            expect(r.status, r.stderr).toBe(0);
            expect(values(r.stdout).GearmanQueuedJobs).toEqual({ unit: "Count", value: 3 });
        } finally {
            await metadata.close();
        }
    });

    test("publishes them in one signed PutMetricData with the stack's namespace and the Host dimension", async () => {
        const r = await metrics(["data", "redis", "gearman"], {
            DATA_DIR: scratch, REDIS_HOST: `${NET}.94`, REDIS_SECRET: redisSecret, GEARMAN_HOST: `${NET}.95`,
            INSTAGRAM_AWS_LIB: path.join(SCRIPTS_DIR, "aws-lib.sh"), INSTAGRAM_IMDS_ENDPOINT: imds.url, INSTAGRAM_CLOUDWATCH_ENDPOINT: cloudwatch.url,
        }, false);
        expect(r.status, r.stderr).toBe(0);
        const [request] = cloudwatch.requests;
        expect(request.error).toBeUndefined();
        const p = request.params;
        expect(p.get("Namespace")).toBe(NAMESPACE);
        const members = [...p.keys()].filter((k) => /^MetricData\.member\.\d+\.MetricName$/.test(k)).map((k) => Number(k.split(".")[2]));
        expect(r.stderr).toContain(`published ${members.length} metrics to ${NAMESPACE} for shard-0-primary`);
        const named = Object.fromEntries(members.map((n) => [p.get(`MetricData.member.${n}.MetricName`), n]));
        // The IO figure only where the scratch directory is on a block device of /proc/diskstats.
        expect(Object.keys(named).filter((k) => k !== "DataVolumeIoBusyPercent")).toEqual(["DataVolumeUsedPercent", "RedisMemoryUsedPercent", "GearmanQueuedJobs"]);
        for (const n of members) {
            expect(p.get(`MetricData.member.${n}.Dimensions.member.1.Name`)).toBe("Host");
            expect(p.get(`MetricData.member.${n}.Dimensions.member.1.Value`)).toBe("shard-0-primary");
        }
        expect(p.get(`MetricData.member.${named.GearmanQueuedJobs}.Value`)).toBe("3");
        expect(p.get(`MetricData.member.${named.GearmanQueuedJobs}.Unit`)).toBe("Count");
    });

    test("refuses an unknown collector and says what there is; a daemon that does not answer is skipped, not a failure", async () => {
        const bad = await metrics(["disk"]);
        expect(bad.status).toBe(2);
        expect(bad.stderr).toContain("unknown collector 'disk'; usage: instagram-host-metrics [--print] data|postgres|redis|gearman...");
        const away = await metrics(["gearman"], { GEARMAN_HOST: `${NET}.99` });
        expect(away.status).toBe(0);
        expect(away.stdout).toBe("");
        expect(away.stderr).toContain(`gearmand does not answer on ${NET}.99`);
    });

    test("every CloudWatch call it made is allowed by the shard hosts' rendered IAM policy", async () => {
        expect(cloudwatch.calls.actions()).toEqual(["cloudwatch:PutMetricData"]);
        expect(await callsDenied(await renderedStack(), "shard-0", cloudwatch.calls.distinct())).toEqual([]);
    });
});
