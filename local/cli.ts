/**
 * `npm run local -- COMMAND [options]`: the whole stack on this machine, from the same stack config and role
 * files as EC2 (see README, "The stack on one machine").
 *   up [--stack NAME] [--set KEY=VALUE]... [--net 127.0.20] [--workers N]   start every host's daemons
 *      [--apns-endpoint URL] [--fcm-endpoint URL] [--push-ca FILE]   push to loopback stand-ins (see README)
 *   down                     stop them all (PostgreSQL cleanly, Redis saved); data stays in .local/
 *   status                   each host's daemons and their health; exit 1 if any is unhealthy
 *   logs HOST|ROLE [--lines N]   the end of a host's (or every host of a role's) logs
 *   promote SHARD            promote a shard's standby after its primary is lost; the directory names it
 *   shards status            where each logical shard lives (the stack's shard directory), moves under way
 *   shards move FIRST-LAST --to P [--rollback]   move logical shards to physical shard P (resumes a stopped
 *                            move; --rollback undoes what is not finished)
 *   shards cleanup           drop the read-only copies moves left behind
 *   search reindex           rebuild the search index from the shards (searches go on meanwhile)
 *   backup SHARD [--type full|diff|incr]   a pgBackRest backup of a shard now (up takes the first full one)
 *   backup redis             a Redis dump now (.local/backups/redis), from the replica
 *   restore redis [--from FILE] [--force]   load the latest Redis dump (or FILE) into the Redis primary
 *   restore SHARD --to TIME|latest [--timeline N] [--force] [--dry-run]   point-in-time recovery of a shard from its
 *                            repository (.local/backups); then its standby is rebuilt and memcached emptied
 *   install-deps             apt-get install what is missing (root)
 * Common: --dir DIR (default .local in the project). Exit 2 on bad usage, 1 on failure.
 */
import * as fs from "fs";
import * as path from "path";
import { CONFIG_KEYS, ConfigError } from "../core/config";
import { PROJECT_ROOT } from "../delivery/sources";
import { LocalContext, logFile } from "./context";
import { contextFor, requireState } from "./session";
import { installDeps, missingMessage, missingRequirements } from "./deps";
import { LocalPlanError, PushStandIn, shardHost } from "./plan";
import { directoryPath, writeLocalDirectory } from "./shard-directory";
import { describeDirectory, withPrimaryAddresses } from "../core/shard-directory";
import { cleanupLine, cleanUpMovedCopies, moveLogicalShards, MoveError, moveReportLines, moveStatus, parseLogicalRange, rollBackMove } from "../core/shard-move";
import { localMoveDriver } from "./shard-move";
import { down, envOf, orderedHosts, promote, SERVICES, siteLines, statusOf, up, waitForSite } from "./stack";
import { LocalState, readState, sameStack, takeLock, writeState } from "./state";
import { tail } from "./processes";
import { reindexSearch } from "./search";
import { BACKUP_TYPES, BackupType, backupRedis, backupShard, restoreRedis, restoreShard } from "./backup";

const USAGE = `usage: npm run local -- up [--stack NAME] [--set KEY=VALUE]... [--net 127.0.20] [--workers N] [--dir DIR]
                 [--apns-endpoint https://127.x.y.z:PORT] [--fcm-endpoint https://127.x.y.z:PORT] [--push-ca FILE]
       npm run local -- down | status | logs HOST|ROLE [--lines N] | promote SHARD | install-deps   [--dir DIR]
       npm run local -- shards status | shards move FIRST-LAST --to P [--rollback] | shards cleanup   [--dir DIR]
       npm run local -- search reindex   [--dir DIR]
       npm run local -- backup SHARD [--type full|diff|incr] | restore SHARD --to TIME|latest [--timeline N] [--force] [--dry-run]   [--dir DIR]
       npm run local -- backup redis | restore redis [--from FILE] [--force]   [--dir DIR]`;

class UsageError extends Error {}

