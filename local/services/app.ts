/**
 * An app host: the app bundle (the artifact EC2 hosts download) installed by the role's own
 * instagram-app-install into the host's /opt/instagram, its server started as the unit starts it, with the
 * environment the app role writes, and the role's nginx site in front of its unix socket.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { account, hostDir, LocalContext, logFile, mediaDir, ownedDir, pidFile, writeFileAs } from "../context";
import { edgeHost, hostsOf, LocalHost, searchPrimary, shardHost } from "../plan";
import { runningPid, startDetached, stopPidFile, tail } from "../processes";
import { APP_ENV, appEnvironmentVariables, MAX_UPLOAD_MIB } from "../../core/app-contract";
import { PROVIDED_SECRETS } from "../../core/secrets";
import { directoryPath } from "../shard-directory";
import { nginxAppSite } from "../../cloud-init/configs/nginx-app";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";
import { LocalService, ServiceStatus, startDaemon, StartEnv } from "./service";
import { httpGet, nginxMainConf } from "./nginx";

export interface AppPaths {
    readonly home: string;
    readonly run: string;
    readonly socket: string;
    readonly stats: string;
    readonly credentials: string;
    /** The job workers' runtime directory and stats file (their unit's RuntimeDirectory). */
    readonly workRun: string;
    readonly workStats: string;
}

export function appPaths(ctx: LocalContext, host: LocalHost): AppPaths {
    const root = hostDir(ctx, host);
    const run = path.join(root, "run-instagram-app");
    const workRun = path.join(root, "run-instagram-work");
    return {
        home: path.join(root, "opt-instagram"), run, socket: path.join(run, "app.sock"), stats: path.join(run, "stats"), credentials: path.join(root, "credentials"),
        workRun, workStats: path.join(workRun, "stats"),
    };
}

/** Does this host run job workers: a worker host, or an app host of a stack without worker hosts. */
export function runsJobWorkers(ctx: LocalContext, host: LocalHost): boolean {
    return host.role === "worker" || (host.role === "app" && ctx.plan.jobWorkersOnApp);
}

/** The app's environment: the same contract the app role writes to app.env, with this machine's paths and a media directory. */
/** The stand-ins' CA, copied beside the host's credentials, where the app's user can read it (the file given to `up` may be in a private directory). */
const pushCaPath = (ctx: LocalContext, host: LocalHost) => path.join(appPaths(ctx, host).credentials, "push-ca.pem");

export function localAppEnv(ctx: LocalContext, host: LocalHost): Record<string, string> {
    // pgbouncer of each physical shard's primary, by physical shard number (one may hold no logical shard).
    const shards = ctx.plan.directory.physicalShards.map((s) => shardHost(ctx.plan, s.physicalShard).address);
    const p = appPaths(ctx, host);
    const env = appEnvironmentVariables({
        workers: ctx.plan.workers,
        logicalShards: ctx.plan.logicalShards,
        shardMap: ctx.plan.shardMap,
        pgbouncerHosts: shards,
        redisHost: hostsOf(ctx.plan, "redis-primary")[0].address,
        memcachedHosts: hostsOf(ctx.plan, "memcached").map((h) => h.address),
        mediaDir: mediaDir(ctx),
        mediaBaseUrl: `https://${edgeHost(ctx.plan).address}/media`,
        region: "local",
        maxUploadMiB: MAX_UPLOAD_MIB,
        statsFile: p.stats,
        shardDirectory: directoryPath(ctx.dir),
        gearmanHosts: hostsOf(ctx.plan, "gearman").map((h) => h.address),
        jobWorkers: runsJobWorkers(ctx, host) ? ctx.plan.jobWorkers : 0,
        push: ctx.plan.push,
        searchHost: searchPrimary(ctx.plan)?.address,
        searchStandbyHost: hostsOf(ctx.plan, "search-standby")[0]?.address,
        ...(ctx.plan.providedCredentials["sentry-dsn"] ? { errorReports: { environment: "local" } } : {}),
    });
    const standIn = ctx.plan.pushStandIn;
    const pushLocal = {
        ...(standIn.apnsEndpoint ? { [APP_ENV.apnsEndpoint]: standIn.apnsEndpoint } : {}),
        ...(standIn.fcmEndpoint ? { [APP_ENV.fcmEndpoint]: standIn.fcmEndpoint } : {}),
        ...(standIn.caFile ? { NODE_EXTRA_CA_CERTS: pushCaPath(ctx, host) } : {}),
    };
    // Every client of the one-machine stack is this machine, so a per-address limit would be one limit for
    // all of them (the tests' load loops sign up hundreds of users); the per-username login limit stays.
    return { ...env, ...pushLocal, [APP_ENV.authLimitPerAddress]: "100000/60", [APP_ENV.loginFailuresPerAddress]: "100000/60", CREDENTIALS_DIRECTORY: p.credentials };
}

