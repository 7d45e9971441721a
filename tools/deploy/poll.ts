/** Poll a check until it passes or a deadline: the shape of every deploy-time wait. */
export interface CheckResult {
    readonly ok: boolean;
    /** What the check saw, for the progress line and the final error ("503: postgres: shard 1 down"). */
    readonly detail: string;
}

export interface PollOptions {
    readonly timeoutMs: number;
    readonly intervalMs: number;
    /** Called when the detail changes, so a long wait shows what it is waiting for. */
    readonly progress?: (detail: string, elapsedMs: number) => void;
}

export class WaitTimeout extends Error {}

/** Resolves with the passing detail and the time it took; rejects with WaitTimeout naming the last detail. */
export async function pollUntil(what: string, check: () => Promise<CheckResult>, options: PollOptions): Promise<{ detail: string; elapsedMs: number }> {
    const started = Date.now();
    let last = "";
    for (;;) {
        const result = await check().catch((e: Error): CheckResult => ({ ok: false, detail: e.message }));
        const elapsedMs = Date.now() - started;
        if (result.ok) return { detail: result.detail, elapsedMs };
        if (result.detail !== last) options.progress?.(result.detail, elapsedMs);
        last = result.detail;
        if (elapsedMs + options.intervalMs > options.timeoutMs) {
            throw new WaitTimeout(`${what} did not pass within ${Math.round(options.timeoutMs / 1000)} s; last: ${last}`);
        }
        await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
}
