/**
 * `instagram-app serve` options, gunicorn's names and meanings. Parsed and checked in one pure function:
 * a bad flag gets a message naming it, never a stack trace.
 */
import * as os from "os";
import * as path from "path";
import { APP_ENV } from "../../core/app-contract";
import { GearmanServer, parseGearmanServers } from "../jobs/gearman/packets";

export type Bind = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

export interface ServerOptions {
    /** serve: HTTP workers on the binds; work: Gearman workers registered with gearmanServers. */
    readonly mode: "serve" | "work";
    readonly workers: number;
    readonly binds: readonly Bind[];
    /** Seconds a worker may go without a heartbeat before it is aborted; 0 disables. */
    readonly timeout: number;
    /** Seconds a graceful stop (TERM, retiring workers) waits for in-flight requests. */
    readonly gracefulTimeout: number;
    /** Requests a worker serves before it is recycled; 0 disables. */
    readonly maxRequests: number;
    readonly maxRequestsJitter: number;
    readonly pidFile?: string;
    /** "-" is stdout (access) / stderr (error). */
    readonly accessLog?: string;
    readonly errorLog: string;
    /** Module whose default export (or `createApp`) builds the request handler. */
    readonly app: string;
    /** Running totals for Munin, written by the master. */
    readonly statsFile?: string;
    /** work: the job servers each worker registers with. */
    readonly gearmanServers: readonly GearmanServer[];
}

export class UsageError extends Error {}

/** Resolved by the worker's require (.js once compiled, .ts under tsx). */
export const DEFAULT_APP = path.resolve(__dirname, "..", "api", "app");
/** The job functions `work` runs by default. */
export const DEFAULT_JOBS = path.resolve(__dirname, "..", "jobs", "functions");

export function defaultWorkers(env: NodeJS.ProcessEnv = process.env): number {
    const fromEnv = Number(env[APP_ENV.workers]);
    return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 2 * os.cpus().length + 1;
}

export function parseBind(text: string): Bind {
    if (text.startsWith("unix:")) {
        const path = text.slice(5);
        if (!path.startsWith("/")) throw new UsageError(`--bind ${text}: a unix socket needs an absolute path, as in unix:/run/app.sock`);
        return { kind: "unix", path };
    }
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port < 1 || port > 65535) throw new UsageError(`--bind ${text}: expected HOST:PORT (port 1-65535) or unix:PATH`);
    return { kind: "tcp", host: match[1].replace(/^\[|\]$/g, ""), port };
}

function whole(flag: string, value: string | undefined, min: number, max: number): number {
    const n = Number(value);
    if (value === undefined || !/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`${flag} ${value ?? ""}: expected a whole number from ${min} to ${max}`.replace("  ", " "));
    return n;
}

