/** The shape every local daemon's module has, and the start-unless-running step they share. */
import { LocalContext, logFile, pidFile } from "../context";
import { LocalHost } from "../plan";
import { Account, runningPid, startDetached, tail, waitForPort } from "../processes";
import { GeneratedSecretName } from "../../core/secrets";

export interface ServiceStatus {
    readonly ok: boolean;
    readonly detail: string;
}

/** What `up` hands every service: the secrets and the state that survives between runs. */
export interface StartEnv {
    readonly secrets: Record<GeneratedSecretName, string>;
    /** Physical shards whose standby was promoted: their primary host keeps only pgbouncer. */
    readonly failedOver: readonly number[];
    /** The installed app bundle: its file and SHA-256. */
    readonly bundle?: { readonly path: string; readonly sha256: string };
}

export interface LocalService {
    readonly daemon: string;
    /** Start it unless it runs; resolves once it serves. "skipped" when this host should not run it now. */
    start(ctx: LocalContext, host: LocalHost, env: StartEnv): Promise<"started" | "running" | "skipped">;
    stop(ctx: LocalContext, host: LocalHost): Promise<string>;
    status(ctx: LocalContext, host: LocalHost, env: StartEnv): Promise<ServiceStatus>;
}

export interface DaemonSpec {
    readonly command: string;
    readonly args: readonly string[];
    readonly account?: Account;
    readonly env?: NodeJS.ProcessEnv;
    readonly port: number;
    readonly timeoutMs?: number;
}

/** Start a foreground daemon detached, tracked by our pid file, and wait for its port. */
export async function startDaemon(ctx: LocalContext, host: LocalHost, daemon: string, spec: DaemonSpec): Promise<"started" | "running"> {
    const pids = pidFile(ctx, host, daemon);
    if (runningPid(pids) !== undefined) return "running";
    const log = logFile(ctx, host, daemon);
    const pid = startDetached(spec.command, spec.args, { pidFile: pids, logFile: log, account: spec.account, env: spec.env });
    try {
        await waitForPort(host.address, spec.port, spec.timeoutMs ?? 20_000, `${host.name} ${daemon}`, () => runningPid(pids) === pid);
    } catch (e) {
        throw new Error(`${(e as Error).message}; its log (${log}) ends:\n${tail(log)}`);
    }
    return "started";
}
