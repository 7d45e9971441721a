/**
 * `npm run local -- COMMAND [options]`: the whole stack on this machine, from the same stack config and role
 * files as EC2 (see README, "The stack on one machine").
 *   up [--stack NAME] [--set KEY=VALUE]... [--net 127.0.20] [--workers N]   start every host's daemons
 *   down                     stop them all (PostgreSQL cleanly, Redis saved); data stays in .local/
 *   status                   each host's daemons and their health; exit 1 if any is unhealthy
 *   logs HOST|ROLE [--lines N]   the end of a host's (or every host of a role's) logs
 *   promote SHARD            promote a shard's standby after its primary is lost
 *   shards status            where each logical shard lives (the stack's shard directory)
 *   install-deps             apt-get install what is missing (root)
 * Common: --dir DIR (default .local in the project). Exit 2 on bad usage, 1 on failure.
 */
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../core/config";
import { PROJECT_ROOT } from "../delivery/sources";
import { LocalContext, logFile } from "./context";
import { contextFor, requireState } from "./session";
import { installDeps, missingMessage, missingRequirements } from "./deps";
import { LocalPlanError, shardHost } from "./plan";
import { directoryPath, readLocalDirectory, writeLocalDirectory } from "./shard-directory";
import { describeDirectory, withPrimaryAddresses } from "../core/shard-directory";
import { down, envOf, orderedHosts, promote, SERVICES, siteLines, statusOf, up, waitForSite } from "./stack";
import { LocalState, readState, sameStack, takeLock, writeState } from "./state";
import { tail } from "./processes";

const USAGE = `usage: npm run local -- up [--stack NAME] [--set KEY=VALUE]... [--net 127.0.20] [--workers N] [--dir DIR]
       npm run local -- down | status | logs HOST|ROLE [--lines N] | promote SHARD | shards status | install-deps   [--dir DIR]`;

class UsageError extends Error {}

interface Args {
    command: string;
    positional: string[];
    stack?: string;
    overrides: Record<string, unknown>;
    net?: string;
    workers?: number;
    dir: string;
    lines: number;
}

/** --set instagram:appServers=2: numbers, booleans and JSON arrays as Pulumi config would hold them. */
function parseSet(text: string): [string, unknown] {
    const eq = text.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set ${text}: expected KEY=VALUE, such as instagram:appServers=2`);
    const key = text.slice(0, eq);
    const raw = text.slice(eq + 1);
    if (!/^[a-z]+:[A-Za-z0-9]+$/.test(key)) throw new UsageError(`--set ${text}: ${key} is not a config key such as instagram:appServers`);
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
    const args: Args = { command: "", positional: [], overrides: {}, dir: path.join(PROJECT_ROOT, ".local"), lines: 40 };
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
        else if (arg === "--dir") args.dir = path.resolve(value());
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
    if (!["up", "down", "status", "logs", "promote", "shards", "install-deps"].includes(args.command)) {
        throw new UsageError(args.command ? `unknown command ${JSON.stringify(args.command)}` : "missing command");
    }
    if (args.command === "shards" && (args.positional.length !== 1 || args.positional[0] !== "status")) {
        throw new UsageError(`shards takes one subcommand: status (got ${JSON.stringify(args.positional.join(" "))})`);
    }
    if (args.command !== "shards" && (args.command === "logs" || args.command === "promote") !== (args.positional.length === 1)) {
        throw new UsageError(args.command === "logs" ? "logs takes one HOST or ROLE" : args.command === "promote" ? "promote takes one SHARD number" : `${args.command} takes no arguments`);
    }
    if (args.command !== "up" && (args.stack || args.net || args.workers || Object.keys(args.overrides).length)) {
        throw new UsageError(`${args.command} acts on the stack \`up\` started; --stack, --set, --net and --workers belong to up`);
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
    const wanted: LocalState = {
        stack: args.stack ?? previous?.stack ?? "dev",
        overrides: args.stack || Object.keys(args.overrides).length ? args.overrides : previous?.overrides ?? {},
        net: args.net ?? previous?.net ?? "127.0.20",
        workers: args.workers ?? previous?.workers ?? 2,
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
    writeLocalDirectory(args.dir, withPrimaryAddresses(ctx.plan.directory, (p) => shardHost(ctx.plan, p).address));
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
    const release = takeLock(args.dir);
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
            case "shards": {
                // The directory as stored (not reconciled with the config): what the stack holds now.
                const stored = readLocalDirectory(args.dir);
                if (!stored) throw new Error(`no shard directory in ${args.dir} yet: \`up\` writes it`);
                console.log(`shard directory ${directoryPath(args.dir)}: ${describeDirectory(stored).join("\n")}`);
                return 0;
            }
            case "promote": {
                const shard = Number(args.positional[0]);
                if (!Number.isInteger(shard) || shard < 0) throw new Error(`promote ${args.positional[0]}: not a physical shard number`);
                writeState(args.dir, await promote(ctx, state, shard));
                return 0;
            }
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
        else if (e instanceof LocalPlanError) console.error(`local: ${e.message}`);
        else console.error(`local: ${(e as Error).message}`);
        return 1;
    } finally {
        release();
    }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
