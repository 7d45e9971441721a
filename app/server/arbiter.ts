/**
 * The master process, after gunicorn's arbiter: it never touches a client socket, keeps the configured
 * number of workers (HTTP workers for `serve`, Gearman workers for `work`) alive, and reacts to one signal at a time from a queue, each with its own method:
 *   HUP   reload: fresh workers (which load the current code) first, then the old ones retire gracefully
 *   TTIN  one worker more; TTOU one fewer (the oldest, gracefully; never below one)
 *   TERM  graceful stop: workers finish in-flight requests within graceful-timeout, then are killed
 *   INT, QUIT  fast stop
 *   USR1  reopen log files (master and workers)
 * After every wake-up one step (manageWorkers) brings the pool back to its target. A worker whose heartbeat
 * stops for --timeout is aborted (WORKER TIMEOUT) and replaced. A worker is retired for max-requests or a
 * reload only once its replacement serves; boots that fail are retried with a back-off while others serve,
 * and when no worker serves and none can boot, the master exits 3 with the reason (systemd restarts it).
 */
import cluster, { Worker } from "cluster";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { MasterMessage, WORKER_BOOT_ERROR, WorkerMessage } from "./protocol";
import { ServerOptions } from "./options";
import { ReopenableLog, timestamp } from "./log";

type Signal = "SIGHUP" | "SIGTTIN" | "SIGTTOU" | "SIGTERM" | "SIGINT" | "SIGQUIT" | "SIGUSR1";
const SIGNALS: Signal[] = ["SIGHUP", "SIGTTIN", "SIGTTOU", "SIGTERM", "SIGINT", "SIGQUIT", "SIGUSR1"];

/** How often the master's loop wakes by itself (heartbeats, back-off expiry), at the latest. */
const TICK_MS = 250;
/** Back-off after a worker fails to boot: doubles from the first to the last, reset by a worker that boots. */
export const BOOT_BACKOFF_FIRST_MS = 1000;
export const BOOT_BACKOFF_MAX_MS = 10_000;

interface WorkerState {
    readonly worker: Worker;
    /** Order of creation (the oldest is retired first). */
    readonly seq: number;
    readonly spawnedAt: number;
    booted: boolean;
    lastBeat: number;
    /** Told to stop: its exit is expected and not replaced. */
    retiring: boolean;
    /** Still serving, but to be replaced (max-requests, reload): retired once a replacement serves. */
    replaceBecause?: string;
    bootError?: string;
    abortedAt?: number;
}

/** The back-off before the next spawn after `failures` boot failures in a row. */
export function bootBackoffMs(failures: number): number {
    return failures <= 0 ? 0 : Math.min(BOOT_BACKOFF_MAX_MS, BOOT_BACKOFF_FIRST_MS * 2 ** (failures - 1));
}

/**
 * Node flags for every worker. A request allocates a few hundred short-lived objects and strings; V8's
 * young generation starts at 1 MiB semi-spaces and scavenges thousands of times a second under load. Let it
 * grow to 32 MiB (only as the worker's allocation rate asks for it): on the one-machine stack, a feed read
 * cost the app workers 606-745 µs of CPU with the default and 473-544 µs with this.
 */
export const WORKER_NODE_FLAGS = ["--max-semi-space-size=32"];

export class Arbiter {
    private readonly workers = new Map<number, WorkerState>();
    private readonly queue: Signal[] = [];
    private wake: () => void = () => {};
    /** The pool size the master keeps; signals change it, manageWorkers() restores it. */
    private target: number;
    private stopping = false;
    private killDeadline = 0;
    private exitCode = 0;
    private nextWorkerId = 1;
    private nextSeq = 0;
    private bootFailures = 0;
    private nextSpawnAt = 0;
    private readonly log: ReopenableLog;
    private readonly totals: Record<string, number> = {};

    constructor(private readonly options: ServerOptions) {
        this.target = options.workers;
        this.log = new ReopenableLog(options.errorLog, "stderr");
    }

    private info(message: string, level = "INFO"): void {
        this.log.write(`[${timestamp()}] [${process.pid}] [${level}] ${message}`);
    }

