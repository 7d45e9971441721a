/**
 * munin-node on every local host, with the role's munin-node.conf (answering only the Munin master's
 * address and loopback). munin-node always reads its plugins from /etc/munin/plugins and their settings
 * from /etc/munin/plugin-conf.d, so each runs in its own mount namespace where the host's directories are
 * bound over those two: every host has its own plugins, as on EC2, and the machine's /etc is untouched.
 */
import * as fs from "fs";
import * as path from "path";
import { hostDir, LocalContext, logFile, ownedDir, pidFile, writeFileAs } from "../context";
import { hostsOf, isDatabaseHost, LocalHost } from "../plan";
import { canConnect, runningPid, stopPidFile } from "../processes";
import { muninNodeConf } from "../../cloud-init/configs/munin-node";
import { muninInstagramPluginConf } from "../../cloud-init/roles/app";
import { APP_COUNTERS } from "../../core/app-contract";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";
import { appPaths, runsJobWorkers } from "./app";
import { muninGearmanPluginConf } from "../../cloud-init/configs/gearman";
import { shardPaths } from "./postgres";
import { BACKUP_MUNIN_GRAPHS, muninBackupPluginConf, postgresMuninLinks } from "../../cloud-init/roles/postgres";
import { DATABASE, SEARCH_DATABASE } from "../../core/database";
import { LocalService, startDaemon } from "./service";
import { PORTS } from "../../core/ports";

/** Plugins every host reports (from the munin-node package), as the package enables them by default. */
const SYSTEM_PLUGINS = ["cpu", "load", "memory"];

function preparePlugins(ctx: LocalContext, host: LocalHost): { plugins: string; conf: string } {
    const dir = hostDir(ctx, host, "munin");
    const plugins = path.join(dir, "plugins");
    const conf = path.join(dir, "plugin-conf.d");
    fs.rmSync(plugins, { recursive: true, force: true });
    ownedDir(plugins);
    ownedDir(conf);
    for (const plugin of SYSTEM_PLUGINS) {
        const target = `/usr/share/munin/plugins/${plugin}`;
        if (fs.existsSync(target)) fs.symlinkSync(target, path.join(plugins, plugin));
    }
    if (host.role === "app" || host.role === "worker") {
        const script = path.join(dir, "instagram_");
        fs.copyFileSync(path.join(SCRIPTS_DIR, "munin-instagram.sh"), script);
        fs.chmodSync(script, 0o755);
        const jobs = runsJobWorkers(ctx, host);
        const counters = [...(host.role === "app" ? APP_COUNTERS : []), ...(jobs ? ["jobs", "push"] : [])];
        for (const counter of counters) fs.symlinkSync(script, path.join(plugins, `instagram_${counter}`));
        writeFileAs(path.join(conf, "instagram"), muninInstagramPluginConf(appPaths(ctx, host).stats, jobs ? appPaths(ctx, host).workStats : undefined));
    }
    if (host.role === "gearman") {
        const script = path.join(dir, "gearman_");
        fs.copyFileSync(path.join(SCRIPTS_DIR, "munin-gearman.sh"), script);
        fs.chmodSync(script, 0o755);
        for (const graph of ["queue", "workers"]) fs.symlinkSync(script, path.join(plugins, `gearman_${graph}`));
        writeFileAs(path.join(conf, "gearman"), muninGearmanPluginConf(host.address));
    }
    if (isDatabaseHost(host)) {
        // The role's PostgreSQL plugins, asking this host's own socket directory.
        for (const [, , target, link] of postgresMuninLinks(host.shard ? DATABASE : SEARCH_DATABASE)) {
            if (fs.existsSync(target)) fs.symlinkSync(target, path.join(plugins, path.basename(link)));
        }
        writeFileAs(path.join(conf, "instagram-postgres"), `[postgres_*]\nuser postgres\nenv.PGUSER postgres\nenv.PGHOST ${shardPaths(ctx, host).sockets}\n`);
    }
    if (host.role === "shard-primary" || host.role === "shard-standby") {
        const script = path.join(dir, "instagram_backup");
        fs.copyFileSync(path.join(SCRIPTS_DIR, "munin-backup.sh"), script);
        fs.chmodSync(script, 0o755);
        for (const graph of BACKUP_MUNIN_GRAPHS) fs.symlinkSync(script, path.join(plugins, `instagram_${graph}`));
        const shard = shardPaths(ctx, host);
        writeFileAs(path.join(conf, "instagram-backup"), muninBackupPluginConf(shard.env, shard.sockets));
    }
    return { plugins, conf };
}

export const muninNodeService: LocalService = {
    daemon: "munin-node",
    async start(ctx, host) {
        if (runningPid(pidFile(ctx, host, "munin-node")) !== undefined) return "running";
        const { plugins, conf } = preparePlugins(ctx, host);
        const dir = hostDir(ctx, host, "munin");
        const nodeConf = path.join(dir, "munin-node.conf");
        writeFileAs(nodeConf, muninNodeConf({
            hostname: host.name,
            masterIp: hostsOf(ctx.plan, "munin")[0].address,
            bindAddress: host.address,
            foreground: true,
            logFile: logFile(ctx, host, "munin-node"),
            pidFile: path.join(dir, "munin-node.pid"),
        }));
        const script = [
            `mount --bind '${plugins}' /etc/munin/plugins`,
            `mount --bind '${conf}' /etc/munin/plugin-conf.d`,
            `exec munin-node --config '${nodeConf}' --foreground`,
        ].join(" && ");
        return startDaemon(ctx, host, "munin-node", { command: "unshare", args: ["--mount", "--propagation", "private", "sh", "-c", script], port: PORTS.muninNode });
    },
    stop: (ctx, host) => stopPidFile(pidFile(ctx, host, "munin-node"), "SIGTERM", 10_000),
    async status(ctx, host) {
        if (runningPid(pidFile(ctx, host, "munin-node")) === undefined) return { ok: false, detail: "not running" };
        const up = await canConnect(host.address, PORTS.muninNode);
        return { ok: up, detail: up ? "answering" : "not answering" };
    },
};
