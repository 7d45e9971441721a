/**
 * up, down, status, logs and promote for the one-machine stack: which services each role runs, in what
 * order they start (data tiers first, the edge last) and stop (the reverse), with a progress line per
 * host and daemon.
 */
import * as fs from "fs";
import * as path from "path";
import { LocalContext, ensureSecrets, hostDir } from "./context";
import { edgeHost, hostNamed, LocalHost, LocalPlan, LocalRole } from "./plan";
import { LocalState } from "./state";
import { LocalService, ServiceStatus, StartEnv } from "./services/service";
import { postgresService, promoteStandby, postmasterPid, shardPaths } from "./services/postgres";
import { pgbouncerService } from "./services/pgbouncer";
import { redisService } from "./services/redis";
import { memcachedService } from "./services/memcached";
import { appNginxService, appServerService, jobWorkersService } from "./services/app";
import { gearmandService } from "./services/gearman";
import { edgeService, edgeCertificate, httpsGet } from "./services/edge";
import { muninNodeService } from "./services/munin-node";
import { muninMasterService } from "./services/munin-master";
import { buildAppBundle, BundleManifest } from "../delivery/build";
import { appSourceHash } from "../delivery/sources";
import { PORTS } from "../core/ports";
import { withEndpoint } from "../core/shard-directory";
import { readLocalDirectory, writeLocalDirectory } from "./shard-directory";

export const SERVICES: Record<LocalRole, readonly LocalService[]> = {
    "shard-primary": [postgresService, pgbouncerService, muninNodeService],
    "shard-standby": [postgresService, pgbouncerService, muninNodeService],
    "search-primary": [postgresService, pgbouncerService, muninNodeService],
    "search-standby": [postgresService, pgbouncerService, muninNodeService],
    "redis-primary": [redisService, muninNodeService],
    "redis-replica": [redisService, muninNodeService],
    memcached: [memcachedService, muninNodeService],
    gearman: [gearmandService, muninNodeService],
    app: [appServerService, jobWorkersService, appNginxService, muninNodeService],
    worker: [jobWorkersService, muninNodeService],
    edge: [edgeService],
    munin: [muninMasterService],
};
const START_ORDER: readonly LocalRole[] = ["shard-primary", "shard-standby", "search-primary", "search-standby", "redis-primary", "redis-replica", "memcached", "gearman", "app", "worker", "edge", "munin"];

export function orderedHosts(plan: LocalPlan): LocalHost[] {
    return START_ORDER.flatMap((role) => plan.hosts.filter((h) => h.role === role));
}

/** The app bundle for the current sources, built once into .local/dist and reused while they are unchanged. */
async function ensureBundle(ctx: LocalContext): Promise<BundleManifest> {
    const out = path.join(ctx.dir, "dist");
    try {
        const manifest = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")) as BundleManifest;
        if (manifest.sourceHash === appSourceHash() && fs.existsSync(manifest.path)) return manifest;
    } catch {
        // not built yet
    }
    return buildAppBundle(out);
}

export interface HostServiceStatus extends ServiceStatus {
    readonly host: LocalHost;
    readonly daemon: string;
}

export async function statusOf(ctx: LocalContext, env: StartEnv): Promise<HostServiceStatus[]> {
    const out: HostServiceStatus[] = [];
    for (const host of orderedHosts(ctx.plan)) {
        for (const service of SERVICES[host.role]) {
            const s = await service.status(ctx, host, env).catch((e: Error) => ({ ok: false, detail: e.message }));
            out.push({ host, daemon: service.daemon, ...s });
        }
    }
    return out;
}

export function envOf(ctx: LocalContext, state: LocalState): StartEnv {
    return { secrets: ensureSecrets(ctx), failedOver: state.failedOver };
}

