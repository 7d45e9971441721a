/** memcached nodes, with the role's generated options (Debian's memcached.conf: one option per line). */
import { LocalContext, pidFile } from "../context";
import { canConnect, runningPid, stopPidFile } from "../processes";
import { memcachedConf } from "../../cloud-init/configs/memcached";
import { memcachedSizing } from "../../core/sizing";
import { LocalService, startDaemon } from "./service";
import { PORTS } from "../../core/ports";

export const LOCAL_MEMCACHED_MIB = 64;

/** The role's memcached.conf lines as argv; not root, the daemon cannot switch user (-u). */
export function memcachedArgs(ctx: LocalContext, address: string): string[] {
    const clients = ctx.plan.hosts.filter((h) => h.role === "app").length * ctx.plan.workers;
    const conf = memcachedConf({ sizing: { ...memcachedSizing("t3.small", clients), memoryMiB: LOCAL_MEMCACHED_MIB }, listenAddress: address });
    const lines = conf.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#") && !(l.startsWith("-logfile") || l.startsWith("logfile")));
    const args = lines.flatMap((l) => l.split(/\s+/));
    if (process.getuid?.() !== 0) {
        const u = args.indexOf("-u");
        if (u >= 0) args.splice(u, 2);
    }
    return args;
}

export const memcachedService: LocalService = {
    daemon: "memcached",
    start: (ctx, host) => startDaemon(ctx, host, "memcached", { command: "memcached", args: memcachedArgs(ctx, host.address), port: PORTS.memcached }),
    stop: (ctx, host) => stopPidFile(pidFile(ctx, host, "memcached"), "SIGTERM", 10_000),
    async status(ctx, host) {
        if (runningPid(pidFile(ctx, host, "memcached")) === undefined) return { ok: false, detail: "not running" };
        const up = await canConnect(host.address, PORTS.memcached);
        return { ok: up, detail: up ? "answering" : "not answering" };
    },
};
