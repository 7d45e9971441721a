/**
 * CPU time by daemon on the one-machine stack, read from /proc: each daemon's process tree (the master from
 * its pid file, and every live descendant: nginx and app workers, PostgreSQL backends, Redis's save
 * child), counting user + system time of the live processes and what their reaped children used (cutime,
 * cstime), so a backend that exits during a run still counts. For the benchmark's "CPU per request" table.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import { LocalContext, pidFile } from "../local/context";
import { hostsOf, LocalRole } from "../local/plan";
import { runningPid } from "../local/processes";
import { postmasterPid, shardPaths } from "../local/services/postgres";

export const DAEMON_TIERS = ["edge nginx", "app nginx", "app workers", "pgbouncer", "PostgreSQL", "Redis", "memcached"] as const;
export type DaemonTier = (typeof DAEMON_TIERS)[number];

const TICKS_PER_SECOND = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

interface ProcStat { ppid: number; ticks: number }

function readStats(): Map<number, ProcStat> {
    const stats = new Map<number, ProcStat>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const text = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            // The command may hold spaces and parentheses: fields start after the last ')'.
            const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
            // fields[0] is state (stat field 3): ppid is field 4, utime..cstime fields 14-17.
            const [utime, stime, cutime, cstime] = [fields[11], fields[12], fields[13], fields[14]].map(Number);
            stats.set(Number(entry), { ppid: Number(fields[1]), ticks: utime + stime + cutime + cstime });
        } catch {
            // the process exited while we looked
        }
    }
    return stats;
}

/** The root pids of each tier's daemons on this stack. */
function tierRoots(ctx: LocalContext): Map<DaemonTier, number[]> {
    const pidOf = (role: LocalRole, daemon: string) => hostsOf(ctx.plan, role).map((h) => runningPid(pidFile(ctx, h, daemon)));
    const roots: [DaemonTier, (number | undefined)[]][] = [
        ["edge nginx", pidOf("edge", "nginx")],
        ["app nginx", pidOf("app", "nginx")],
        ["app workers", pidOf("app", "instagram-app")],
        ["pgbouncer", pidOf("shard-primary", "pgbouncer")],
        ["PostgreSQL", hostsOf(ctx.plan, "shard-primary", "shard-standby").map((h) => postmasterPid(shardPaths(ctx, h)))],
        ["Redis", [...pidOf("redis-primary", "redis"), ...pidOf("redis-replica", "redis")]],
        ["memcached", pidOf("memcached", "memcached")],
    ];
    return new Map(roots.map(([tier, pids]) => [tier, pids.filter((p): p is number => p !== undefined)]));
}

/** CPU seconds each tier has used so far (its live process trees). */
export function cpuByTier(ctx: LocalContext): Map<DaemonTier, number> {
    const stats = readStats();
    const children = new Map<number, number[]>();
    for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
    const treeTicks = (pid: number): number => (stats.get(pid)?.ticks ?? 0) + (children.get(pid) ?? []).reduce((sum, c) => sum + treeTicks(c), 0);
    const result = new Map<DaemonTier, number>();
    for (const [tier, roots] of tierRoots(ctx)) result.set(tier, roots.reduce((sum, pid) => sum + treeTicks(pid), 0) / TICKS_PER_SECOND);
    return result;
}

/** µs of CPU per request by tier between two readings. */
export function cpuPerRequest(before: Map<DaemonTier, number>, after: Map<DaemonTier, number>, requests: number): Map<DaemonTier, number> {
    return new Map(DAEMON_TIERS.map((t) => [t, requests > 0 ? (((after.get(t) ?? 0) - (before.get(t) ?? 0)) * 1e6) / requests : NaN]));
}
