/**
 * The Gearman client and worker (app/jobs/gearman) against real gearmand servers with their SQLite queues:
 * background jobs and unique IDs, a queue that survives restarts and crashes, a job whose worker is killed
 * being run again, and a server that stops answering being skipped and rejoined.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { Daemons, eventually, sleep } from "../harness/daemons";
import { gearmand, TestGearmand } from "../harness/gearmand";
import { GearmanClient } from "../../app/jobs/gearman/client";
import { GearmanWorker, Job, RetryJob } from "../../app/jobs/gearman/worker";
import { ConnectionOptions } from "../../app/jobs/gearman/connection";

const daemons = new Daemons();
// The production timeout (1 s): shorter, a loaded machine (the suite, a VM boot) makes a live server look dead.
const FAST: ConnectionOptions = { timeoutMs: 1000, retryMs: 100, maxRetryMs: 500 };
let a: TestGearmand;
let b: TestGearmand;
const closers: (() => unknown)[] = [];

function client(servers: TestGearmand[]): GearmanClient {
    const c = new GearmanClient({ servers, connection: FAST });
    closers.push(() => c.close());
    return c;
}

function worker(servers: TestGearmand[], functions: Record<string, (job: Job) => Promise<string | void>>): GearmanWorker {
    const w = new GearmanWorker({ servers, functions: new Map(Object.entries(functions)), connection: FAST }).start();
    closers.push(() => w.stop());
    return w;
}

async function status(server: TestGearmand): Promise<Map<string, { queued: number; running: number; workers: number }>> {
    const out = await daemons.runAsync("gearadmin", ["-h", server.host, "-p", String(server.port), "--status"]);
    const map = new Map<string, { queued: number; running: number; workers: number }>();
    for (const line of out.stdout.split("\n")) {
        const [fn, queued, running, workers] = line.split("\t");
        if (workers !== undefined) map.set(fn, { queued: Number(queued), running: Number(running), workers: Number(workers) });
    }
    return map;
}

beforeAll(async () => {
    a = gearmand(daemons, "127.0.36.1");
    b = gearmand(daemons, "127.0.36.2");
    await Promise.all([a.start(), b.start()]);
}, 30_000);

afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
});

afterAll(async () => {
    await daemons.cleanup();
});

describe("Gearman client and worker against gearmand", () => {
    test("a background job runs once with its data; a second submit of the same unique while queued joins it", async () => {
        const c = client([a]);
        expect(await c.ready(3000)).toBe(true);
        const first = await c.submitBackground("echo", "job-1", "payload \0 with a NUL");
        const again = await c.submitBackground("echo", "job-1", "payload \0 with a NUL");
        expect(again.handle).toBe(first.handle);
        expect((await status(a)).get("echo")?.queued).toBe(1);
        const seen: Job[] = [];
        worker([a], { echo: async (job) => { seen.push(job); } });
        await eventually(() => (seen.length === 1 ? true : undefined), 5000, "the job to run");
        await sleep(300);
        expect(seen).toHaveLength(1);
        expect(seen[0].unique).toBe("job-1");
        expect(seen[0].data.toString()).toBe("payload \0 with a NUL");
        expect((await status(a)).get("echo")?.queued).toBe(0);
    });

    test("1,000 queued background jobs survive a clean restart and a kill -9 of gearmand, and each then runs", async () => {
        const c = client([a]);
        await c.ready(3000);
        for (let i = 0; i < 1000; i++) await c.submitBackground("durable", `d-${i}`, String(i));
        expect((await status(a)).get("durable")?.queued).toBe(1000);
        await a.stop("SIGTERM");
        await a.start();
        expect((await status(a)).get("durable")?.queued).toBe(1000);
        await a.stop("SIGKILL");
        await a.start();
        expect((await status(a)).get("durable")?.queued).toBe(1000);
        // The role's queue-init put the file in WAL mode (each job is one fsync'd append, not a rollback journal).
        const mode = await daemons.runAsync("python3", ["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA journal_mode').fetchone()[0])", a.queueFile]);
        expect(mode.stdout.trim()).toBe("wal");
        const ran = new Map<string, number>();
        worker([a], { durable: async (job) => { ran.set(job.unique, (ran.get(job.unique) ?? 0) + 1); } });
        await eventually(() => (ran.size === 1000 ? true : undefined), 30_000, "all 1,000 jobs to run");
        expect([...ran.values()].every((n) => n === 1)).toBe(true);
        expect((await status(a)).get("durable")?.queued).toBe(0);
    }, 60_000);

    test("a job whose worker process is killed with -9 mid-job is run again by another worker", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gearman-kill-"));
        const started = path.join(dir, "started");
        fs.writeFileSync(started, "");
        const child = spawn(process.execPath, ["--import", "tsx", path.resolve(__dirname, "../fixtures/gearman-worker.ts")], {
            env: { ...process.env, GEARMAN_SERVERS: `${a.host}:${a.port}`, STARTED_FILE: started }, stdio: "ignore",
        });
        try {
            const c = client([a]);
            await c.ready(3000);
            await c.submitBackground("slow", "slow-1", "x");
            await eventually(() => (fs.readFileSync(started, "utf8").includes("slow-1") ? true : undefined), 15_000, "the child to take the job");
            expect((await status(a)).get("slow")?.running).toBe(1);
            const rerun: string[] = [];
            worker([a], { slow: async (job) => { rerun.push(job.unique); } });
            await sleep(500);
            expect(rerun).toEqual([]); // still held by the child
            child.kill("SIGKILL");
            await eventually(() => (rerun.length > 0 ? true : undefined), 10_000, "the job to be given to the other worker");
            expect(rerun).toEqual(["slow-1"]);
        } finally {
            child.kill("SIGKILL");
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }, 30_000);

    test("a server that stops answering is skipped by the client and the worker, and rejoins when it answers again", async () => {
        const c = client([a, b]);
        const ran: Job[] = [];
        const w = worker([a, b], { skip: async (job) => { ran.push(job); } });
        await eventually(() => (c.upServers().length === 2 && w.upServers().length === 2 ? true : undefined), 5000, "both servers up");
        a.pause();
        try {
            // Submits whose unique hashes to the paused server wait for its timeout once, then go to the other.
            const t0 = Date.now();
            const placed = [];
            for (let i = 0; i < 20; i++) placed.push(await c.submitBackground("skip", `s-${i}`, String(i)));
            expect(Date.now() - t0).toBeLessThan(20 * FAST.timeoutMs);
            expect(new Set(placed.map((p) => p.server))).toEqual(new Set([`${b.host}:${b.port}`]));
            await eventually(() => (ran.length === 20 ? true : undefined), 10_000, "the worker to run every job from the answering server");
            expect(c.upServers()).toEqual([`${b.host}:${b.port}`]);
        } finally {
            a.resume();
        }
        await eventually(() => (c.upServers().length === 2 && w.upServers().length === 2 ? true : undefined), 10_000, "the paused server to rejoin");
        const after = [];
        for (let i = 20; i < 40; i++) after.push(await c.submitBackground("skip", `s-${i}`, String(i)));
        expect(new Set(after.map((p) => p.server))).toEqual(new Set([`${a.host}:${a.port}`, `${b.host}:${b.port}`]));
        // Every job ran. A submit that timed out against the paused server may still have reached its socket
        // buffer and been queued when it resumed, so a job may run twice: why every function is idempotent.
        await eventually(() => (new Set(ran.map((j) => j.unique)).size === 40 ? true : undefined), 10_000, "jobs on both servers to run");

    }, 60_000);

    test("a job that throws RetryJob goes back to the queue and runs again; any other throw fails it for good", async () => {
        const c = client([a]);
        await c.ready(3000);
        const runs: string[] = [];
        worker([a], {
            flaky: async (job) => { runs.push(job.unique); if (runs.length === 1) throw new RetryJob("redis is away", 100); },
            broken: async (job) => { runs.push(job.unique); throw new Error("bad data"); },
        });
        await c.submitBackground("flaky", "f-1", "");
        await eventually(() => (runs.length === 2 ? true : undefined), 10_000, "the job to run a second time");
        expect(runs).toEqual(["f-1", "f-1"]);
        await c.submitBackground("broken", "b-1", "");
        await eventually(() => (runs.length === 3 ? true : undefined), 10_000, "the broken job to run");
        await sleep(500);
        expect(runs).toEqual(["f-1", "f-1", "b-1"]);
        expect((await status(a)).get("broken")).toMatchObject({ queued: 0, running: 0 });
        expect((await status(a)).get("flaky")).toMatchObject({ queued: 0, running: 0 });
    });

    test("a worker told to stop finishes and reports the job in hand first", async () => {
        const c = client([a]);
        await c.ready(3000);
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        const done: string[] = [];
        const w = new GearmanWorker({ servers: [a], functions: new Map([["drain", async (job: Job) => { await held; done.push(job.unique); }]]), connection: FAST }).start();
        await c.submitBackground("drain", "drain-1", "");
        await eventually(() => (w.hasJob ? true : undefined), 5000, "the worker to take the job");
        const stopped = w.stop();
        await sleep(200);
        expect(done).toEqual([]);
        release();
        await stopped;
        expect(done).toEqual(["drain-1"]);
        const s = (await status(a)).get("drain");
        expect(s?.queued).toBe(0);
        expect(s?.running).toBe(0);
    });
});