interface Args {
    command: string;
    positional: string[];
    stack?: string;
    overrides: Record<string, unknown>;
    /** up: APNs/FCM stand-ins instead of Apple and Google. */
    pushStandIn?: PushStandIn;
    net?: string;
    workers?: number;
    dir: string;
    lines: number;
    /** shards move: the destination physical shard (a number); restore: the target time or "latest". */
    to?: string;
    rollback: boolean;
    /** backup: full, diff or incr. */
    type?: BackupType;
    /** restore: replace a running primary's data; only say what would be restored. */
    force: boolean;
    dryRun: boolean;
    /** restore: the (older) timeline the target time is on. */
    timeline?: number;
    /** restore redis: the dump to load instead of the latest. */
    from?: string;
}

/** --set instagram:appServers=2: numbers, booleans and JSON arrays as Pulumi config would hold them. */
function parseSet(text: string): [string, unknown] {
    const eq = text.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set ${text}: expected KEY=VALUE, such as instagram:appServers=2`);
    const key = text.slice(0, eq);
    const raw = text.slice(eq + 1);
    if (!/^[a-z]+:[A-Za-z0-9]+$/.test(key)) throw new UsageError(`--set ${text}: ${key} is not a config key such as instagram:appServers`);
    // A secret (the push credentials) comes from a file, so the state directory keeps its path, never its text.
    if (CONFIG_KEYS.some((k) => k.key === key && k.secret)) {
        if (!raw.startsWith("@")) throw new UsageError(`--set ${key}=...: ${key} is a secret; pass its file as ${key}=@FILE`);
        return [key, `@${path.resolve(raw.slice(1))}`];
    }
    if (/^-?\d+$/.test(raw)) return [key, Number(raw)];
    if (raw === "true" || raw === "false") return [key, raw === "true"];
    if (raw.startsWith("[")) {
        try {
            return [key, JSON.parse(raw)];
        } catch {
            throw new UsageError(`--set ${text}: the value is not a JSON list`);
        }
    }
    return [key, raw];
}

export function parseArgs(argv: readonly string[]): Args {
    const args: Args = { command: "", positional: [], overrides: {}, dir: path.join(PROJECT_ROOT, ".local"), lines: 40, rollback: false, force: false, dryRun: false };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new UsageError(`${arg} needs a value`);
            return v;
        };
        if (arg === "--stack") args.stack = value();
        else if (arg === "--set") { const [k, v] = parseSet(value()); args.overrides[k] = v; }
        else if (arg === "--net") args.net = value();
        else if (arg === "--apns-endpoint" || arg === "--fcm-endpoint") {
            const raw = value();
            if (!/^https:\/\/127\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d{1,5}$/.test(raw)) throw new UsageError(`${arg} ${raw}: must be a stand-in on loopback, https://127.x.y.z:PORT (the one-machine stack sends nowhere else)`);
            args.pushStandIn = { ...args.pushStandIn, [arg === "--apns-endpoint" ? "apnsEndpoint" : "fcmEndpoint"]: raw };
        } else if (arg === "--push-ca") {
            const file = path.resolve(value());
            if (!fs.existsSync(file)) throw new UsageError(`--push-ca ${file}: no such file (the stand-ins' certificate, PEM)`);
            args.pushStandIn = { ...args.pushStandIn, caFile: file };
        }
        else if (arg === "--dir") args.dir = path.resolve(value());
        else if (arg === "--rollback") args.rollback = true;
        else if (arg === "--force") args.force = true;
        else if (arg === "--dry-run") args.dryRun = true;
        else if (arg === "--to") args.to = value();
        else if (arg === "--from") args.from = path.resolve(value());
        else if (arg === "--timeline") {
            const raw = value();
            if (!/^[1-9]\d{0,8}$/.test(raw)) throw new UsageError(`--timeline ${raw}: must be a timeline number`);
            args.timeline = Number(raw);
        }
        else if (arg === "--type") {
            const raw = value();
            if (!(BACKUP_TYPES as readonly string[]).includes(raw)) throw new UsageError(`--type ${raw}: must be one of ${BACKUP_TYPES.join(", ")}`);
            args.type = raw as BackupType;
        }
        else if (arg === "--workers" || arg === "--lines") {
            const raw = value();
            const n = Number(raw);
            if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`${arg} ${raw}: must be an integer from 1 to 64`);
            if (arg === "--workers") args.workers = n;
            else args.lines = n;
        } else if (arg.startsWith("--")) throw new UsageError(`unknown option ${arg}`);
        else if (!args.command) args.command = arg;
        else args.positional.push(arg);
    }
    if (!["up", "down", "status", "logs", "promote", "shards", "search", "backup", "restore", "install-deps"].includes(args.command)) {
        throw new UsageError(args.command ? `unknown command ${JSON.stringify(args.command)}` : "missing command");
    }
    if (args.command === "shards") {
        const [sub, ...rest] = args.positional;
        if (sub === "move") {
            if (rest.length !== 1 || args.to === undefined) throw new UsageError("shards move takes FIRST-LAST and --to P");
            if (!/^\d{1,3}$/.test(args.to)) throw new UsageError(`--to ${args.to}: must be a physical shard number`);
        } else if (sub === "status" || sub === "cleanup") {
            if (rest.length > 0 || args.to !== undefined || args.rollback) throw new UsageError(`shards ${sub} takes no arguments`);
        } else {
            throw new UsageError(`shards takes a subcommand: status, move or cleanup (got ${JSON.stringify(args.positional.join(" "))})`);
        }
    } else if (args.command === "search") {
        if (args.positional.join(" ") !== "reindex") throw new UsageError(`search takes one subcommand: reindex (got ${JSON.stringify(args.positional.join(" "))})`);
    } else if (args.command === "restore" && args.positional[0] === "redis") {
        if (args.to !== undefined || args.timeline || args.dryRun) throw new UsageError("restore redis loads a dump: it takes --from FILE and --force, not --to, --timeline or --dry-run");
    } else if (args.command === "restore") {
        if (args.to === undefined) throw new UsageError("restore takes --to TIME (such as \"2026-12-01 21:07:30\", UTC) or --to latest");
    }
    if (args.command !== "shards" && args.command !== "restore" && (args.to !== undefined || args.rollback)) {
        throw new UsageError("--to belongs to shards move and restore, --rollback to shards move");
    }
    if (args.command !== "restore" && (args.force || args.dryRun || args.timeline)) throw new UsageError("--force, --dry-run and --timeline belong to restore");
    if (args.command !== "backup" && args.type) throw new UsageError("--type belongs to backup");
    if (args.from && !(args.command === "restore" && args.positional[0] === "redis")) throw new UsageError("--from belongs to restore redis");
    if (args.command === "backup" && args.positional[0] === "redis" && args.type) throw new UsageError("--type belongs to a shard's backup; a Redis dump is always whole");
    const oneArgument = { logs: "one HOST or ROLE", promote: "one SHARD number", backup: "one SHARD number or redis", restore: "one SHARD number or redis" } as Record<string, string>;
    if (args.command !== "shards" && args.command !== "search" && (args.command in oneArgument) !== (args.positional.length === 1)) {
        throw new UsageError(args.command in oneArgument ? `${args.command} takes ${oneArgument[args.command]}` : `${args.command} takes no arguments`);
    }
    const redisToo = args.command === "backup" || args.command === "restore";
    if ((redisToo || args.command === "promote") && !/^\d{1,3}$/.test(args.positional[0]) && !(redisToo && args.positional[0] === "redis")) {
        throw new UsageError(`${args.command} ${args.positional[0]}: not a physical shard number${redisToo ? " (or redis)" : ""}`);
    }
    if (args.command !== "up" && (args.stack || args.net || args.workers || Object.keys(args.overrides).length || args.pushStandIn)) {
        throw new UsageError(`${args.command} acts on the stack \`up\` started; --stack, --set, --net, --workers and the push stand-in options belong to up`);
    }
    return args;
}

