/**
 * A Gearman worker holding one job at a time, registered with every server. It asks the servers for work in
 * turn; when none has any it tells each it is sleeping (PRE_SLEEP) and waits for a NOOP, as libgearman's
 * workers do. A server that does not answer a grab in time is dropped and rejoins once its connection
 * probes up again. Stopping finishes the job in hand (and reports it) before closing.
 *
 * A job whose worker dies before reporting stays with gearmand, which gives it to another worker: every
 * function must be safe to run twice.
 */
import { ConnectionOptions, DEFAULT_CONNECTION_OPTIONS, GearmanConnection } from "./connection";
import { GearmanServer, PACKET, Packet, splitArgs } from "./packets";

export interface Job {
    readonly handle: string;
    readonly fn: string;
    readonly unique: string;
    readonly data: Buffer;
    readonly server: string;
}

/**
 * A function's result (sent back as WORK_COMPLETE). A throw of RetryJob hands the job back to gearmand to be
 * run again (after the given pause, by dropping the connection it came by: gearmand requeues the jobs of a
 * worker that goes away); any other throw is WORK_FAIL, and gearmand drops a background job that fails.
 */
export type JobHandler = (job: Job) => Promise<string | Buffer | void>;

/** A failure worth another try (a dependency away): the job goes back to the queue, not to WORK_FAIL. */
export class RetryJob extends Error {
    /**
     * Recognised by this mark, not by instanceof: in the app bundle the job functions are a module of their own
     * (lib/jobs/functions.js) with their own copy of this class, so instanceof would never match there.
     */
    readonly retryJob = true;
    constructor(message: string, readonly pauseMs = 1000) {
        super(message);
    }
}

export function isRetryJob(e: unknown): e is RetryJob {
    return e instanceof Error && (e as Partial<RetryJob>).retryJob === true && typeof (e as Partial<RetryJob>).pauseMs === "number";
}

export interface GearmanWorkerOptions {
    readonly servers: readonly GearmanServer[];
    readonly functions: ReadonlyMap<string, JobHandler>;
    readonly clientId?: string;
    readonly connection?: ConnectionOptions;
    /** Called as each job ends (for counters and logs). */
    readonly onJobDone?: (job: Job, outcome: { ok: boolean; retry: boolean; ms: number; error?: Error }) => void;
}

type ConnState = "down" | "idle" | "grabbing" | "sleeping" | "working";

class WorkerChannel {
    state: ConnState = "down";
    grabTimer?: NodeJS.Timeout;
    /** A NOOP came while another connection was busy: grab here next time. */
    woken = false;
    constructor(readonly connection: GearmanConnection) {}
}

export class GearmanWorker {
    private readonly channels: WorkerChannel[];
    private busy = false;
    private stopping = false;
    private cursor = 0;
    private current?: Promise<void>;
    private readonly timeoutMs: number;
    /** Jobs finished (completed or failed) since start. */
    jobsDone = 0;

    constructor(private readonly options: GearmanWorkerOptions) {
        if (options.servers.length === 0) throw new Error("a Gearman worker needs at least one server");
        if (options.functions.size === 0) throw new Error("a Gearman worker needs at least one function");
        const connection = options.connection ?? DEFAULT_CONNECTION_OPTIONS;
        this.timeoutMs = connection.timeoutMs;
        this.channels = options.servers.map((s) => new WorkerChannel(new GearmanConnection(s, connection)));
        for (const ch of this.channels) {
            ch.connection.on("up", () => this.onUp(ch));
            ch.connection.on("down", () => this.onDown(ch));
            ch.connection.on("packet", (p: Packet) => this.onPacket(ch, p));
        }
    }

    start(): this {
        for (const ch of this.channels) ch.connection.start();
        return this;
    }

    /** Servers this worker is registered with now. */
    upServers(): string[] {
        return this.channels.filter((c) => c.state !== "down").map((c) => c.connection.name);
    }

    get hasJob(): boolean {
        return this.busy;
    }