/** `serve` and `work` share the arbiter's options; each has its own (binds; job servers). */
function parseArgs(mode: "serve" | "work", argv: readonly string[], env: NodeJS.ProcessEnv): ServerOptions {
    const binds: Bind[] = [];
    const opts: { -readonly [K in keyof ServerOptions]?: ServerOptions[K] } = {};
    for (let i = 0; i < argv.length; i++) {
        const [flag, inline] = argv[i].includes("=") && argv[i].startsWith("--") ? [argv[i].slice(0, argv[i].indexOf("=")), argv[i].slice(argv[i].indexOf("=") + 1)] : [argv[i], undefined];
        const value = () => {
            const v = inline ?? argv[++i];
            if (v === undefined || (inline === undefined && v.startsWith("--"))) throw new UsageError(`${flag} needs a value`);
            return v;
        };
        const only = (wanted: "serve" | "work") => { if (mode !== wanted) throw new UsageError(`${flag} is an option of \`instagram-app ${wanted}\`, not of ${mode}`); };
        switch (flag) {
            case "-w": case "--workers": opts.workers = whole(flag, value(), 1, 512); break;
            case "-b": case "--bind": only("serve"); binds.push(parseBind(value())); break;
            case "-t": case "--timeout": opts.timeout = whole(flag, value(), 0, 86400); break;
            case "--graceful-timeout": opts.gracefulTimeout = whole(flag, value(), 0, 86400); break;
            case "--max-requests": only("serve"); opts.maxRequests = whole(flag, value(), 0, 1e9); break;
            case "--max-requests-jitter": only("serve"); opts.maxRequestsJitter = whole(flag, value(), 0, 1e9); break;
            case "--max-jobs": only("work"); opts.maxRequests = whole(flag, value(), 0, 1e9); break;
            case "--max-jobs-jitter": only("work"); opts.maxRequestsJitter = whole(flag, value(), 0, 1e9); break;
            case "-p": case "--pid": opts.pidFile = value(); break;
            case "--access-log": case "--access-logfile": only("serve"); opts.accessLog = value(); break;
            case "--error-log": case "--error-logfile": opts.errorLog = value(); break;
            case "--app": only("serve"); opts.app = value(); break;
            case "--functions": only("work"); opts.app = value(); break;
            case "--servers": only("work"); opts.gearmanServers = servers(flag, value()); break;
            case "--stats-file": opts.statsFile = value(); break;
            default: throw new UsageError(`unknown option ${JSON.stringify(argv[i])}`);
        }
    }
    const gearmanServers = opts.gearmanServers ?? (mode === "work" && env[APP_ENV.gearmanServers] ? servers(APP_ENV.gearmanServers, env[APP_ENV.gearmanServers]!) : []);
    if (mode === "work" && gearmanServers.length === 0) throw new UsageError(`no job servers: pass --servers HOST[:PORT],... or set ${APP_ENV.gearmanServers}`);
    return {
        mode,
        workers: opts.workers ?? defaultWorkers(env),
        binds: mode === "work" ? [] : binds.length > 0 ? binds : [{ kind: "tcp", host: "127.0.0.1", port: 8000 }],
        timeout: opts.timeout ?? 30,
        gracefulTimeout: opts.gracefulTimeout ?? 30,
        maxRequests: opts.maxRequests ?? 0,
        maxRequestsJitter: opts.maxRequestsJitter ?? 0,
        pidFile: opts.pidFile,
        accessLog: opts.accessLog,
        errorLog: opts.errorLog ?? "-",
        app: opts.app ?? (mode === "work" ? DEFAULT_JOBS : env[APP_ENV.appModule] ?? DEFAULT_APP),
        statsFile: opts.statsFile ?? env[APP_ENV.statsFile],
        gearmanServers,
    };
}

function servers(flag: string, text: string): GearmanServer[] {
    try {
        return parseGearmanServers(text);
    } catch (e) {
        throw new UsageError(`${flag} ${text}: ${(e as Error).message}`);
    }
}

export function parseServeArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServerOptions {
    return parseArgs("serve", argv, env);
}

export function parseWorkArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServerOptions {
    return parseArgs("work", argv, env);
}

export const SERVE_USAGE = `usage: instagram-app serve [options]
  -w, --workers N            worker processes (default: $WEB_CONCURRENCY, else 2 x cores + 1)
  -b, --bind ADDR            HOST:PORT or unix:PATH; repeat for several (default 127.0.0.1:8000)
  -t, --timeout S            abort a worker silent for S seconds (default 30; 0 disables)
      --graceful-timeout S   how long TERM waits for in-flight requests (default 30)
      --max-requests N       recycle a worker after N requests (default 0: never)
      --max-requests-jitter J  add 0..J to each worker's limit, so they do not all restart at once
  -p, --pid FILE             write the master's pid
      --access-log FILE|-    one line per request
      --error-log FILE|-     the server's own log (default -: stderr)
      --app MODULE           the request handler's module (default: the Instagram API)
      --stats-file FILE      running totals for Munin (default $INSTAGRAM_STATS_FILE)
signals to the master: HUP reload, TTIN/TTOU one worker more/less, TERM graceful stop, INT/QUIT fast stop, USR1 reopen logs`;

export const WORK_USAGE = `usage: instagram-app work [options]
  -w, --workers N            worker processes, one job at a time each (default: $WEB_CONCURRENCY, else 2 x cores + 1)
      --servers LIST         gearmand HOST[:PORT],... each worker registers with (default $INSTAGRAM_GEARMAN_SERVERS)
  -t, --timeout S            abort a worker whose job runs longer than S seconds (default 30; 0 disables)
      --graceful-timeout S   how long TERM waits for the jobs in hand (default 30)
      --max-jobs N           recycle a worker after N jobs (default 0: never)
      --max-jobs-jitter J    add 0..J to each worker's limit, so they do not all restart at once
  -p, --pid FILE             write the master's pid
      --error-log FILE|-     the server's own log (default -: stderr)
      --functions MODULE     the job functions' module (default: the Instagram jobs)
      --stats-file FILE      running totals for Munin (default $INSTAGRAM_STATS_FILE)
signals to the master: HUP reload, TTIN/TTOU one worker more/less, TERM graceful stop, INT/QUIT fast stop, USR1 reopen logs`;