async function runUp(args: Args): Promise<number> {
    const missing = missingRequirements();
    if (missing.length > 0) {
        console.error(`local: ${missingMessage(missing)}\nNothing was started.`);
        return 1;
    }
    if (process.getuid?.() !== 0) {
        console.error("local: up must run as root: the hosts listen on ports 80 and 443, and each daemon runs as its own package's user (PostgreSQL refuses root). Nothing was started.");
        return 1;
    }
    const previous = readState(args.dir);
    // Kept from the last `up` like the overrides, unless a new stack is named.
    const pushStandIn = args.pushStandIn ?? (args.stack ? undefined : previous?.pushStandIn);
    const wanted: LocalState = {
        stack: args.stack ?? previous?.stack ?? "dev",
        overrides: args.stack || Object.keys(args.overrides).length ? args.overrides : previous?.overrides ?? {},
        net: args.net ?? previous?.net ?? "127.0.20",
        workers: args.workers ?? previous?.workers ?? 2,
        ...(pushStandIn ? { pushStandIn } : {}),
        failedOver: [],
    };
    // A promoted standby is remembered for the same stack only; another stack starts with its own shards.
    if (previous && sameStack(previous, wanted)) wanted.failedOver.push(...previous.failedOver);
    const ctx = contextFor(args.dir, wanted);
    if (previous && !sameStack(previous, wanted)) {
        const running = (await statusOf(contextFor(args.dir, previous), envOf(ctx, previous))).filter((s) => s.detail !== "not running");
        if (running.length > 0) {
            console.error(`local: the stack in ${args.dir} runs with stack ${previous.stack} ${JSON.stringify(previous.overrides)}; run \`npm run local -- down\` first. Nothing was changed.`);
            return 1;
        }
    }
    const before = await statusOf(ctx, envOf(ctx, wanted));
    if (previous && before.every((s) => s.detail !== "not running")) {
        console.log(`local: already running (stack ${wanted.stack}); nothing was changed.`);
        return printSummary(ctx, wanted);
    }
    // Recorded before anything starts, so a failed `up` can still be taken `down`; the shard directory too,
    // with each physical shard's pgbouncer (the first `up` writes it from the config, later ones keep it).
    writeState(args.dir, wanted);
    writeLocalDirectory(args.dir, withPrimaryAddresses(ctx.plan.directory, (p, host) => shardHost(ctx.plan, p, host).address));
    console.log(`local: bringing up stack ${wanted.stack} on ${ctx.plan.net}.0/24 (${ctx.plan.hosts.length} hosts) in ${args.dir}`);
    const t0 = Date.now();
    const started = await up(ctx, wanted);
    const site = await waitForSite(ctx, 60_000);
    console.log(`local: ${started} daemons started in ${((Date.now() - t0) / 1000).toFixed(1)} s; /readyz ${site.status}`);
    return printSummary(ctx, wanted, 15_000);
}

