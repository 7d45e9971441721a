/**
 * `npm run ops -- COMMAND --stack NAME [options]`: operations on a deployed stack in AWS, through SSM (see
 * README, "Operations on AWS").
 *   run --role ROLE [--max-concurrency N] [--max-errors N] -- COMMAND...   a shell command on every host of a
 *                                      tier (SSM Run Command), each host's output and exit code printed
 *   shards status                      the shard directory, moves under way, copies left for cleanup
 *   shards move FIRST-LAST --to P [--rollback]   move logical shards to physical shard P (resumes a stopped
 *                                      move; --rollback undoes what is not finished)
 *   shards cleanup                     drop the read-only copies moves left behind
 *   promote SHARD                      promote physical shard SHARD's standby, then point the directory at it
 *   search reindex                     rebuild the search index from the shards on app-0, searches going on
 *   restore SHARD --to TIME|latest [--timeline N] [--force]   point-in-time recovery of a physical shard from
 *                                      its pgBackRest repository on its serving primary (the plan first), then
 *                                      its standby rebuilt and memcached emptied
 * Common: --yes (do not ask before acting). The stack must have a Pulumi.NAME.yaml here (its aws:region and
 * aws:profile are used) and a shard directory in that region. Exit 2 on bad usage, 1 on failure.
 */
import * as readline from "readline";
import { ConfigError, validateConfig } from "../core/config";
import { HOST_ROLES, HostRole } from "../core/security-rules";
import { describeDirectory, endpointHost, ShardDirectory, withEndpoint } from "../core/shard-directory";
import { cleanupLine, cleanUpMovedCopies, moveLogicalShards, MoveError, moveReportLines, moveStatus, parseLogicalRange, refuseRestoreDuringMove, rollBackMove } from "../core/shard-move";
import { PORTS } from "../core/ports";
import { shellQuote } from "../core/shell-quote";
import { scriptPath } from "../cloud-init/scripts";
import { SHARD_ENV } from "../cloud-init/roles/postgres";
import { reindexCommand } from "../app/deploy/unit";
import { loadStackConfig, projectFiles } from "../local/project-files";
import { Fleet, HostResult } from "./ops/fleet";
import { awsMoveDriver, onlyHost, primaryMember, StackDirectory } from "./ops/shards";

const USAGE = `usage: npm run ops -- run --role ${HOST_ROLES.join("|")} [--max-concurrency N] [--max-errors N] --stack NAME [--yes] -- COMMAND...
       npm run ops -- shards status --stack NAME
       npm run ops -- shards move FIRST-LAST --to P [--rollback] --stack NAME [--yes]
       npm run ops -- shards cleanup --stack NAME [--yes]
       npm run ops -- promote SHARD --stack NAME [--yes]
       npm run ops -- search reindex --stack NAME [--yes]
       npm run ops -- restore SHARD --to TIME|latest [--timeline N] [--force] --stack NAME [--yes]`;

class UsageError extends Error {}

export interface OpsArgs {
    command: "run" | "shards" | "promote" | "restore" | "search";
    positional: string[];
    stack: string;
    role?: HostRole;
    maxConcurrency?: string;
    maxErrors?: string;
    /** shards move: the destination physical shard; restore: the target time or "latest". */
    to?: string;
    rollback: boolean;
    yes: boolean;
    /** restore: replace a running primary's data; the (older) timeline the target time is on. */
    force: boolean;
    timeline?: number;
    /** After `--`: the shell command for `run`. */
    remote: string[];
}

/** A restore's target time as instagram-shard-restore takes it (it checks again on the host). */
const RESTORE_TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?( ?(Z|UTC|[+-]\d{2}(:?\d{2})?))?$/;

/** SSM's own forms: a count, or a percentage. */
const SSM_RATE = /^([1-9][0-9]{0,3}|[1-9][0-9]?%|100%)$/;
const SSM_ERRORS = /^(0|[1-9][0-9]{0,3}|[0-9][0-9]?%|100%)$/;

