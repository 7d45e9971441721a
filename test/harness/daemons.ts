/**
 * Real daemons on loopback for tests: temporary directories, processes run as an unprivileged user when
 * the tests run as root (PostgreSQL and pgbouncer refuse root), waiting for ports, and cleanup that stops
 * every process a test started, whatever the outcome.
 */
import { ChildProcess, execFileSync, spawn, SpawnOptions, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export interface Account {
    readonly uid?: number;
    readonly gid?: number;
    readonly name: string;
}

/**
 * The account a daemon runs as: the package's own user (postgres, redis...) when we are root, since some
 * refuse root and none needs it; ourselves otherwise.
 */
export function daemonAccount(user = "postgres"): Account {
    if (process.getuid?.() !== 0) return { name: os.userInfo().username };
    const uid = Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());
    return { uid, gid, name: user };
}

/** A directory the daemon account owns, removed by cleanup(). */
export function tempDir(prefix: string, owner?: Account): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    fs.chmodSync(dir, 0o755);
    if (owner?.uid !== undefined) fs.chownSync(dir, owner.uid, owner.gid!);
    return dir;
}

export function writeOwned(file: string, content: string, owner?: Account, mode = 0o600): void {
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode);
    if (owner?.uid !== undefined) fs.chownSync(file, owner.uid, owner.gid!);
}

/** The directory of the newest installed PostgreSQL's server binaries (Debian layout). */
export function postgresBinDir(): string {
    const base = "/usr/lib/postgresql";
    const versions = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
    if (versions.length === 0) throw new Error("PostgreSQL is not installed: apt-get install postgresql (see .ci/run)");
    return path.join(base, versions[0], "bin");
}

export function requireCommand(command: string, pkg: string): void {
    const found = spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
    if (!found) throw new Error(`${command} is not installed: apt-get install ${pkg} (see .ci/run)`);
}

export class Daemons {
    private readonly processes: { name: string; child: ChildProcess; log: string[] }[] = [];
    private readonly dirs: string[] = [];

    track(dir: string): string {
        this.dirs.push(dir);
        return dir;
    }

    /** Start a foreground daemon; its output is kept for failure messages. */
    start(name: string, command: string, args: string[], options: SpawnOptions & { account?: Account } = {}): ChildProcess {
        const { account, ...spawnOptions } = options;
        const child = spawn(command, args, {
            stdio: ["ignore", "pipe", "pipe"],
            uid: account?.uid,
            gid: account?.gid,
            ...spawnOptions,
        });
        const log: string[] = [];
        child.stdout?.on("data", (d) => log.push(String(d)));
        child.stderr?.on("data", (d) => log.push(String(d)));
        this.processes.push({ name, child, log });
        return child;
    }

    /** Wait for a started daemon's port; on failure the error carries the daemon's own output. */
    async waitFor(name: string, host: string, port: number, timeoutMs = 15_000): Promise<void> {
        try {
            await waitForPort(host, port, timeoutMs, `${name} (${host}:${port})`);
        } catch (e) {
            throw new Error(`${(e as Error).message}\n--- ${name} output ---\n${this.output(name)}`);
        }
    }

    /**
     * Wait until PostgreSQL on host:5432 accepts connections. Its port opens before it does: while it starts up
     * (replays WAL, or a standby reaches consistency) it answers "the database system is starting up", which
     * a loaded machine makes long enough for the next command to meet (CI saw pg_basebackup fail on it).
     */
    async waitForPostgres(name: string, host: string, timeoutMs = 30_000): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        await this.waitFor(name, host, 5432, timeoutMs);
        for (;;) {
            // pg_isready: 0 accepting, 1 rejecting (starting up), 2 no response.
            const ready = spawnSync("pg_isready", ["-q", "-h", host, "-p", "5432", "-t", "2"]);
            if (ready.status === 0) return;
            if (Date.now() > deadline) throw new Error(`${name} (${host}:5432) did not accept connections within ${timeoutMs} ms (pg_isready ${ready.status})\n--- ${name} output ---\n${this.output(name)}`);
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
    }

    /** Stop one daemon started here (TERM, then KILL), leaving the others running. */
    async stopOne(name: string): Promise<void> {
        await Promise.all(this.processes.filter((p) => p.name === name).map(({ child }) => stopChild(child)));
    }

    output(name: string): string {
        return this.processes.filter((p) => p.name === name).map((p) => p.log.join("")).join("\n");
    }

    /** Run a command to completion (as the account, if given); throws with its output when it fails. */
    run(command: string, args: string[], options: { account?: Account; env?: NodeJS.ProcessEnv; input?: string; cwd?: string; allowFailure?: boolean } = {}): { status: number; stdout: string; stderr: string } {
        const result = spawnSync(command, args, {
            uid: options.account?.uid,
            gid: options.account?.gid,
            env: options.env ?? process.env,
            input: options.input,
            cwd: options.cwd,
            encoding: "utf8",
            timeout: 60_000,
        });
        const out = { status: result.status ?? -1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
        if (out.status !== 0 && !options.allowFailure) {
            throw new Error(`${command} ${args.join(" ")} exited ${out.status}\n${out.stdout}\n${out.stderr}${result.error ? `\n${result.error}` : ""}`);
        }
        return out;
    }

    /** Like run(), without blocking the event loop: for commands that talk to servers in this process. */
    runAsync(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; allowFailure?: boolean } = {}): Promise<{ status: number; stdout: string; stderr: string }> {
        return new Promise((resolve, reject) => {
            const child = spawn(command, args, { env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout!.on("data", (d) => (stdout += d));
            child.stderr!.on("data", (d) => (stderr += d));
            const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
            child.on("close", (code) => {
                clearTimeout(timer);
                const out = { status: code ?? -1, stdout, stderr };
                if (out.status !== 0 && !options.allowFailure) reject(new Error(`${command} ${args.join(" ")} exited ${out.status}\n${stdout}\n${stderr}`));
                else resolve(out);
            });
        });
    }

    /** Stop everything started here (TERM, then KILL after a grace period) and remove temporary dirs. */
    async cleanup(): Promise<void> {
        await Promise.all(this.processes.map(({ child }) => stopChild(child)));
        this.processes.length = 0;
        for (const dir of this.dirs) fs.rmSync(dir, { recursive: true, force: true });
        this.dirs.length = 0;
    }
}

async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
}

/** Wait until host:port accepts a TCP connection, or fail after timeoutMs naming what never came up. */
export async function waitForPort(host: string, port: number, timeoutMs = 15_000, what = `${host}:${port}`): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
            const socket = net.connect({ host, port });
            socket.once("connect", () => { socket.destroy(); resolve(true); });
            socket.once("error", () => resolve(false));
        });
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`${what} did not start listening within ${timeoutMs} ms`);
        await sleep(100);
    }
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll until check() returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await check();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await sleep(200);
    }
}

/** One request/response exchange over a TCP text protocol (memcached, munin-node). */
export function tcpExchange(host: string, port: number, send: string, until: RegExp, options: { localAddress?: string; timeoutMs?: number } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
        const socket = net.connect({ host, port, localAddress: options.localAddress });
        let data = "";
        const timer = setTimeout(() => { socket.destroy(); resolve(data); }, options.timeoutMs ?? 5000);
        socket.on("connect", () => socket.write(send));
        socket.on("data", (d) => {
            data += String(d);
            if (until.test(data)) { clearTimeout(timer); socket.destroy(); resolve(data); }
        });
        socket.on("close", () => { clearTimeout(timer); resolve(data); });
        socket.on("error", (e) => { clearTimeout(timer); reject(e); });
    });
}