    /** Run until stopped; resolves with the exit code. */
    async run(): Promise<number> {
        await this.prepareSockets();
        this.writePidFile();
        // Workers accept from the shared listening socket themselves, as gunicorn's do; the master never
        // touches a client connection. Node's default round-robin (the master accepts and hands each
        // connection over IPC) spreads keep-alive connections more evenly, but a connection handed to a
        // worker that has just closed its listener for a reload or recycle can hang: under load, tests saw
        // one in about five reloads time out. Zero failed requests on reload wins over throughput here.
        cluster.schedulingPolicy = cluster.SCHED_NONE;
        cluster.setupPrimary({ exec: require.resolve("./worker-main"), silent: false, execArgv: [...process.execArgv, ...WORKER_NODE_FLAGS] });
        for (const signal of SIGNALS) process.on(signal, () => this.enqueue(signal));
        cluster.on("message", (worker, message: WorkerMessage) => this.onMessage(worker, message));
        cluster.on("exit", (worker, code, signal) => this.onExit(worker, code, signal));
        const where = this.options.mode === "work"
            ? `taking jobs from ${this.options.gearmanServers.map((g) => `${g.host}:${g.port}`).join(", ")}`
            : `on ${this.options.binds.map((b) => (b.kind === "unix" ? `unix:${b.path}` : `${b.host}:${b.port}`)).join(", ")}`;
        this.info(`Starting instagram-app master ${process.pid}: ${this.target} workers ${where}`);
        const stats = setInterval(() => this.writeStats(), 1000);
        // gunicorn's loop: one signal at a time, then murder_workers() and manage_workers() after every
        // wake-up. Handlers only change the target or mark workers; one step brings the pool back to it.
        while (!this.stopping || this.workers.size > 0) {
            const signal = this.queue.shift();
            if (signal) this.handle(signal);
            else await new Promise<void>((resolve) => { this.wake = resolve; setTimeout(resolve, TICK_MS); });
            this.murderWorkers();
            this.manageWorkers();
        }
        clearInterval(stats);
        this.writeStats();
        this.removePidFile();
        this.info(`Shutting down: master ${process.pid} exits ${this.exitCode}`);
        return this.exitCode;
    }

    private enqueue(signal: Signal): void {
        this.queue.push(signal);
        this.wake();
    }

    private handle(signal: Signal): void {
        switch (signal) {
            case "SIGHUP": return this.handleHup();
            case "SIGTTIN": return this.handleTtin();
            case "SIGTTOU": return this.handleTtou();
            case "SIGTERM": return this.stop(true);
            case "SIGINT":
            case "SIGQUIT": return this.stop(false);
            case "SIGUSR1": return this.handleUsr1();
        }
    }

    /**
     * Reload: every running worker is to be replaced by one that loads the code on disk now. The old ones
     * keep serving until their replacements serve (one retires per replacement booted); if the new code
     * cannot boot, they go on serving while the master retries with back-off.
     */
    private handleHup(): void {
        if (this.stopping) return;
        this.info("Handling signal: hup (reloading)");
        for (const w of this.live()) {
            if (w.booted) w.replaceBecause = "reload";
            else this.retire(w, false); // forked before the reload, maybe with the old code; serves nothing yet
        }
        this.nextSpawnAt = 0;
    }

    private handleTtin(): void {
        if (this.stopping) return;
        this.target++;
        this.info(`Handling signal: ttin (workers: ${this.target})`);
    }

    private handleTtou(): void {
        if (this.stopping || this.target <= 1) return;
        this.target--;
        this.info(`Handling signal: ttou (workers: ${this.target})`);
    }

    private handleUsr1(): void {
        this.info("Handling signal: usr1 (reopening logs)");
        this.log.reopen();
        for (const w of this.workers.values()) this.sendTo(w.worker, { t: "reopen-logs" });
    }

    /** Graceful: workers drain within graceful-timeout, then are killed. Fast: workers exit now. */
    private stop(graceful: boolean): void {
        if (this.stopping && graceful) return;
        this.stopping = true;
        this.info(`Handling signal: ${graceful ? "term (graceful stop)" : "int/quit (fast stop)"}`);
        for (const w of this.workers.values()) this.retire(w, graceful);
        // Graceful: up to graceful-timeout for in-flight requests. Fast: a moment to exit on their own.
        this.killDeadline = Date.now() + (graceful ? this.options.gracefulTimeout * 1000 : 1000);
    }

    private live(): WorkerState[] {
        return [...this.workers.values()].filter((w) => !w.retiring);
    }