export function parseOpsArgs(argv: readonly string[]): OpsArgs {
    const dash = argv.indexOf("--");
    const own = dash < 0 ? argv : argv.slice(0, dash);
    const remote = dash < 0 ? [] : argv.slice(dash + 1);
    let command: string | undefined;
    const positional: string[] = [];
    const a: Partial<OpsArgs> & { rollback: boolean; yes: boolean; force: boolean } = { rollback: false, yes: false, force: false };
    for (let i = 0; i < own.length; i++) {
        const arg = own[i];
        const value = () => {
            const v = own[++i];
            if (v === undefined || v.startsWith("--")) throw new UsageError(`${arg} needs a value`);
            return v;
        };
        if (arg === "--stack") {
            const v = value();
            if (!/^[A-Za-z0-9_.-]{1,100}$/.test(v)) throw new UsageError(`--stack ${v}: not a stack name`);
            a.stack = v;
        } else if (arg === "--role") {
            const v = value();
            if (!(HOST_ROLES as readonly string[]).includes(v)) throw new UsageError(`--role ${v}: must be one of ${HOST_ROLES.join(", ")}`);
            a.role = v as HostRole;
        } else if (arg === "--max-concurrency") {
            const v = value();
            if (!SSM_RATE.test(v)) throw new UsageError(`--max-concurrency ${v}: a number of hosts (1-9999) or a percentage (1%-100%)`);
            a.maxConcurrency = v;
        } else if (arg === "--max-errors") {
            const v = value();
            if (!SSM_ERRORS.test(v)) throw new UsageError(`--max-errors ${v}: a number of hosts (0-9999) or a percentage (0%-100%)`);
            a.maxErrors = v;
        } else if (arg === "--to") a.to = value();
        else if (arg === "--timeline") {
            const v = value();
            if (!/^[1-9]\d{0,8}$/.test(v)) throw new UsageError(`--timeline ${v}: must be a timeline number`);
            a.timeline = Number(v);
        } else if (arg === "--force") a.force = true;
        else if (arg === "--rollback") a.rollback = true;
        else if (arg === "--yes") a.yes = true;
        else if (arg.startsWith("--")) throw new UsageError(`unknown option ${arg}`);
        else if (!command) command = arg;
        else positional.push(arg);
    }
    if (command !== "run" && command !== "shards" && command !== "promote" && command !== "restore" && command !== "search") throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : "missing command");
    if (!a.stack) throw new UsageError("--stack NAME is required: the tool acts on one deployed stack, named");
    if (command === "run") {
        if (!a.role) throw new UsageError("run needs --role");
        if (remote.length === 0) throw new UsageError("run needs the command after --");
        if (positional.length > 0) throw new UsageError(`run takes its command after --, not ${positional.join(" ")}`);
    } else if (a.role || a.maxConcurrency || a.maxErrors || remote.length > 0) {
        throw new UsageError("--role, --max-concurrency, --max-errors and -- COMMAND belong to run");
    }
    if (command === "shards") {
        const [sub, ...rest] = positional;
        if (sub === "move") {
            if (rest.length !== 1 || a.to === undefined) throw new UsageError("shards move takes FIRST-LAST and --to P");
            if (!/^\d{1,3}$/.test(a.to)) throw new UsageError(`--to ${a.to}: must be a physical shard number`);
        } else if (sub === "status" || sub === "cleanup") {
            if (rest.length > 0 || a.to !== undefined || a.rollback) throw new UsageError(`shards ${sub} takes no arguments`);
        } else throw new UsageError(`shards takes a subcommand: status, move or cleanup (got ${JSON.stringify(positional.join(" "))})`);
    } else if (command === "search") {
        if (positional.join(" ") !== "reindex") throw new UsageError(`search takes one subcommand: reindex (got ${JSON.stringify(positional.join(" "))})`);
    } else if (command === "restore") {
        if (a.to === undefined) throw new UsageError("restore takes --to TIME (such as \"2026-12-01 21:07:30\", UTC) or --to latest");
        if (a.to !== "latest" && !RESTORE_TIME.test(a.to)) throw new UsageError(`--to ${a.to}: not a time (YYYY-MM-DD HH:MM[:SS[.ffffff]] [+ZZ|UTC]) or latest`);
    } else if (a.to !== undefined || a.rollback) throw new UsageError("--to belongs to shards move and restore, --rollback to shards move");
    if (command !== "restore" && (a.force || a.timeline)) throw new UsageError("--force and --timeline belong to restore");
    if ((command === "promote" || command === "restore") && (positional.length !== 1 || !/^\d{1,3}$/.test(positional[0]))) throw new UsageError(`${command} takes one physical shard number`);
    return { command, positional, stack: a.stack, role: a.role, maxConcurrency: a.maxConcurrency, maxErrors: a.maxErrors, to: a.to, rollback: a.rollback, yes: a.yes, force: a.force, timeline: a.timeline, remote };
}

