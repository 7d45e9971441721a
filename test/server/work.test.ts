/**
 * `instagram-app work`: the arbiter over Gearman job workers, with real processes, real signals and a real
 * gearmand on loopback: the job timeout aborts the worker and the job runs again, max-jobs recycles workers,
 * TERM drains the job in hand, and bad arguments are refused with the usage.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { childPids, RunningServer, startServer } from "../harness/server";
import { Daemons, eventually } from "../harness/daemons";
import { gearmand, TestGearmand } from "../harness/gearmand";
import { GearmanClient } from "../../app/jobs/gearman/client";

const JOBS_APP = path.resolve(__dirname, "../fixtures/jobs-app.ts");
const daemons = new Daemons();
let queue: TestGearmand;
let client: GearmanClient;
let jobsFile: string;
const running: RunningServer[] = [];

function work(extra: string[], workers = 1): RunningServer {
    const server = startServer(["--functions", JOBS_APP, "--servers", `${queue.host}:${queue.port}`, "-w", String(workers), ...extra], { JOBS_FILE: jobsFile }, "work");
    running.push(server);
    return server;
}

const lines = () => fs.readFileSync(jobsFile, "utf8").split("\n").filter(Boolean);

function status(fn: string): { queued: number; running: number; workers: number } {
    const out = spawnSync("gearadmin", ["-h", queue.host, "-p", String(queue.port), "--status"], { encoding: "utf8" }).stdout;
    const line = out.split("\n").find((l) => l.startsWith(`${fn}\t`));
    const [, queued, runningJobs, workers] = (line ?? `${fn}\t0\t0\t0`).split("\t").map(Number);
    return { queued, running: runningJobs, workers };
}

beforeAll(async () => {
    queue = gearmand(daemons, "127.0.38.1");
    await queue.start();
    client = new GearmanClient({ servers: [queue] });
    await client.ready(5000);
}, 30_000);

afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail") for (const s of running) console.error(`--- master ${s.pid} log ---\n${s.log()}`);
    await Promise.all(running.splice(0).map((s) => s.stop()));
});

afterAll(async () => {
    client?.close();
    await daemons.cleanup();
});

describe("instagram-app work", () => {
    test.beforeEach(() => {
        jobsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "work-")), "jobs");
        fs.writeFileSync(jobsFile, "");
    });

    test("workers register their functions with the job server and run queued jobs", async () => {
        const server = work([], 2);
        await eventually(() => (status("record").workers === 2 ? true : undefined), 15_000, "two workers registered");
        for (let i = 0; i < 20; i++) await client.submitBackground("record", `r-${i}`, "");
        await eventually(() => (lines().length === 20 ? true : undefined), 10_000, "20 jobs run");
        expect(new Set(lines().map((l) => l.split(" ")[0])).size).toBe(20);
        expect(server.log()).toMatch(/2 workers taking jobs from 127\.0\.38\.1:4730/);
    });

    test("a job over --timeout gets its worker aborted (WORKER TIMEOUT); a new worker runs the job again", async () => {
        const server = work(["-t", "1"]);
        await eventually(() => (status("hold").workers === 1 ? true : undefined), 15_000, "the worker registered");
        const [firstWorker] = childPids(server.pid);
        // The first run holds the job for 30 s, over the 1 s timeout; so does the rerun, aborted in turn.
        await client.submitBackground("hold", "too-long", "30000");
        await eventually(() => (/WORKER TIMEOUT/.test(server.log()) ? true : undefined), 15_000, "the timeout");
        await eventually(() => (lines().filter((l) => l.startsWith("start too-long")).length >= 2 ? true : undefined), 20_000, "the job to start again in a new worker");
        const starts = lines().filter((l) => l.startsWith("start too-long")).map((l) => Number(l.split(" ")[2]));
        expect(starts[0]).toBe(firstWorker);
        expect(starts[1]).not.toBe(firstWorker);
        expect(lines().some((l) => l.startsWith("end"))).toBe(false);
        // Let it go: without a worker for `hold`, the job waits in the queue for the next test's cleanup.
        await server.stop();
        await queue.stop();
        fs.rmSync(queue.queueFile, { force: true });
        await queue.start();
    }, 60_000);

    test("--max-jobs recycles a worker after that many jobs; no job is lost or run twice", async () => {
        const server = work(["--max-jobs", "5"]);
        await eventually(() => (status("record").workers === 1 ? true : undefined), 15_000, "the worker registered");
        const [first] = childPids(server.pid);
        for (let i = 0; i < 5; i++) await client.submitBackground("record", `m-${i}`, "");
        // At its limit the worker asks to be replaced and works on until its replacement has booted.
        await eventually(() => (childPids(server.pid).length === 1 && childPids(server.pid)[0] !== first ? true : undefined), 20_000, "the replacement to take over");
        for (let i = 5; i < 10; i++) await client.submitBackground("record", `m-${i}`, "");
        await eventually(() => (lines().length === 10 ? true : undefined), 20_000, "10 jobs run");
        expect(new Set(lines().map((l) => l.split(" ")[0])).size).toBe(10);
        expect(lines().slice(5).every((l) => Number(l.split(" ")[1]) !== first)).toBe(true);
        expect(server.log()).toMatch(/retiring: ran 5 jobs \(max-jobs\)/);
    }, 60_000);

    test("a job that asks to be retried (by the RetryJob mark, as from the bundle's separate functions module) runs again", async () => {
        work([]);
        await eventually(() => (status("retry_once").workers === 1 ? true : undefined), 15_000, "the worker registered");
        await client.submitBackground("retry_once", "again-1", "");
        await eventually(() => (lines().filter((l) => l.startsWith("try again-1")).length === 2 ? true : undefined), 15_000, "the second run");
        expect(status("retry_once")).toMatchObject({ queued: 0, running: 0 });
    }, 30_000);

    test("TERM lets the job in hand finish and be reported, then the master exits 0", async () => {
        const server = work(["--graceful-timeout", "10"]);
        await eventually(() => (status("hold").workers === 1 ? true : undefined), 15_000, "the worker registered");
        await client.submitBackground("hold", "drained", "1500");
        await eventually(() => (lines().some((l) => l.startsWith("start drained")) ? true : undefined), 10_000, "the job to start");
        server.signal("SIGTERM");
        expect(await server.exited).toBe(0);
        expect(lines().filter((l) => l.startsWith("end drained"))).toHaveLength(1);
        expect(status("hold")).toMatchObject({ queued: 0, running: 0 });
    }, 30_000);

    test.each([
        [["--servers", "nope:99999"], /--servers nope:99999: .*port 1-65535/],
        [["-b", "127.0.0.1:8000"], /-b is an option of `instagram-app serve`/],
        [["--max-requests", "3"], /--max-requests is an option of `instagram-app serve`/],
    ])("bad arguments %j exit 2 with the usage", (args, message) => {
        const r = spawnSync(process.execPath, ["--import", "tsx", path.resolve(__dirname, "../../app/server/cli.ts"), "work", ...args], { encoding: "utf8", env: { ...process.env, INSTAGRAM_GEARMAN_SERVERS: "127.0.38.1" } });
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toMatch(/usage: instagram-app work/);
    });

    test("without job servers in the flags or the environment, work refuses to start", () => {
        const env = { ...process.env };
        delete env.INSTAGRAM_GEARMAN_SERVERS;
        const r = spawnSync(process.execPath, ["--import", "tsx", path.resolve(__dirname, "../../app/server/cli.ts"), "work"], { encoding: "utf8", env });
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/no job servers: pass --servers HOST\[:PORT\],\.\.\. or set INSTAGRAM_GEARMAN_SERVERS/);
    });
});