    /**
     * The one step that restores the pool, run after every signal, message, exit and tick: workers that are
     * due for replacement retire only once enough others serve, extras retire oldest first, and what is
     * missing is spawned (after the back-off, when boots have been failing).
     */
    private manageWorkers(): void {
        if (this.stopping) return;
        const live = this.live();
        const oldestFirst = (a: WorkerState, b: WorkerState) => a.seq - b.seq;
        const due = live.filter((w) => w.booted && w.replaceBecause !== undefined).sort(oldestFirst);
        const serving = live.filter((w) => w.booted && w.replaceBecause === undefined).sort(oldestFirst);
        const booting = live.filter((w) => !w.booted);
        // Retire down to the target among booted workers: the ones due for replacement first, then the oldest.
        const excess = due.length + serving.length - this.target;
        const retired = excess > 0 ? [...due, ...serving].slice(0, excess) : [];
        for (const w of retired) {
            this.info(`Worker ${w.worker.process.pid} retiring (${w.replaceBecause ? `${w.replaceBecause}: replaced` : "above the target of " + this.target})`);
            this.retire(w, true);
        }
        const stillServing = serving.filter((w) => !retired.includes(w)).length;
        const missing = this.target - stillServing - booting.length;
        if (missing > 0 && Date.now() >= this.nextSpawnAt) this.spawnWorkers(missing);
    }

    /** WORKER TIMEOUT: a silent worker is aborted, and killed if it does not exit; a boot that hangs too. */
    private murderWorkers(): void {
        const now = Date.now();
        if (this.stopping && now > this.killDeadline) {
            for (const w of this.workers.values()) w.worker.process.kill("SIGKILL");
        }
        const bootTimeoutMs = Math.max(30, this.options.timeout) * 1000;
        for (const state of this.workers.values()) {
            if (state.abortedAt !== undefined) {
                if (now - state.abortedAt > 2000) state.worker.process.kill("SIGKILL");
                continue;
            }
            if (!state.booted && now - state.spawnedAt > bootTimeoutMs) {
                state.bootError = `did not boot within ${bootTimeoutMs / 1000} s`;
                this.abort(state, `WORKER BOOT TIMEOUT (pid:${state.worker.process.pid})`);
            } else if (state.booted && this.options.timeout > 0 && now - state.lastBeat > this.options.timeout * 1000) {
                this.abort(state, `WORKER TIMEOUT (pid:${state.worker.process.pid})`);
            }
        }
    }

    private abort(state: WorkerState, message: string): void {
        this.info(message, "CRITICAL");
        state.abortedAt = Date.now();
        state.worker.process.kill("SIGABRT");
    }

    private spawnWorkers(count: number): void {
        for (let i = 0; i < count; i++) {
            const id = this.nextWorkerId++;
            const jitter = this.options.maxRequestsJitter > 0 ? Math.floor(Math.random() * (this.options.maxRequestsJitter + 1)) : 0;
            const limit = this.options.maxRequests > 0 ? this.options.maxRequests + jitter : 0;
            const worker = cluster.fork({ INSTAGRAM_WORKER_ID: String(id), INSTAGRAM_REQUEST_LIMIT: String(limit), INSTAGRAM_SERVER_OPTIONS: JSON.stringify(this.options) });
            const now = Date.now();
            this.workers.set(worker.id, { worker, seq: this.nextSeq++, spawnedAt: now, booted: false, lastBeat: now, retiring: false });
            this.info(`Booting worker with pid: ${worker.process.pid}`);
        }
    }

    private retire(state: WorkerState, graceful: boolean): void {
        state.retiring = true;
        this.sendTo(state.worker, { t: "stop", graceful });
        if (graceful) {
            const timer = setTimeout(() => {
                if (this.workers.has(state.worker.id)) {
                    this.info(`Worker ${state.worker.process.pid} did not finish within graceful-timeout: killing it`, "WARNING");
                    state.worker.process.kill("SIGKILL");
                }
            }, this.options.gracefulTimeout * 1000);
            timer.unref();
        }
    }

    private sendTo(worker: Worker, message: MasterMessage): void {
        if (worker.isConnected()) worker.send(message, () => undefined);
    }