/** Say what will happen; go on with --yes, or when the operator answers y at a terminal. */
async function confirm(plan: string, yes: boolean): Promise<boolean> {
    console.log(plan);
    if (yes) return true;
    if (!process.stdin.isTTY) {
        console.error("ops: not a terminal, so nobody can confirm: add --yes to go ahead");
        return false;
    }
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    const answer = await new Promise<string>((resolve) => rl.question("Go ahead? [y/N] ", resolve));
    rl.close();
    return /^y(es)?$/i.test(answer.trim());
}

function printHosts(results: readonly HostResult[]): void {
    for (const r of results) {
        console.log(`==> ${r.name} (${r.instanceId}): ${r.status}, exit ${r.code}`);
        if (r.stdout) console.log(r.stdout.trimEnd());
        if (r.stderr) console.log(r.stderr.trimEnd().split("\n").map((l) => `stderr: ${l}`).join("\n"));
    }
}

/** A reindex reads every located photo of every shard: SSM waits this long for it. */
const REINDEX_TIMEOUT_S = 6 * 3600;

/** A restore takes as long as its WAL replay: SSM waits this long for it. */
const RESTORE_TIMEOUT_S = 6 * 3600;

/**
 * restore: the plan (instagram-shard-restore --dry-run on the shard's serving primary), confirmed; the
 * restore there; the other member re-cloned from it (the restored primary is on a new timeline); memcached
 * emptied on every node, so no app worker serves a row the restore took back.
 */
async function restore(fleet: Fleet, d: ShardDirectory, shard: number, args: OpsArgs, where: string, hasStandby: boolean): Promise<number> {
    if (!d.physicalShards[shard]) throw new MoveError(`restore ${shard}: the shard directory lists physical shards 0-${d.physicalShards.length - 1}`);
    refuseRestoreDuringMove(d, shard, "npm run ops");
    const serving = primaryMember(d, shard);
    const other = serving === "primary" ? "standby" : "primary";
    const member = (m: string) => fleet.targets({ Role: "shard", Shard: String(shard), Member: m });
    const restoreCommand = (extra: string[]) => [scriptPath("shardRestore"), SHARD_ENV, "--to", args.to!, ...(args.timeline ? ["--timeline", String(args.timeline)] : []), ...extra].map(shellQuote).join(" ");
    const plan = onlyHost(await fleet.run(member(serving), [`${restoreCommand(["--dry-run"])} 2>&1`], { comment: `instagram restore ${shard}: plan`, timeoutSeconds: 300 }), `Role=shard Shard=${shard} Member=${serving}`);
    printHosts([plan]);
    if (plan.code !== 0) throw new MoveError(`physical shard ${shard}'s restore cannot be planned (exit ${plan.code}); nothing was changed`);
    const then = [hasStandby ? `rebuild its ${other} from it` : "", "empty memcached"].filter(Boolean).join(", then ");
    if (!(await confirm(`ops: will restore physical shard ${shard} of ${where} on its ${serving} as above${args.force ? ", replacing the running primary's data" : ""}, then ${then}`, args.yes))) return 1;
    const restored = onlyHost(await fleet.run(member(serving), [`${restoreCommand(args.force ? ["--force"] : [])} 2>&1`], { comment: `instagram restore ${shard}`, timeoutSeconds: RESTORE_TIMEOUT_S }), `Role=shard Shard=${shard} Member=${serving}`);
    printHosts([restored]);
    if (restored.code !== 0) throw new MoveError(`physical shard ${shard}'s restore failed (exit ${restored.code}); see its output above`);
    if (hasStandby) {
        const recloned = onlyHost(await fleet.run(member(other), [`${[scriptPath("shardRestore"), SHARD_ENV, "--reclone"].join(" ")} 2>&1`], { comment: `instagram restore ${shard}: rebuild the ${other}`, timeoutSeconds: RESTORE_TIMEOUT_S }), `Role=shard Shard=${shard} Member=${other}`);
        printHosts([recloned]);
        if (recloned.code !== 0) throw new MoveError(`physical shard ${shard} is restored, but rebuilding its ${other} failed (exit ${recloned.code}): run instagram-shard-restore ${SHARD_ENV} --reclone there again`);
    }
    const flushed = await fleet.run(fleet.targets({ Role: "memcached" }), [MEMCACHED_FLUSH], { comment: `instagram restore ${shard}: empty memcached` });
    printHosts(flushed);
    if (flushed.some((r) => r.code !== 0 || r.stdout.trim() !== "OK")) throw new MoveError(`physical shard ${shard} is restored, but not every memcached node was emptied: run ${JSON.stringify(MEMCACHED_FLUSH)} on them (npm run ops -- run --role memcached)`);
    console.log(`ops: physical shard ${shard} of ${where} is restored (${args.to}) and takes writes; ${flushed.length} memcached nodes emptied`);
    return 0;
}

