/** What the master and its workers say to each other over the cluster IPC channel, and what an app gets. */

export type WorkerMessage =
    | { t: "booted" }
    | { t: "boot-error"; reason: string }
    | { t: "heartbeat" }
    /** Reached its request limit: keeps serving until the master has booted its replacement and stops it. */
    | { t: "retire-me"; reason: string }
    | { t: "stats"; delta: Record<string, number> };

export type MasterMessage = { t: "stop"; graceful: boolean } | { t: "reopen-logs" };

/** Handed to the app's createApp(): counters end up in the stats file Munin reads. */
export interface AppContext {
    readonly workerId: number;
    count(name: string, by?: number): void;
}

/** gunicorn's exit code for a worker that could not load the app: the master gives up instead of looping. */
export const WORKER_BOOT_ERROR = 3;
