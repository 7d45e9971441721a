/**
 * pgbouncer on each shard host, from the role's generator, in front of that host's PostgreSQL. After a
 * failover, the old primary's pgbouncer stays at its address (the one the app servers know) and sends the
 * shard's connections to the promoted standby: the app recovers with no change to its configuration.
 */
import * as path from "path";
import { account, hostDir, LocalContext, pidFile, writeFileAs } from "../context";
import { LocalHost, shardHost } from "../plan";
import { canConnect, runningPid, stopPidFile } from "../processes";
import { pgbouncerIni } from "../../cloud-init/configs/pgbouncer";
import { DATABASE, DB_ROLES as ROLES, SEARCH_DATABASE } from "../../core/database";
import { localPostgresSizing, shardPaths } from "./postgres";
import { LocalService, startDaemon, StartEnv } from "./service";
import { PORTS } from "../../core/ports";

/** Where this host's pgbouncer sends connections: its own PostgreSQL, or the promoted standby's. */
export function pgbouncerTarget(ctx: LocalContext, host: LocalHost, failedOver: readonly number[]): LocalHost {
    if (host.role === "shard-primary" && failedOver.includes(host.shard!.physicalShard)) {
        return shardHost(ctx.plan, host.shard!.physicalShard, "standby");
    }
    return host;
}

function writeIni(ctx: LocalContext, host: LocalHost, env: StartEnv): string {
    const target = pgbouncerTarget(ctx, host, env.failedOver);
    const ini = path.join(hostDir(ctx, host), "pgbouncer.ini");
    writeFileAs(ini, pgbouncerIni({
        sizing: localPostgresSizing(ctx.plan),
        database: host.shard ? DATABASE : SEARCH_DATABASE,
        listenAddress: host.address,
        postgresHost: target.address,
        // The boot script writes the auth user's entry on the host that runs PostgreSQL.
        authFile: shardPaths(ctx, target).userlist,
        authUser: ROLES.pgbouncer,
        unixSocketDir: shardPaths(ctx, host).sockets,
    }), 0o640, account("postgres"));
    return ini;
}

export const pgbouncerService: LocalService = {
    daemon: "pgbouncer",
    async start(ctx, host, env) {
        const ini = writeIni(ctx, host, env);
        return startDaemon(ctx, host, "pgbouncer", { command: "pgbouncer", args: [ini], account: account("postgres"), port: PORTS.pgbouncer });
    },
    stop: (ctx, host) => stopPidFile(pidFile(ctx, host, "pgbouncer"), "SIGINT", 10_000),
    async status(ctx, host, env) {
        if (runningPid(pidFile(ctx, host, "pgbouncer")) === undefined) return { ok: false, detail: "not running" };
        const target = pgbouncerTarget(ctx, host, env.failedOver);
        const up = await canConnect(host.address, PORTS.pgbouncer);
        return { ok: up, detail: `${up ? "listening" : "not answering"} on ${host.address}:${PORTS.pgbouncer} -> ${target.address}:${PORTS.postgres}` };
    },
};
