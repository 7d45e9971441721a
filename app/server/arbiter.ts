/**
 * The master process, after gunicorn's arbiter: it never touches a client socket, keeps the configured
 * number of workers alive, and reacts to one signal at a time from a queue, each with its own method:
 *   HUP   reload: fresh workers (which load the current code) first, then the old ones retire gracefully
 *   TTIN  one worker more; TTOU one fewer (the oldest, gracefully; never below one)
 *   TERM  graceful stop: workers finish in-flight requests within graceful-timeout, then are killed
 *   INT, QUIT  fast stop
 *   USR1  reopen log files (master and workers)
 * A worker whose heartbeat stops for --timeout is aborted (WORKER TIMEOUT) and replaced; one that fails to
 * load the app at startup stops the whole server with the reason, instead of restarting forever.
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

interface WorkerState {
    readonly worker: Worker;
    readonly generation: number;
    readonly startedAt: number;
    booted: boolean;
    lastBeat: number;
    /** Told to stop (retired by HUP/TTOU/max-requests/shutdown): its exit is not replaced. */
    retiring: boolean;
    abortedAt?: number;
}

export class Arbiter {
    private readonly workers = new Map<number, WorkerState>();
    private readonly queue: Signal[] = [];
    private wake: () => void = () => {};
    private target: number;
    private generation = 0;
    private stopping = false;
    private exitCode = 0;
    private nextWorkerId = 1;
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
        cluster.setupPrimary({ exec: require.resolve("./worker-main"), silent: false });
        for (const signal of SIGNALS) process.on(signal, () => this.enqueue(signal));
        cluster.on("message", (worker, message: WorkerMessage) => this.onMessage(worker, message));
        cluster.on("exit", (worker, code, signal) => this.onExit(worker, code, signal));
        this.info(`Starting instagram-app master ${process.pid}: ${this.target} workers on ${this.options.binds.map((b) => (b.kind === "unix" ? `unix:${b.path}` : `${b.host}:${b.port}`)).join(", ")}`);
        this.spawnWorkers(this.target);
        const watchdog = setInterval(() => this.checkHeartbeats(), 250);
        const stats = setInterval(() => this.writeStats(), 1000);
        while (!this.stopping || this.workers.size > 0) {
            const signal = this.queue.shift();
            if (signal) await this.handle(signal);
            else await new Promise<void>((resolve) => { this.wake = resolve; setTimeout(resolve, 500); });
        }
        clearInterval(watchdog);
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

