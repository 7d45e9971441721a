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
 * Common: --yes (do not ask before acting). The stack must have a Pulumi.NAME.yaml here (its aws:region and
 * aws:profile are used) and a shard directory in that region. Exit 2 on bad usage, 1 on failure.
 */
import * as readline from "readline";
import { ConfigError, validateConfig } from "../core/config";
import { HOST_ROLES, HostRole } from "../core/security-rules";
import { describeDirectory, endpointHost, withEndpoint } from "../core/shard-directory";
import { cleanupLine, cleanUpMovedCopies, moveLogicalShards, MoveError, moveReportLines, moveStatus, parseLogicalRange, rollBackMove } from "../core/shard-move";
import { PORTS } from "../core/ports";
import { shellQuote } from "../core/shell-quote";
import { scriptPath } from "../cloud-init/scripts";
import { SHARD_ENV } from "../cloud-init/roles/postgres";
import { loadStackConfig, projectFiles } from "../local/project-files";
import { Fleet, HostResult } from "./ops/fleet";
import { awsMoveDriver, onlyHost, primaryMember, StackDirectory } from "./ops/shards";

const USAGE = `usage: npm run ops -- run --role ${HOST_ROLES.join("|")} [--max-concurrency N] [--max-errors N] --stack NAME [--yes] -- COMMAND...
       npm run ops -- shards status --stack NAME
       npm run ops -- shards move FIRST-LAST --to P [--rollback] --stack NAME [--yes]
       npm run ops -- shards cleanup --stack NAME [--yes]
       npm run ops -- promote SHARD --stack NAME [--yes]`;

class UsageError extends Error {}

export interface OpsArgs {
    command: "run" | "shards" | "promote";
    positional: string[];
    stack: string;
    role?: HostRole;
    maxConcurrency?: string;
    maxErrors?: string;
    to?: number;
    rollback: boolean;
    yes: boolean;
    /** After `--`: the shell command for `run`. */
    remote: string[];
}

/** SSM's own forms: a count, or a percentage. */
const SSM_RATE = /^([1-9][0-9]{0,3}|[1-9][0-9]?%|100%)$/;
const SSM_ERRORS = /^(0|[1-9][0-9]{0,3}|[0-9][0-9]?%|100%)$/;

export function parseOpsArgs(argv: readonly string[]): OpsArgs {
    const dash = argv.indexOf("--");
    const own = dash < 0 ? argv : argv.slice(0, dash);
    const remote = dash < 0 ? [] : argv.slice(dash + 1);
    let command: string | undefined;
    const positional: string[] = [];
    const a: Partial<OpsArgs> & { rollback: boolean; yes: boolean } = { rollback: false, yes: false };
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
        } else if (arg === "--to") {
            const v = value();
            if (!/^\d{1,3}$/.test(v)) throw new UsageError(`--to ${v}: must be a physical shard number`);
            a.to = Number(v);
        } else if (arg === "--rollback") a.rollback = true;
        else if (arg === "--yes") a.yes = true;
        else if (arg.startsWith("--")) throw new UsageError(`unknown option ${arg}`);
        else if (!command) command = arg;
        else positional.push(arg);
    }
    if (command !== "run" && command !== "shards" && command !== "promote") throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : "missing command");
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
        } else if (sub === "status" || sub === "cleanup") {
            if (rest.length > 0 || a.to !== undefined || a.rollback) throw new UsageError(`shards ${sub} takes no arguments`);
        } else throw new UsageError(`shards takes a subcommand: status, move or cleanup (got ${JSON.stringify(positional.join(" "))})`);
    } else if (a.to !== undefined || a.rollback) throw new UsageError("--to and --rollback belong to shards move");
    if (command === "promote" && (positional.length !== 1 || !/^\d{1,3}$/.test(positional[0]))) throw new UsageError("promote takes one physical shard number");
    return { command, positional, stack: a.stack, role: a.role, maxConcurrency: a.maxConcurrency, maxErrors: a.maxErrors, to: a.to, rollback: a.rollback, yes: a.yes, remote };
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
            const req = { range: parseLogicalRange(rangeText, d.logicalShards), to: args.to! };
            const what = args.rollback ? `roll back the move of logical shards ${rangeText} to physical shard ${req.to}` : `move logical shards ${rangeText} to physical shard ${req.to}, one at a time (writes to each pause for its switch)`;
            if (!(await confirm(`ops: will ${what} in ${where}`, args.yes))) return 1;
            const reports = args.rollback ? await rollBackMove(driver, req) : await moveLogicalShards(driver, req, `npm run ops -- shards move ${rangeText} --to ${req.to} --stack ${args.stack}`);
            for (const line of moveReportLines(reports, req.to, "ops")) console.log(line);
            return 0;
        }

        // promote
        const shard = Number(args.positional[0]);
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