async function printSummary(ctx: LocalContext, state: LocalState, settleMs = 0): Promise<number> {
    // Right after a start some daemons are still settling (a replica's first sync): give them a moment.
    const deadline = Date.now() + settleMs;
    let statuses = await statusOf(ctx, envOf(ctx, state));
    while (statuses.some((s) => !s.ok) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        statuses = await statusOf(ctx, envOf(ctx, state));
    }
    const bad = statuses.filter((s) => !s.ok);
    for (const line of siteLines(ctx)) console.log(line);
    console.log(bad.length === 0
        ? `health: all ${statuses.length} daemons on ${ctx.plan.hosts.length} hosts healthy`
        : `health: ${statuses.length - bad.length} of ${statuses.length} daemons healthy; not: ${bad.map((b) => `${b.host.name} ${b.daemon} (${b.detail})`).join(", ")}`);
    return bad.length === 0 ? 0 : 1;
}

async function runShards(ctx: LocalContext, args: Args): Promise<number> {
    const driver = localMoveDriver(ctx);
    const [sub, rangeText] = args.positional;
    if (sub === "status") {
        // The directory as stored (not reconciled with the config): what the stack holds now.
        console.log(`shard directory ${directoryPath(args.dir)}: ${describeDirectory(await driver.readDirectory()).join("\n")}`);
        for (const line of await moveStatus(driver)) console.log(line);
        return 0;
    }
    if (sub === "cleanup") {
        console.log(cleanupLine(await cleanUpMovedCopies(driver), "local"));
        return 0;
    }
    const d = await driver.readDirectory();
    const req = { range: parseLogicalRange(rangeText, d.logicalShards), to: Number(args.to) };
    const command = `npm run local -- shards move ${rangeText} --to ${args.to}`;
    const reports = args.rollback ? await rollBackMove(driver, req) : await moveLogicalShards(driver, req, command);
    for (const line of moveReportLines(reports, req.to, "local")) console.log(line);
    return 0;
}