/** memcached's flush_all over its loopback listener (bash's /dev/tcp: the hosts have no nc by default). */
const MEMCACHED_FLUSH = `bash -c 'exec 3<>/dev/tcp/127.0.0.1/${PORTS.memcached}; printf "flush_all\\r\\n" >&3; read -r reply <&3; printf "%s\\n" "\${reply%$(printf "\\r")}"'`;

async function main(argv: readonly string[]): Promise<number> {
    let args: OpsArgs;
    try {
        args = parseOpsArgs(argv);
    } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        console.error(`ops: ${e.message}\n${USAGE}`);
        return 2;
    }
    try {
        if (projectFiles().read(`Pulumi.${args.stack}.yaml`) === undefined) {
            console.error(`ops: there is no Pulumi.${args.stack}.yaml in this project: which stack is that? Nothing was done.`);
            return 1;
        }
        const config = validateConfig(loadStackConfig(args.stack));
        const fleet = new Fleet(args.stack, config.region, config.profile);
        const directory = new StackDirectory(fleet);
        // Identifies the stack: its directory exists in this account and region, or nothing is done.
        const d = await directory.read();
        const where = `stack ${args.stack} in ${config.region}`;

        if (args.command === "run") {
            const ok = await confirm(`ops: will run on every ${args.role} host of ${where}, ${args.maxConcurrency ?? "50"} at a time, stopping after ${args.maxErrors ?? "0"} errors:\n  ${args.remote.join(" ")}`, args.yes);
            if (!ok) return 1;
            const results = await fleet.run(fleet.targets({ Role: args.role! }), [args.remote.length === 1 ? args.remote[0] : args.remote.map(shellQuote).join(" ")], {
                maxConcurrency: args.maxConcurrency, maxErrors: args.maxErrors, comment: `instagram ops run on ${args.role}`,
            });
            printHosts(results);
            if (results.length === 0) console.error(`ops: no running ${args.role} host of ${where} matched (tags Stack=${args.stack}, Role=${args.role})`);
            const failed = results.filter((r) => r.code !== 0 || r.status !== "Success");
            console.log(`ops: ${results.length - failed.length} of ${results.length} hosts succeeded`);
            return results.length > 0 && failed.length === 0 ? 0 : 1;
        }

        const driver = awsMoveDriver(fleet, directory);
        if (args.command === "shards") {
            const [sub, rangeText] = args.positional;
            if (sub === "status") {
                console.log(`shard directory ${directory.name}: ${describeDirectory(d).join("\n")}`);
                for (const line of await moveStatus(driver)) console.log(line);
                return 0;
            }
            if (sub === "cleanup") {
                if (!(await confirm(`ops: will drop, on each physical shard of ${where}, the read-only copies of logical shards the directory serves from elsewhere`, args.yes))) return 1;
                console.log(cleanupLine(await cleanUpMovedCopies(driver), "ops"));
                return 0;
            }
            const req = { range: parseLogicalRange(rangeText, d.logicalShards), to: Number(args.to) };
            const what = args.rollback ? `roll back the move of logical shards ${rangeText} to physical shard ${req.to}` : `move logical shards ${rangeText} to physical shard ${req.to}, one at a time (writes to each pause for its switch)`;
            if (!(await confirm(`ops: will ${what} in ${where}`, args.yes))) return 1;
            const reports = args.rollback ? await rollBackMove(driver, req) : await moveLogicalShards(driver, req, `npm run ops -- shards move ${rangeText} --to ${req.to} --stack ${args.stack}`);
            for (const line of moveReportLines(reports, req.to, "ops")) console.log(line);
            return 0;
        }

        if (args.command === "search") {
            if (config.searchServers === 0) throw new MoveError(`stack ${args.stack} has no search tier (instagram:searchServers is 0): there is no index to rebuild`);
            if (!(await confirm(`ops: will rebuild the search index of ${where} from every shard, on app-0 (searches go on; entries not rewritten are removed at the end)`, args.yes))) return 1;
            const rebuilt = onlyHost(await fleet.run(fleet.targets({ Role: "app", Name: "app-0" }), [`${reindexCommand().map(shellQuote).join(" ")} 2>&1`], { comment: "instagram search reindex", timeoutSeconds: REINDEX_TIMEOUT_S }), "Role=app Name=app-0");
            printHosts([rebuilt]);
            if (rebuilt.code !== 0) throw new MoveError(`the reindex failed (exit ${rebuilt.code}); searches keep the index as it was. See its output above, and run it again`);
            return 0;
        }

        const shard = Number(args.positional[0]);
        if (args.command === "restore") return await restore(fleet, d, shard, args, where, config.shardStandby);

        // promote
        if (!d.physicalShards[shard]) throw new MoveError(`promote ${shard}: the shard directory lists physical shards 0-${d.physicalShards.length - 1}`);
        if (primaryMember(d, shard) === "standby") throw new MoveError(`physical shard ${shard}'s standby was already promoted (it serves at ${d.physicalShards[shard].endpoint})`);
        if (!config.shardStandby) throw new MoveError(`stack ${args.stack} has no standbys (instagram:shardStandby is false): there is nothing to promote`);
        // Two primaries would each take writes: refuse while the old one still answers as a primary.
        const probe = await fleet.run(fleet.targets({ Role: "shard", Shard: String(shard), Member: "primary" }), ["runuser -u postgres -- psql -X -A -t -c 'SELECT pg_is_in_recovery()'"], { comment: `instagram promote ${shard}: is the primary alive?`, timeoutSeconds: 60 });
        if (probe.some((r) => r.code === 0 && r.stdout.trim() === "f")) {
            throw new MoveError(`physical shard ${shard}'s primary (${probe.map((r) => r.name).join(", ")}) still answers as a primary: promoting now would leave two primaries. Stop it first (npm run ops -- run --role shard ... or the console)`);
        }
        if (!(await confirm(`ops: will promote physical shard ${shard}'s standby in ${where} to primary, then point the shard directory at it (now ${d.physicalShards[shard].endpoint ?? "no endpoint"})`, args.yes))) return 1;
        const promoted = onlyHost(await fleet.run(fleet.targets({ Role: "shard", Shard: String(shard), Member: "standby" }), [`${scriptPath("shardPromote")} ${SHARD_ENV} && hostname -I`], { comment: `instagram promote ${shard}`, timeoutSeconds: 300 }), `Role=shard Shard=${shard} Member=standby`);
        printHosts([promoted]);
        if (promoted.code !== 0) throw new MoveError(`the standby's promote failed (exit ${promoted.code}); the directory still names ${d.physicalShards[shard].endpoint}`);
        // hostname -I: the host's addresses, its primary interface's first (the last line is its own).
        const address = promoted.stdout.trim().split("\n").pop()?.trim().split(/\s+/)[0] ?? "";
        if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) throw new MoveError(`the standby was promoted but did not say its address (${JSON.stringify(promoted.stdout)}): point the directory at it by hand`);
        await directory.read();
        await directory.write(withEndpoint(directory.current(), shard, `${address}:${PORTS.pgbouncer}`, true));
        console.log(`ops: physical shard ${shard} is now served by ${address} (${endpointHost(d.physicalShards[shard].endpoint ?? "none:0")} retired); app hosts follow the directory within a few seconds`);
        return 0;
    } catch (e) {
        if (e instanceof ConfigError) console.error(`ops: the stack's configuration is invalid:\n${e.problems.map((p) => `  - ${p}`).join("\n")}`);
        else if (e instanceof MoveError) console.error(`ops: ${e.message}`);
        else console.error(`ops: ${(e as Error).name === "Error" ? "" : `${(e as Error).name}: `}${(e as Error).message}`);
        return 1;
    }
}

if (require.main === module) main(process.argv.slice(2)).then((code) => process.exit(code));
