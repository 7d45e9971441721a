/**
 * A job worker process (`instagram-app work`): loads the job functions, registers them with every job
 * server, and runs one job at a time. The heartbeat is the master's view of it: it stops while a job has
 * run longer than --timeout, so the master aborts the worker (WORKER TIMEOUT) and gearmand gives the job to
 * another. Told to stop, it takes no more jobs and exits once the job in hand is reported; at --max-jobs it
 * asks to be replaced and works on until it is.
 */
import * as os from "os";
import { AppContext, WORKER_BOOT_ERROR, WorkerMessage } from "./protocol";
import { ServerOptions } from "./options";
import { ReopenableLog, timestamp } from "./log";
import { onMasterMessage } from "./master-messages";
import { GearmanWorker, JobHandler } from "../jobs/gearman/worker";

const send = (message: WorkerMessage) => process.send?.(message);

/**
 * Job workers run below the HTTP workers' CPU priority: on an app host (a stack without worker hosts) a
 * fan-out to 10,000 feeds would otherwise take its share of the cores from the requests being answered.
 */
export const JOB_WORKER_NICE = 10;

/** What a job functions module exports: `createFunctions(context)` → function name → handler. */
export type CreateFunctions = (context: AppContext) => Promise<ReadonlyMap<string, JobHandler>> | ReadonlyMap<string, JobHandler>;

export async function runJobWorker(options: ServerOptions, workerId: number, jobLimit: number): Promise<void> {
    const errorLog = new ReopenableLog(options.errorLog, "stderr");
    try {
        os.setPriority(JOB_WORKER_NICE);
    } catch {
        // Lowering one's own priority is always allowed; a sandbox that forbids it costs only the ordering.
    }
    const log = (level: string, message: string) => errorLog.write(`[${timestamp()}] [${process.pid}] [${level}] ${message}`);
    const pending: Record<string, number> = {};
    const count = (name: string, by = 1) => { pending[name] = (pending[name] ?? 0) + by; };
    const context: AppContext = { workerId, count };

    let functions: ReadonlyMap<string, JobHandler>;
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require(options.app);
        const create: CreateFunctions | undefined = mod.createFunctions ?? mod.default;
        if (typeof create !== "function") throw new Error(`${options.app} exports no createFunctions function`);
        functions = await create(context);
        if (functions.size === 0) throw new Error(`${options.app} defines no job function`);
    } catch (e) {
        send({ t: "boot-error", reason: (e as Error).message });
        setTimeout(() => process.exit(WORKER_BOOT_ERROR), 100);
        return;
    }

    let jobStartedAt: number | undefined;
    let askedToRetire = false;
    const wrapped = new Map<string, JobHandler>();
    for (const [name, handler] of functions) {
        wrapped.set(name, async (job) => {
            jobStartedAt = Date.now();
            try {
                return await handler(job);
            } finally {
                jobStartedAt = undefined;
            }
        });
    }
    const worker = new GearmanWorker({
        servers: options.gearmanServers,
        functions: wrapped,
        clientId: `instagram-${process.pid}`,
        onJobDone: (job, outcome) => {
            const result = outcome.ok ? "done" : outcome.retry ? "retried" : "failed";
            count("jobs");
            count(`jobs_${job.fn}_${result}`);
            if (!outcome.ok) log(outcome.retry ? "WARNING" : "ERROR", `job ${job.fn} ${job.unique} (${job.handle} from ${job.server}) ${result} after ${outcome.ms} ms: ${outcome.error?.message}`);
            if (jobLimit > 0 && worker.jobsDone >= jobLimit && !askedToRetire) {
                askedToRetire = true;
                send({ t: "retire-me", reason: `ran ${worker.jobsDone} jobs (max-jobs)` });
            }
        },
    }).start();

    const flushStats = () => {
        if (Object.keys(pending).length === 0) return;
        send({ t: "stats", delta: { ...pending } });
        for (const k of Object.keys(pending)) delete pending[k];
    };
    let stopping = false;
    const stop = async () => {
        if (stopping) return;
        stopping = true;
        await worker.stop();
        flushStats();
        setImmediate(() => process.exit(0));
    };
    onMasterMessage((message) => {
        if (message.t === "stop") {
            if (message.graceful) void stop();
            else process.exit(0);
        } else if (message.t === "reopen-logs") {
            errorLog.reopen();
        }
    });
    process.on("SIGTERM", () => void stop());
    process.on("SIGINT", () => process.exit(0));
    process.on("SIGQUIT", () => process.exit(0));

    const timeoutMs = options.timeout * 1000;
    const beatMs = Math.max(100, Math.min(1000, timeoutMs / 4));
    setInterval(() => {
        // A job over its time gets no more heartbeats: the master aborts this worker and the job is run again.
        if (timeoutMs > 0 && jobStartedAt !== undefined && Date.now() - jobStartedAt > timeoutMs) return;
        send({ t: "heartbeat" });
        flushStats();
    }, beatMs).unref();
    send({ t: "booted" });
    send({ t: "heartbeat" });
}