    private onMessage(worker: Worker, message: WorkerMessage): void {
        const state = this.workers.get(worker.id);
        if (!state) return;
        switch (message.t) {
            case "heartbeat":
                state.lastBeat = Date.now();
                break;
            case "booted":
                state.booted = true;
                state.lastBeat = Date.now();
                // Retired while it booted: a stop sent before its process listened for messages was lost
                // (master-messages.ts). Told again now, it drains what it accepted meanwhile and exits.
                if (state.retiring) this.sendTo(worker, { t: "stop", graceful: true });
                if (this.bootFailures > 0) this.info(`Worker ${worker.process.pid} booted after ${this.bootFailures} failed boot(s)`);
                this.bootFailures = 0;
                this.nextSpawnAt = 0;
                break;
            case "boot-error":
                state.bootError = message.reason;
                break;
            case "retire-me":
                // Asked by the worker at its request limit: it serves on until a replacement does.
                if (!state.retiring && state.replaceBecause === undefined) {
                    this.info(`Worker ${worker.process.pid} retiring: ${message.reason}`);
                    state.replaceBecause = message.reason;
                }
                break;
            case "stats":
                for (const [k, v] of Object.entries(message.delta)) this.totals[k] = (this.totals[k] ?? 0) + v;
                return;
        }
        this.wake();
    }

    private onExit(worker: Worker, code: number | null, signal: string | null): void {
        const state = this.workers.get(worker.id);
        this.workers.delete(worker.id);
        this.wake();
        if (!state) return;
        const how = signal ? `signal ${signal}` : `code ${code}`;
        if (state.retiring || this.stopping) {
            this.info(`Worker exiting (pid: ${worker.process.pid}, ${how})`);
            return;
        }
        if (!state.booted) return this.onBootFailure(state, how);
        this.info(`Worker (pid: ${worker.process.pid}) exited unexpectedly (${how}); replacing it`, "WARNING");
    }

    /**
     * A worker died before it served. While others serve, retry after a growing back-off; when none does,
     * the master cannot serve at all: it says why and exits non-zero, so that systemd restarts it.
     */
    private onBootFailure(state: WorkerState, how: string): void {
        this.bootFailures++;
        const reason = state.bootError ?? `exited before it booted (${how})`;
        const serving = this.live().filter((w) => w.booted).length;
        if (serving === 0) {
            this.info(`Worker ${state.worker.process.pid} failed to boot: ${reason}`, "ERROR");
            this.info("No worker is serving and none could boot: shutting down (exit 3)", "ERROR");
            this.exitCode = WORKER_BOOT_ERROR;
            this.stop(false);
            return;
        }
        const backoff = bootBackoffMs(this.bootFailures);
        this.nextSpawnAt = Date.now() + backoff;
        this.info(`Worker ${state.worker.process.pid} failed to boot: ${reason}; ${serving} worker(s) serving of ${this.target}, next boot in ${backoff / 1000} s`, "ERROR");
    }

    /** A unix socket left by a crashed master would make every worker fail to listen: remove it if stale. */
    private async prepareSockets(): Promise<void> {
        for (const bind of this.options.binds) {
            if (bind.kind !== "unix") continue;
            fs.mkdirSync(path.dirname(bind.path), { recursive: true });
            if (!fs.existsSync(bind.path)) continue;
            if (!fs.statSync(bind.path).isSocket()) throw new Error(`--bind unix:${bind.path}: the path exists and is not a socket`);
            const inUse = await new Promise<boolean>((resolve) => {
                const probe = net.connect(bind.path);
                probe.once("connect", () => { probe.destroy(); resolve(true); });
                probe.once("error", () => resolve(false));
            });
            if (inUse) throw new Error(`--bind unix:${bind.path}: another server is listening there`);
            fs.rmSync(bind.path);
        }
    }

    private writePidFile(): void {
        if (!this.options.pidFile) return;
        fs.writeFileSync(`${this.options.pidFile}.tmp`, `${process.pid}\n`);
        fs.renameSync(`${this.options.pidFile}.tmp`, this.options.pidFile);
    }

    private removePidFile(): void {
        if (this.options.pidFile) fs.rmSync(this.options.pidFile, { force: true });
    }

    private writeStats(): void {
        if (!this.options.statsFile) return;
        const text = Object.entries(this.totals).map(([k, v]) => `${k} ${v}`).join("\n") + "\n";
        fs.writeFileSync(`${this.options.statsFile}.tmp`, text);
        fs.renameSync(`${this.options.statsFile}.tmp`, this.options.statsFile);
    }
}