function installRelease(ctx: LocalContext, host: LocalHost, bundle: NonNullable<StartEnv["bundle"]>): void {
    const p = appPaths(ctx, host);
    const r = spawnSync("sh", [path.join(SCRIPTS_DIR, "app-install.sh"), bundle.path, bundle.sha256], {
        env: { PATH: process.env.PATH!, INSTAGRAM_ARTIFACT_FETCH: "cp", INSTAGRAM_APP_HOME: p.home, INSTAGRAM_UNIT_DIR: path.join(hostDir(ctx, host), "systemd"), INSTAGRAM_CREDENTIAL_ROOT: hostDir(ctx, host) },
        encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`${host.name}: instagram-app-install failed: ${r.stderr}`);
}

/** The release installed and the unit's credentials in place: what both the app server and the job workers start from. */
function prepareReleaseHost(ctx: LocalContext, host: LocalHost, env: StartEnv): void {
    if (!env.bundle) throw new Error("no app bundle was built");
    installRelease(ctx, host, env.bundle);
    const p = appPaths(ctx, host);
    const www = account("www-data");
    ownedDir(p.credentials, www, 0o700);
    writeFileAs(path.join(p.credentials, "postgres-app"), env.secrets["postgres-app"], 0o600, www);
    writeFileAs(path.join(p.credentials, "redis-auth"), env.secrets["redis-auth"], 0o600, www);
    writeFileAs(path.join(p.credentials, "search-app"), env.secrets["search-app"], 0o600, www);
    if (ctx.plan.pushStandIn.caFile) writeFileAs(pushCaPath(ctx, host), fs.readFileSync(ctx.plan.pushStandIn.caFile, "utf8"), 0o600, www);
    // As on a host: a credential the stack does not set (push, Sentry) is an empty file (that feature is off).
    for (const name of PROVIDED_SECRETS) writeFileAs(path.join(p.credentials, name), ctx.plan.providedCredentials[name] ?? "", 0o600, www);
}

export const appServerService: LocalService = {
    daemon: "instagram-app",
    async start(ctx, host, env) {
        const pids = pidFile(ctx, host, "instagram-app");
        if (runningPid(pids) !== undefined) return "running";
        prepareReleaseHost(ctx, host, env);
        const p = appPaths(ctx, host);
        const www = account("www-data");
        ownedDir(p.run, www, 0o750);
        ownedDir(mediaDir(ctx), www, 0o755);
        const log = logFile(ctx, host, "instagram-app");
        const pid = startDetached(path.join(p.home, "current", "bin", "instagram-app"), ["serve", "--bind", `unix:${p.socket}`, "--workers", String(ctx.plan.workers)], {
            pidFile: pids,
            logFile: log,
            account: www,
            env: { PATH: process.env.PATH!, NODE_ENV: "production", ...localAppEnv(ctx, host) },
        });
        const deadline = Date.now() + 30_000;
        for (;;) {
            const reply = await httpGet({ socketPath: p.socket, path: "/healthz" }).catch(() => undefined);
            if (reply?.status === 200) break;
            if (runningPid(pids) !== pid) throw new Error(`${host.name}: the app server exited; ${log} ends:\n${tail(log)}`);
            if (Date.now() > deadline) throw new Error(`${host.name}: the app server did not answer /healthz within 30 s; ${log} ends:\n${tail(log)}`);
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
        return "started";
    },
    // TERM drains in-flight requests (graceful timeout 30 s), as systemd stops the unit.
    stop: (ctx, host) => stopPidFile(pidFile(ctx, host, "instagram-app"), "SIGTERM", 45_000),
    async status(ctx, host): Promise<ServiceStatus> {
        if (runningPid(pidFile(ctx, host, "instagram-app")) === undefined) return { ok: false, detail: "not running" };
        const reply = await httpGet({ socketPath: appPaths(ctx, host).socket, path: "/readyz" }).catch((e: Error) => ({ status: 0, body: e.message }));
        let detail = `/readyz ${reply.status}`;
        try {
            const problems = (JSON.parse(reply.body) as { problems?: string[] }).problems ?? [];
            if (problems.length) detail += `: ${problems.join("; ")}`;
        } catch {
            // not JSON
        }
        return { ok: reply.status === 200, detail };
    },
};

/** `instagram-app work` as the work unit starts it: the host's job workers, taking jobs from every gearmand. */
export const jobWorkersService: LocalService = {
    daemon: "instagram-work",
    async start(ctx, host, env) {
        if (!runsJobWorkers(ctx, host)) return "skipped";
        const pids = pidFile(ctx, host, "instagram-work");
        if (runningPid(pids) !== undefined) return "running";
        prepareReleaseHost(ctx, host, env);
        const p = appPaths(ctx, host);
        const www = account("www-data");
        ownedDir(p.workRun, www, 0o750);
        const log = logFile(ctx, host, "instagram-work");
        const pid = startDetached(path.join(p.home, "current", "bin", "instagram-app"), ["work", "--workers", String(ctx.plan.jobWorkers), "--stats-file", p.workStats], {
            pidFile: pids,
            logFile: log,
            account: www,
            env: { PATH: process.env.PATH!, NODE_ENV: "production", ...localAppEnv(ctx, host) },
        });
        // Serving, for a job worker, is being registered with the job servers: the master logs its workers' boots.
        const deadline = Date.now() + 30_000;
        while (!/Booting worker/.test(tail(log))) {
            if (runningPid(pids) !== pid) throw new Error(`${host.name}: the job workers exited; ${log} ends:\n${tail(log)}`);
            if (Date.now() > deadline) throw new Error(`${host.name}: the job workers did not boot within 30 s; ${log} ends:\n${tail(log)}`);
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
        return "started";
    },
    // TERM lets each worker finish the job in hand (graceful timeout 30 s), as systemd stops the unit.
    stop: (ctx, host) => stopPidFile(pidFile(ctx, host, "instagram-work"), "SIGTERM", 45_000),
    async status(ctx, host) {
        if (!runsJobWorkers(ctx, host)) return { ok: true, detail: "not on this host" };
        if (runningPid(pidFile(ctx, host, "instagram-work")) === undefined) return { ok: false, detail: "not running" };
        return { ok: true, detail: `${ctx.plan.jobWorkers} job workers` };
    },
};

export const appNginxService: LocalService = {
    daemon: "nginx",
    async start(ctx, host) {
        const dir = hostDir(ctx, host, "nginx");
        const conf = nginxMainConf(dir, nginxAppSite({
            listen: `${host.address}:80`,
            upstreamSocket: appPaths(ctx, host).socket,
            // The edge connects from 127.0.0.1 (loopback's source address), as the load balancer from the VPC.
            trustedProxyCidrs: ["127.0.0.0/8"],
            maxUploadMiB: MAX_UPLOAD_MIB,
        }));
        return startDaemon(ctx, host, "nginx", { command: "nginx", args: ["-c", conf], port: 80, timeoutMs: 10_000 });
    },
    stop: (ctx, host) => stopPidFile(pidFile(ctx, host, "nginx"), "SIGQUIT", 10_000),
    async status(ctx, host) {
        if (runningPid(pidFile(ctx, host, "nginx")) === undefined) return { ok: false, detail: "not running" };
        const reply = await httpGet({ host: host.address, port: 80, path: "/nginx-health" }).catch((e: Error) => ({ status: 0, body: e.message }));
        return { ok: reply.status === 200, detail: `/nginx-health ${reply.status || reply.body}` };
    },
};
