/** gearmand job servers, with the gearman role's arguments (in the foreground) and its SQLite queue in the host's directory. */
import { spawnSync } from "child_process";
import * as path from "path";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";
import { account, hostDir, LocalContext, ownedDir, pidFile } from "../context";
import { canConnect, runningPid, stopPidFile } from "../processes";
import { gearmandArgs } from "../../cloud-init/configs/gearman";
import { LocalService, startDaemon } from "./service";
import { LocalHost } from "../plan";
import { PORTS } from "../../core/ports";

/** The host's queue: it outlives `down` and `up`, as /var/lib/gearman does a restart. */
export function gearmanQueueFile(ctx: LocalContext, host: LocalHost): string {
    return path.join(hostDir(ctx, host, "gearman"), "queue.sqlite3");
}

export const gearmandService: LocalService = {
    daemon: "gearmand",
    async start(ctx, host) {
        // As root, gearmand runs as the package's own user, as Debian's unit does; its queue and log are its own.
        const gearman = account("gearman");
        const dir = ownedDir(hostDir(ctx, host, "gearman"), gearman, 0o750);
        const args = gearmandArgs({ listenAddress: host.address, queueFile: gearmanQueueFile(ctx, host), logFile: path.join(dir, "gearmand.log") }).filter((a) => a !== "--daemon");
        const init = spawnSync("sh", [path.join(SCRIPTS_DIR, "gearman-queue-init.sh"), gearmanQueueFile(ctx, host)], { uid: gearman.uid, gid: gearman.gid, encoding: "utf8" });
        if (init.status !== 0) throw new Error(`${host.name}: gearman-queue-init failed: ${init.stderr}`);
        return startDaemon(ctx, host, "gearmand", { command: "gearmand", args, account: gearman, port: PORTS.gearman });
    },
    // TERM: gearmand closes its queue and exits; the jobs stay in the SQLite file.
    stop: (ctx, host) => stopPidFile(pidFile(ctx, host, "gearmand"), "SIGTERM", 10_000),
    async status(ctx, host) {
        if (runningPid(pidFile(ctx, host, "gearmand")) === undefined) return { ok: false, detail: "not running" };
        const up = await canConnect(host.address, PORTS.gearman);
        return { ok: up, detail: up ? "answering" : "not answering" };
    },
};