    private async handle(signal: Signal): Promise<void> {
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

    /** Fresh workers first; once they serve, the previous generation drains and exits. */
    private async handleHup(): Promise<void> {
        if (this.stopping) return;
        this.info("Handling signal: hup (reloading)");
        const old = [...this.workers.values()].filter((w) => !w.retiring);
        const fresh = this.spawnWorkers(this.target);
        const ok = await this.waitForBoot(fresh, Math.max(30, this.options.timeout) * 1000);
        if (!ok) {
            this.info("Reload failed: new workers did not boot; keeping the running ones", "ERROR");
            for (const w of fresh) this.retire(w, false);
            return;
        }
        for (const w of old) this.retire(w, true);
    }

    private handleTtin(): void {
        if (this.stopping) return;
        this.target++;
        this.info(`Handling signal: ttin (workers: ${this.target})`);
        this.spawnWorkers(1);
    }

    private handleTtou(): void {
        if (this.stopping || this.target <= 1) return;
        this.target--;
        const oldest = [...this.workers.values()].filter((w) => !w.retiring).sort((a, b) => a.startedAt - b.startedAt)[0];
        this.info(`Handling signal: ttou (workers: ${this.target}; retiring ${oldest?.worker.process.pid})`);
        if (oldest) this.retire(oldest, true);
    }

    private handleUsr1(): void {
        this.info("Handling signal: usr1 (reopening logs)");
        this.log.reopen();
        for (const w of this.workers.values()) this.sendTo(w.worker, { t: "reopen-logs" });
    }

    /** Graceful: workers drain within graceful-timeout, then are killed. Fast: workers exit now. */
    private async stop(graceful: boolean): Promise<void> {
        if (this.stopping && graceful) return;
        this.stopping = true;
        this.info(`Handling signal: ${graceful ? "term (graceful stop)" : "int/quit (fast stop)"}`);
        for (const w of this.workers.values()) this.retire(w, graceful);
        // Graceful: up to graceful-timeout for in-flight requests. Fast: a moment to exit on their own.
        const deadline = Date.now() + (graceful ? this.options.gracefulTimeout * 1000 : 1000);
        while (this.workers.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        for (const w of this.workers.values()) w.worker.process.kill("SIGKILL");
    }

    private spawnWorkers(count: number): WorkerState[] {
        this.generation++;
        const started: WorkerState[] = [];
        for (let i = 0; i < count; i++) {
            const id = this.nextWorkerId++;
            const jitter = this.options.maxRequestsJitter > 0 ? Math.floor(Math.random() * (this.options.maxRequestsJitter + 1)) : 0;
            const limit = this.options.maxRequests > 0 ? this.options.maxRequests + jitter : 0;
            const worker = cluster.fork({ INSTAGRAM_WORKER_ID: String(id), INSTAGRAM_REQUEST_LIMIT: String(limit), INSTAGRAM_SERVER_OPTIONS: JSON.stringify(this.options) });
            const state: WorkerState = { worker, generation: this.generation, startedAt: Date.now() + i / 1000, booted: false, lastBeat: Date.now(), retiring: false };
            this.workers.set(worker.id, state);
            started.push(state);
            this.info(`Booting worker with pid: ${worker.process.pid}`);
        }
        return started;
    }

    private async waitForBoot(states: WorkerState[], timeoutMs: number): Promise<boolean> {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
            if (states.some((s) => !this.workers.has(s.worker.id))) return false;
            if (states.every((s) => s.booted)) return true;
            await new Promise((r) => setTimeout(r, 50));
        }
        return false;
    }

    /** max-requests: the replacement boots first, then the old worker drains, so the socket never lacks a listener. */
    private async recycle(state: WorkerState, reason: string): Promise<void> {
        if (state.retiring || this.stopping) return;
        this.info(`Worker ${state.worker.process.pid} retiring: ${reason}`);
        state.retiring = true;
        const [replacement] = this.spawnWorkers(1);
        await this.waitForBoot([replacement], Math.max(30, this.options.timeout) * 1000);
        this.retire(state, true);
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
                break;
            case "boot-error":
                this.info(`Worker ${worker.process.pid} failed to boot: ${message.reason}`, "ERROR");
                break;
            case "retire-me":
                void this.recycle(state, message.reason);
                break;
            case "stats":
                for (const [k, v] of Object.entries(message.delta)) this.totals[k] = (this.totals[k] ?? 0) + v;
                break;
        }
    }

    private onExit(worker: Worker, code: number | null, signal: string | null): void {
        const state = this.workers.get(worker.id);
        this.workers.delete(worker.id);
        if (!state) return;
        const how = signal ? `signal ${signal}` : `code ${code}`;
        if (code === WORKER_BOOT_ERROR && !state.booted) {
            // At startup nothing serves yet: stop rather than fork a broken app forever. During a reload the
            // old generation keeps serving (handleHup notices the missing worker).
            if (state.generation === 1 && !this.stopping) {
                this.info("Worker failed to boot: shutting down", "ERROR");
                this.exitCode = WORKER_BOOT_ERROR;
                void this.stop(false);
            }
            return;
        }
        if (state.retiring || this.stopping) {
            this.info(`Worker exiting (pid: ${worker.process.pid}, ${how})`);
            return;
        }
        this.info(`Worker (pid: ${worker.process.pid}) exited unexpectedly (${how}); replacing it`, "WARNING");
        this.spawnWorkers(1);
    }

    private checkHeartbeats(): void {
        if (this.options.timeout === 0) return;
        const now = Date.now();
        for (const state of this.workers.values()) {
            if (state.abortedAt !== undefined) {
                if (now - state.abortedAt > 2000) state.worker.process.kill("SIGKILL");
                continue;
            }
            if (now - state.lastBeat > this.options.timeout * 1000) {
                this.info(`WORKER TIMEOUT (pid:${state.worker.process.pid})`, "CRITICAL");
                state.abortedAt = now;
                state.worker.process.kill("SIGABRT");
            }
        }
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