    private onUp(ch: WorkerChannel): void {
        if (this.options.clientId) ch.connection.send(PACKET.SET_CLIENT_ID, this.options.clientId);
        for (const fn of this.options.functions.keys()) ch.connection.send(PACKET.CAN_DO, fn);
        ch.state = "idle";
        ch.woken = true;
        this.askForWork();
    }

    private onDown(ch: WorkerChannel): void {
        clearTimeout(ch.grabTimer);
        const wasGrabbing = ch.state === "grabbing";
        ch.state = "down";
        if (wasGrabbing) this.askForWork();
    }

    /** When free: grab from the next connection that may have work (idle, or woken by a NOOP). */
    private askForWork(): void {
        if (this.busy || this.stopping || this.channels.some((c) => c.state === "grabbing")) return;
        for (let i = 0; i < this.channels.length; i++) {
            const ch = this.channels[(this.cursor + i) % this.channels.length];
            if (ch.state === "idle" || (ch.state === "sleeping" && ch.woken)) {
                this.cursor = (this.cursor + i + 1) % this.channels.length;
                ch.woken = false;
                ch.state = "grabbing";
                ch.connection.send(PACKET.GRAB_JOB_UNIQ);
                ch.grabTimer = setTimeout(() => ch.connection.fail(undefined, `no answer to a grab within ${this.timeoutMs} ms`), this.timeoutMs);
                return;
            }
        }
    }

    private onPacket(ch: WorkerChannel, p: Packet): void {
        switch (p.type) {
            case PACKET.NOOP:
                ch.woken = true;
                this.askForWork();
                return;
            case PACKET.NO_JOB:
                clearTimeout(ch.grabTimer);
                ch.state = "sleeping";
                ch.connection.send(PACKET.PRE_SLEEP);
                this.askForWork();
                return;
            case PACKET.JOB_ASSIGN_UNIQ: {
                clearTimeout(ch.grabTimer);
                const [handle, fn, unique, data] = splitArgs(p.body, 4);
                this.run(ch, { handle: handle.toString("utf8"), fn: fn.toString("utf8"), unique: unique.toString("utf8"), data, server: ch.connection.name });
                return;
            }
            case PACKET.ERROR: {
                const [code, text] = splitArgs(p.body, 2).map((b) => b.toString("utf8"));
                ch.connection.fail(undefined, `server error ${code}: ${text}`);
                return;
            }
        }
    }

    private run(ch: WorkerChannel, job: Job): void {
        ch.state = "working";
        this.busy = true;
        const started = Date.now();
        const handler = this.options.functions.get(job.fn);
        this.current = (async () => {
            let error: Error | undefined;
            let result: string | Buffer | void = undefined;
            try {
                if (!handler) throw new Error(`no handler for ${job.fn}`);
                result = await handler(job);
            } catch (e) {
                error = e instanceof Error ? e : new Error(String(e));
            }
            // Reported on the connection the job came by; if it dropped meanwhile, gearmand gives the job to
            // another worker, which is why functions are idempotent.
            if (isRetryJob(error)) {
                // Pause first, so a dependency that is away is not asked again at once by every worker.
                await new Promise((r) => setTimeout(r, (error as RetryJob).pauseMs));
                ch.connection.fail(undefined, `handing job ${job.handle} back for a retry: ${error.message}`);
            } else if (error) {
                ch.connection.send(PACKET.WORK_FAIL, job.handle);
            } else {
                ch.connection.send(PACKET.WORK_COMPLETE, job.handle, result ?? "");
            }
            this.jobsDone++;
            this.options.onJobDone?.(job, { ok: !error, retry: isRetryJob(error), ms: Date.now() - started, error });
        })().finally(() => {
            this.busy = false;
            this.current = undefined;
            if (ch.state === "working") { ch.state = "idle"; }
            this.askForWork();
        });
    }

    /** Take no more jobs; resolves once the job in hand (if any) has been reported, then disconnects. */
    async stop(): Promise<void> {
        this.stopping = true;
        await this.current;
        for (const ch of this.channels) {
            clearTimeout(ch.grabTimer);
            ch.connection.stop();
        }
    }
}
