/** Starting `instagram-app serve` as a real process, and bounded request loops against it (loopback only). */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as http from "http";
import * as path from "path";

const CLI = path.resolve(__dirname, "../../app/server/cli.ts");
export const TEST_APP = path.resolve(__dirname, "../fixtures/server-app.ts");

export interface RunningServer {
    readonly proc: ChildProcess;
    readonly pid: number;
    log(): string;
    exited: Promise<number | null>;
    signal(sig: NodeJS.Signals): void;
    stop(): Promise<void>;
}

export const FLAKY_APP = path.resolve(__dirname, "../fixtures/flaky-app.ts");
export const SLOW_BOOT_APP = path.resolve(__dirname, "../fixtures/slow-boot-app.ts");

/** `instagram-app serve` (or `work`: the same arbiter over job workers) with these arguments. */
export function startServer(args: string[], env: NodeJS.ProcessEnv = {}, command: "serve" | "work" = "serve"): RunningServer {
    const proc = spawn(process.execPath, ["--import", "tsx", CLI, command, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let log = "";
    proc.stdout!.on("data", (d) => (log += d));
    proc.stderr!.on("data", (d) => (log += d));
    // "close" waits for the output pipes too (so the log is complete), but workers share them: if one
    // outlives the master, settle a second after "exit" instead of waiting for it.
    const exited = new Promise<number | null>((resolve) => {
        proc.on("close", (code) => resolve(code));
        proc.on("exit", (code) => setTimeout(() => resolve(code), 1000).unref());
    });
    return {
        proc,
        pid: proc.pid!,
        log: () => log,
        exited,
        signal: (sig) => proc.kill(sig),
        stop: async () => {
            if (proc.exitCode !== null || proc.signalCode !== null) return;
            proc.kill("SIGINT");
            const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
            await exited;
            clearTimeout(timer);
            spawnSync("pkill", ["-KILL", "-P", String(proc.pid)]);
        },
    };
}

export interface Reply { status: number; body: string }

export function get(host: string, port: number, urlPath = "/", timeoutMs = 10_000): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = http.get({ host, port, path: urlPath, agent: false, timeout: timeoutMs }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode!, body }));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
    });
}

export async function waitUntilServing(host: string, port: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        try {
            if ((await get(host, port, "/healthz", 1000)).status === 200) return;
        } catch { /* not yet */ }
        if (Date.now() > deadline) throw new Error(`server on ${host}:${port} did not serve within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

export interface LoadResult { ok: number; failed: number; errors: string[]; pids: Set<number> }

/** `concurrency` clients each sending requests until stop() resolves or maxMs passes (bounded either way). */
export async function loadUntil(host: string, port: number, concurrency: number, stop: Promise<unknown>, maxMs = 30_000, urlPath = "/"): Promise<LoadResult> {
    const result: LoadResult = { ok: 0, failed: 0, errors: [], pids: new Set() };
    let done = false;
    void stop.then(() => (done = true));
    const deadline = Date.now() + maxMs;
    await Promise.all(Array.from({ length: concurrency }, async () => {
        while (!done && Date.now() < deadline) {
            try {
                const reply = await get(host, port, urlPath);
                if (reply.status === 200) {
                    result.ok++;
                    result.pids.add(JSON.parse(reply.body).pid);
                } else {
                    result.failed++;
                    result.errors.push(`HTTP ${reply.status}`);
                }
            } catch (e) {
                result.failed++;
                result.errors.push((e as Error).message);
            }
        }
    }));
    return result;
}

/** The master's worker processes (tsx may also run an esbuild service under the master: not a worker). */
export function childPids(pid: number): number[] {
    const out = spawnSync("ps", ["-o", "pid=,comm=", "--ppid", String(pid)], { encoding: "utf8" }).stdout.trim();
    return out ? out.split("\n").map((l) => l.trim().split(/\s+/)).filter(([, comm]) => comm !== "esbuild").map(([p]) => Number(p)) : [];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