/** Start everything that is not running; returns the number of daemons started. */
export async function up(ctx: LocalContext, state: LocalState): Promise<number> {
    const env: StartEnv = { ...envOf(ctx, state), bundle: await (async () => {
        const started = Date.now();
        const b = await ensureBundle(ctx);
        ctx.progress("-", "app bundle", `${b.sha256.slice(0, 12)} (${Math.round(b.bytes / 1024)} KiB) ready in ${Date.now() - started} ms`);
        return { path: b.path, sha256: b.sha256 };
    })() };
    let started = 0;
    for (const host of orderedHosts(ctx.plan)) {
        for (const service of SERVICES[host.role]) {
            const t0 = Date.now();
            const result = await service.start(ctx, host, env);
            if (result === "started") started++;
            ctx.progress(host.name, service.daemon, `${result}${result === "started" ? ` in ${((Date.now() - t0) / 1000).toFixed(1)} s` : ""} (${host.address})`);
        }
    }
    return started;
}

export async function down(ctx: LocalContext): Promise<void> {
    for (const host of orderedHosts(ctx.plan).reverse()) {
        for (const service of [...SERVICES[host.role]].reverse()) {
            const t0 = Date.now();
            const result = await service.stop(ctx, host);
            ctx.progress(host.name, service.daemon, `${result}${result === "not running" ? "" : ` in ${((Date.now() - t0) / 1000).toFixed(1)} s`}`);
        }
    }
}

/** Waits (bounded) for the site's /readyz through the edge; returns the last answer. */
export async function waitForSite(ctx: LocalContext, timeoutMs: number): Promise<{ status: number; body: string }> {
    const edge = edgeHost(ctx.plan);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const reply = await httpsGet(ctx, edge.address, "/readyz").catch((e: Error) => ({ status: 0, body: e.message }));
        if (reply.status === 200 || Date.now() > deadline) return reply;
        await new Promise((resolve) => setTimeout(resolve, 500));
    }
}

export function siteLines(ctx: LocalContext): string[] {
    const edge = edgeHost(ctx.plan);
    return [
        `site:  https://${edge.address}/   (certificate: ${edgeCertificate(ctx)}; curl --cacert it, or -k)`,
        `media: https://${edge.address}/media/   munin: ${path.join(hostDir(ctx, "munin"), "www", "index.html")}`,
    ];
}

/**
 * Promote a shard's standby after its primary is lost: the role's promote script, then the shard directory
 * names the standby's pgbouncer as the shard's endpoint (the app hosts route by it within seconds), and the
 * old primary's pgbouncer is re-pointed at the new primary for whoever still has the old address.
 */
export async function promote(ctx: LocalContext, state: LocalState, shard: number): Promise<LocalState> {
    const standby = hostNamed(ctx.plan, `shard-${shard}-standby`);
    const primary = hostNamed(ctx.plan, `shard-${shard}-primary`);
    if (!standby || !primary) throw new Error(`shard ${shard} has no standby to promote (instagram:shardStandby, physicalShards)`);
    if (state.failedOver.includes(shard)) throw new Error(`shard ${shard}'s standby was already promoted`);
    if (postmasterPid(shardPaths(ctx, primary)) !== undefined) {
        throw new Error(`shard ${shard}'s primary is still running: promoting now would leave two primaries; stop it first`);
    }
    promoteStandby(ctx, standby);
    ctx.progress(standby.name, "postgres", "promoted to primary");
    const directory = readLocalDirectory(ctx.dir);
    if (!directory) throw new Error(`no shard directory in ${ctx.dir}: \`up\` writes it`);
    const endpoint = `${standby.address}:${PORTS.pgbouncer}`;
    writeLocalDirectory(ctx.dir, withEndpoint(directory, shard, endpoint, true));
    ctx.progress(standby.name, "directory", `physical shard ${shard} is now served from ${endpoint}`);
    const next: LocalState = { ...state, failedOver: [...state.failedOver, shard] };
    const env = envOf(ctx, next);
    await pgbouncerService.stop(ctx, primary);
    await pgbouncerService.start(ctx, primary, env);
    ctx.progress(primary.name, "pgbouncer", `now sends shard ${shard} to ${standby.address}:${PORTS.postgres}`);
    return next;
}
