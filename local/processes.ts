/**
 * Daemons the local stack starts outlive the `npm run local` that started them, so each is tracked by a pid
 * file under .local/run/<host>/<daemon>.pid and logs to .local/logs/<host>/<daemon>.log. Daemons that
 * write their own pid file (PostgreSQL) are tracked by that file instead.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";

export interface Account {
    readonly name: string;
    readonly uid?: number;
    readonly gid?: number;
}

export function pidAlive(pid: number): boolean {
    if (!Number.isInteger(pid) || pid <= 0) return false;
    try {
        process.kill(pid, 0);
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
    // A zombie (exited, not yet reaped by its parent) is not running.
    try {
        return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
        return false;
    }
}

/** The pid in a pid file (first line), if the file exists and that process runs. */
export function runningPid(pidFile: string): number | undefined {
    try {
        const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0].trim());
        return pidAlive(pid) ? pid : undefined;
    } catch {
        return undefined;
    }
}

export interface StartOptions {
    readonly pidFile: string;
    readonly logFile: string;
    readonly account?: Account;
    readonly env?: NodeJS.ProcessEnv;
    readonly cwd?: string;
}

/** Start a daemon in the background, detached from this process; returns its pid. */
export function startDetached(command: string, args: readonly string[], o: StartOptions): number {
    fs.mkdirSync(path.dirname(o.logFile), { recursive: true });
    fs.mkdirSync(path.dirname(o.pidFile), { recursive: true });
    const log = fs.openSync(o.logFile, "a");
    try {
        const child = spawn(command, [...args], {
            detached: true,
            stdio: ["ignore", log, log],
            env: o.env ?? process.env,
            cwd: o.cwd,
            uid: o.account?.uid,
            gid: o.account?.gid,
        });
        if (child.pid === undefined) throw new Error(`could not start ${command}`);
        child.unref();
        fs.writeFileSync(o.pidFile, `${child.pid}\n`);
        return child.pid;
    } finally {
        fs.closeSync(log);
    }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Signal the process in a pid file and wait until it is gone (then SIGKILL after timeoutMs). With `group`,
 * its whole process group (startDetached makes one per daemon): for a shell loop and what it runs.
 */
export async function stopPidFile(pidFile: string, signal: NodeJS.Signals, timeoutMs: number, group = false): Promise<"stopped" | "killed" | "not running"> {
    const pid = runningPid(pidFile);
    if (pid === undefined) {
        fs.rmSync(pidFile, { force: true });
        return "not running";
    }
    process.kill(group ? -pid : pid, signal);
    const deadline = Date.now() + timeoutMs;
    while (pidAlive(pid)) {
        if (Date.now() > deadline) {
            process.kill(group ? -pid : pid, "SIGKILL");
            await sleep(200);
            fs.rmSync(pidFile, { force: true });
            return "killed";
        }
        await sleep(100);
    }
    fs.rmSync(pidFile, { force: true });
    return "stopped";
}

/** Resolves once something accepts TCP connections on host:port; rejects after timeoutMs naming it. */
export async function waitForPort(host: string, port: number, timeoutMs: number, what: string, alive?: () => boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (await canConnect(host, port)) return;
        if (alive && !alive()) throw new Error(`${what} exited before it listened on ${host}:${port}`);
        if (Date.now() > deadline) throw new Error(`${what} did not listen on ${host}:${port} within ${timeoutMs / 1000} s`);
        await sleep(100);
    }
}

export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host, port, timeout: timeoutMs });
        socket.on("connect", () => { socket.destroy(); resolve(true); });
        socket.on("timeout", () => { socket.destroy(); resolve(false); });
        socket.on("error", () => resolve(false));
    });
}

/** The last `lines` lines of a log, for error messages. */
export function tail(file: string, lines = 15): string {
    try {
        return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
        return "(no log)";
    }
}