async function main(argv: readonly string[]): Promise<number> {
    let args: Args;
    try {
        args = parseArgs(argv);
    } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        console.error(`local: ${e.message}\n${USAGE}`);
        return 2;
    }
    if (args.command === "install-deps") return installDeps();
    // shards status only reads: it may run beside a move (which holds the lock for its whole run).
    const readOnly = args.command === "shards" && args.positional[0] === "status";
    const release = readOnly ? () => undefined : takeLock(args.dir);
    try {
        if (args.command === "up") return await runUp(args);
        const state = requireState(args.dir);
        const ctx = contextFor(args.dir, state);
        switch (args.command) {
            case "down":
                await down(ctx);
                console.log(`local: stopped; data kept in ${args.dir} (a later \`up\` finds it)`);
                return 0;
            case "status": {
                const statuses = await statusOf(ctx, envOf(ctx, state));
                for (const s of statuses) console.log(`${s.ok ? "ok  " : "FAIL"} ${s.host.name.padEnd(18)} ${s.host.address.padEnd(15)} ${s.daemon.padEnd(14)} ${s.detail}`);
                return printSummary(ctx, state);
            }
            case "logs": {
                const which = args.positional[0];
                const hosts = orderedHosts(ctx.plan).filter((h) => h.name === which || h.role === which || h.role.startsWith(`${which}-`));
                if (hosts.length === 0) throw new Error(`no host or role named ${which}; the hosts are ${ctx.plan.hosts.map((h) => h.name).join(", ")}`);
                for (const host of hosts) {
                    const dir = path.dirname(logFile(ctx, host, "x"));
                    const files = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
                    for (const f of files) console.log(`==> ${path.join(dir, f)} <==\n${tail(path.join(dir, f), args.lines)}\n`);
                    if (files.length === 0) console.log(`==> ${host.name}: no logs yet (${SERVICES[host.role].map((s) => s.daemon).join(", ")}) <==`);
                }
                return 0;
            }
            case "shards":
                return await runShards(ctx, args);
            case "search":
                return await reindexSearch(ctx);
            case "promote":
                writeState(args.dir, await promote(ctx, state, Number(args.positional[0])));
                return 0;
            case "backup":
                if (args.positional[0] === "redis") await backupRedis(ctx);
                else await backupShard(ctx, state, Number(args.positional[0]), args.type ?? "incr");
                return 0;
            case "restore":
                if (args.positional[0] === "redis") {
                    await restoreRedis(ctx, { from: args.from, force: args.force });
                    return 0;
                }
                await restoreShard(ctx, state, { shard: Number(args.positional[0]), to: args.to!, timeline: args.timeline, force: args.force, dryRun: args.dryRun });
                return 0;
        }
        return 2;
    } catch (e) {
        if (e instanceof ConfigError) {
            console.error(`local: the stack's configuration is invalid:\n${e.problems.map((p) => `  - ${p}`).join("\n")}`);
            // On this machine the deployed directory is a file, and config values come from --set.
            if (e.problems.some((p) => p.includes("deployed shard directory") || p.includes("still holds logical shards"))) {
                console.error(`  (the one-machine stack's shard directory is ${directoryPath(args.dir)}: pass the deployed counts with --set, or use another --dir for another stack)`);
            }
        }
        else if (e instanceof LocalPlanError || e instanceof MoveError) console.error(`local: ${e.message}`);
        else console.error(`local: ${(e as Error).message}`);
        return 1;
    } finally {
        release();
    }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
