/**
 * Moving logical shards between physical shards: the order of a move's steps and what the shard directory
 * says at each, shared by the one-machine stack (local/shard-move.ts) and the AWS operations CLI
 * (tools/ops/). The steps run on the shard hosts (cloud-init/scripts/shard-move.sh, one idempotent step per
 * call); this module decides which to run from the directory and what the hosts report, so a move stopped
 * anywhere is resumed, or rolled back, by running the same command again. For each logical shard alone:
 * mark it moving, copy (it keeps serving), switch (freeze the source, catch up, compare, advance sequences,
 * freeze the new copy too), flip the directory, wait until every app host routes by it, finish (the new copy
 * takes writes). Pure: the driver does every read, write and remote call.
 */
import { endpointHost, LogicalShardRange, movesTouching, movesUnderWay, rangeOf, ShardDirectory, withPlacement } from "./shard-directory";

export interface StepResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

export interface MoveDriver {
    readDirectory(): Promise<ShardDirectory>;
    /** Store the directory whole; `reason` is said in the log. */
    writeDirectory(next: ShardDirectory, reason: string): Promise<void>;
    /** Run the shard role's move script (its COMMAND and arguments) on a physical shard's current primary. */
    runStep(physicalShard: number, args: readonly string[]): Promise<StepResult>;
    log(line: string): void;
    /**
     * How long after a directory write every app host routes by it (core/app-contract.ts
     * DIRECTORY_ROUTING_BOUND_MS): a flipped logical shard stays frozen on both copies that long.
     */
    readonly routingBoundMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class MoveError extends Error {}

/** "4-7" or "4": logical shards FIRST..LAST of a stack with `logicalShards`; throws MoveError naming what is wrong. */
export function parseLogicalRange(text: string, logicalShards: number): LogicalShardRange {
    const m = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(text);
    if (!m) throw new MoveError(`${JSON.stringify(text)} is not FIRST-LAST (logical shards, such as 0-31) or one logical shard`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first) throw new MoveError(`${text}: FIRST must not be above LAST`);
    if (last >= logicalShards) throw new MoveError(`${text}: the stack has logical shards 0-${logicalShards - 1}`);
    return { first, last };
}

export interface MoveRequest {
    readonly range: LogicalShardRange;
    readonly to: number;
}

/** Why a move cannot start against this directory (empty when it can); checked before anything runs. */
export function moveProblems(d: ShardDirectory, req: MoveRequest): string[] {
    const problems: string[] = [];
    const dest = d.physicalShards[req.to];
    if (!dest) problems.push(`--to ${req.to}: the shard directory lists physical shards 0-${d.physicalShards.length - 1} (raise instagram:physicalShards and deploy to add one)`);
    else if (!dest.endpoint) problems.push(`--to ${req.to}: physical shard ${req.to} has no endpoint in the directory yet (its primary has not been deployed)`);
    for (let l = req.range.first; l <= req.range.last; l++) {
        const r = rangeOf(d, l);
        if (r.state === "moving" && r.movingTo !== req.to) problems.push(`logical shard ${l} is moving to physical shard ${r.movingTo}: finish that move or roll it back first`);
        if (r.physicalShard !== req.to && !d.physicalShards[r.physicalShard]?.endpoint) problems.push(`logical shard ${l}'s physical shard ${r.physicalShard} has no endpoint in the directory`);
    }
    return problems;
}

export interface MoveReport {
    readonly logicalShard: number;
    readonly from: number;
    readonly to: number;
    /** How long writes to this logical shard were refused: from the freeze to the finish. */
    readonly pauseMs?: number;
    readonly rows?: number;
    /** Nothing to do: already there, or rolled back, with why. */
    readonly note?: string;
}

/** key=value words of a step's last output line. */
function fields(stdout: string): Record<string, string> {
    const line = stdout.trim().split("\n").pop() ?? "";
    return Object.fromEntries(line.split(/\s+/).filter((w) => w.includes("=")).map((w) => [w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1)]));
}

async function step(driver: MoveDriver, physicalShard: number, args: readonly string[], resume: string): Promise<StepResult> {
    const r = await driver.runStep(physicalShard, args);
    if (r.code !== 0) {
        const said = r.stderr.trim().split("\n").filter(Boolean).slice(-3).join("\n    ");
        throw new MoveError(`${args[0]} of logical shard ${args[1] ?? ""} on physical shard ${physicalShard} failed (exit ${r.code}):\n    ${said || "(no output)"}\n${resume}`);
    }
    return r;
}

const sourceAddress = (d: ShardDirectory, physicalShard: number) => endpointHost(d.physicalShards[physicalShard].endpoint!);

/** Move logical shards req.range to req.to, one at a time; resumes whatever an earlier run left. */
export async function moveLogicalShards(driver: MoveDriver, req: MoveRequest, command: string): Promise<MoveReport[]> {
    const problems = moveProblems(await driver.readDirectory(), req);
    if (problems.length > 0) throw new MoveError(problems.join("\n"));
    const resume = `Run \`${command}\` again to resume, or add --rollback to undo what is not finished.`;
    const reports: MoveReport[] = [];
    for (let l = req.range.first; l <= req.range.last; l++) {
        let d = await driver.readDirectory();
        const r = rangeOf(d, l);
        if (r.state === "serving" && r.physicalShard === req.to) {
            // Already there; a run stopped after the flip still owes the destination its finish (the source is
            // the shard that holds its old, frozen copy; without one, finish has nothing to end there).
            const frozenOn = await holderOfFrozenCopy(driver, d, l, req.to);
            const from = frozenOn === undefined ? sourceAddress(d, req.to) : sourceAddress(d, frozenOn);
            // Still receiving (frozen): the flip happened, and maybe only just: let it reach every app host first.
            if (fields((await step(driver, req.to, ["state", String(l), "--from", from], resume)).stdout).dest === "receiving") await sleep(driver.routingBoundMs);
            await step(driver, req.to, ["finish", String(l), "--from", from], resume);
            reports.push({ logicalShard: l, from: req.to, to: req.to, note: "already on the destination" });
            continue;
        }
        const from = r.physicalShard;
        const src = sourceAddress(d, from);
        if (r.state === "serving") {
            d = withPlacement(d, l, { physicalShard: from, state: "moving", movingTo: req.to });
            await driver.writeDirectory(d, `logical shard ${l}: moving ${from} → ${req.to}`);
        }
        driver.log(`logical shard ${l}: copying from physical shard ${from} (${src}) to ${req.to}`);
        const state = fields((await step(driver, req.to, ["state", String(l), "--from", src], resume)).stdout);
        // A receiving copy whose subscription ended before any flip (dropped by hand: a run's own steps keep it
        // until finish): copy would refuse, and the switch step checks the copy against the frozen source.
        if (!(state.dest === "receiving" && state.subscription === "absent" && state.source === "frozen")) {
            await step(driver, req.to, ["copy", String(l), "--from", src], resume);
        }
        const switched = fields((await step(driver, req.to, ["switch", String(l), "--from", src], resume)).stdout);
        d = await driver.readDirectory();
        const now = rangeOf(d, l);
        if (now.state !== "moving" || now.movingTo !== req.to || now.physicalShard !== from) {
            throw new MoveError(`the shard directory changed under the move of logical shard ${l} (it now says ${now.state} on ${now.physicalShard}${now.movingTo === undefined ? "" : ` → ${now.movingTo}`}); the destination's copy is whole and the source's frozen. ${resume}`);
        }
        const switchedAt = Date.now();
        await driver.writeDirectory(withPlacement(d, l, { physicalShard: req.to, state: "serving" }), `logical shard ${l}: now on physical shard ${req.to}`);
        // Both copies stay frozen until every app host routes by the flip: none writes the new copy while
        // another still reads the old one.
        await sleep(driver.routingBoundMs);
        await step(driver, req.to, ["finish", String(l), "--from", src], resume);
        const report = { logicalShard: l, from, to: req.to, pauseMs: Number(switched.pause_ms) + (Date.now() - switchedAt), rows: Number(switched.rows) };
        driver.log(`logical shard ${l}: moved ${from} → ${req.to} (${report.rows} rows; writes refused for ${report.pauseMs} ms)`);
        reports.push(report);
    }
    return reports;
}

/** What a move or rollback run says when done: each logical shard's note, then the moved count and longest pause. */
export function moveReportLines(reports: readonly MoveReport[], to: number, prefix: string): string[] {
    const lines = reports.filter((r) => r.note).map((r) => `logical shard ${r.logicalShard}: ${r.note}`);
    const moved = reports.filter((r) => r.pauseMs !== undefined);
    if (moved.length > 0) lines.push(`${prefix}: moved ${moved.length} logical shard${moved.length === 1 ? "" : "s"} to physical shard ${to}; longest write pause ${Math.max(...moved.map((r) => r.pauseMs!))} ms`);
    return lines;
}

/** What `shards cleanup` says of the copies it dropped. */
export function cleanupLine(dropped: readonly unknown[], prefix: string): string {
    return `${prefix}: ${dropped.length === 0 ? "no read-only copy to drop" : `dropped ${dropped.length} read-only cop${dropped.length === 1 ? "y" : "ies"}`}`;
}

/**
 * A point-in-time restore of a physical shard is refused (MoveError) while a move under way has it as source
 * or destination; `cli` is the command that finishes or rolls back the move ("npm run local", "npm run ops").
 */
export function refuseRestoreDuringMove(d: ShardDirectory, physicalShard: number, cli: string): void {
    const moves = movesTouching(d, physicalShard);
    if (moves.length === 0) return;
    throw new MoveError(`physical shard ${physicalShard} is part of a shards move under way (logical shards ${moves.join(", ")}): finish it or roll it back (${cli} -- shards move … [--rollback]) before restoring it`);
}

/** Undo what a move of req.range to req.to left unfinished; a logical shard already flipped is left (said). */
export async function rollBackMove(driver: MoveDriver, req: MoveRequest): Promise<MoveReport[]> {
    const reports: MoveReport[] = [];
    for (let l = req.range.first; l <= req.range.last; l++) {
        const d = await driver.readDirectory();
        const r = rangeOf(d, l);
        if (r.state === "serving" && r.physicalShard === req.to) {
            reports.push({ logicalShard: l, from: req.to, to: req.to, note: `already moved to ${req.to}: not undone (its old copy is read-only; move it back with another shards move, after shards cleanup)` });
            continue;
        }
        if (r.state === "moving" && r.movingTo !== req.to) {
            reports.push({ logicalShard: l, from: r.physicalShard, to: req.to, note: `moving to ${r.movingTo}, not ${req.to}: left as it is` });
            continue;
        }
        const src = sourceAddress(d, r.physicalShard);
        await step(driver, req.to, ["rollback", String(l), "--from", src], "Run the rollback again once the hosts answer.");
        if (r.state === "moving") await driver.writeDirectory(withPlacement(d, l, { physicalShard: r.physicalShard, state: "serving" }), `logical shard ${l}: move rolled back, serving on ${r.physicalShard}`);
        reports.push({ logicalShard: l, from: r.physicalShard, to: req.to, note: "rolled back: no copy on the destination, the source takes writes" });
    }
    return reports;
}

/** The physical shard (other than `except`) that keeps a frozen copy of a logical shard, if one does. */
async function holderOfFrozenCopy(driver: MoveDriver, d: ShardDirectory, logicalShard: number, except: number): Promise<number | undefined> {
    for (const [p, frozen] of await frozenCopies(driver, d)) if (p !== except && frozen.includes(logicalShard)) return p;
    return undefined;
}

/** Logical shards whose copy on a physical shard is frozen, by physical shard (the `frozen` step on each). */
async function frozenCopies(driver: MoveDriver, d: ShardDirectory): Promise<Map<number, number[]>> {
    const out = new Map<number, number[]>();
    for (const p of d.physicalShards) {
        if (!p.endpoint) continue;
        const r = await step(driver, p.physicalShard, ["frozen"], "");
        out.set(p.physicalShard, r.stdout.trim().split(/\s+/).filter(Boolean).map(Number));
    }
    return out;
}

/** What `shards status` prints beyond the directory: each move's step, and copies left for cleanup. */
export async function moveStatus(driver: MoveDriver): Promise<string[]> {
    const d = await driver.readDirectory();
    const lines: string[] = [];
    for (const r of d.ranges.filter((x) => x.state === "moving")) {
        for (let l = r.first; l <= r.last; l++) {
            const res = await driver.runStep(r.movingTo!, ["state", String(l), "--from", sourceAddress(d, r.physicalShard)]);
            const s = fields(res.stdout);
            const where = res.code !== 0 ? `unknown (physical shard ${r.movingTo} did not answer: ${res.stderr.trim().split("\n").pop()})`
                : s.dest === "absent" ? "marked moving, copy not started"
                : s.subscription === "copying" ? "copying"
                : s.subscription === "streaming" && s.source === "frozen" ? "switching: the source refuses writes"
                : s.subscription === "streaming" ? "copied and streaming; the switch is next"
                : s.source === "frozen" ? "switched; the directory flip is next"
                : `stopped (${res.stdout.trim()})`;
            lines.push(`  moving ${l}: ${r.physicalShard} → ${r.movingTo}: ${where}; run the move again to resume, or with --rollback to undo`);
        }
    }
    for (const [p, frozen] of await frozenCopies(driver, d)) {
        const left = frozen.filter((l) => rangeOf(d, l).physicalShard !== p && rangeOf(d, l).state === "serving");
        if (left.length > 0) lines.push(`  physical ${p} keeps read-only copies of logical shards ${left.join(", ")} (moved away): \`shards cleanup\` drops them`);
    }
    const moving = movesUnderWay(d);
    if (moving.length === 0 && lines.length === 0) lines.push("  no move under way, no copy left for cleanup");
    return lines;
}

/** Drop every frozen copy whose logical shard the directory serves from elsewhere; returns what was dropped. */
export async function cleanUpMovedCopies(driver: MoveDriver): Promise<{ physicalShard: number; logicalShard: number }[]> {
    const d = await driver.readDirectory();
    const dropped: { physicalShard: number; logicalShard: number }[] = [];
    for (const [p, frozen] of await frozenCopies(driver, d)) {
        for (const l of frozen) {
            const r = rangeOf(d, l);
            if (r.physicalShard === p || r.state !== "serving") {
                driver.log(`physical ${p}: logical shard ${l}'s frozen copy is kept: a move of it is under way (resume or roll it back first)`);
                continue;
            }
            await step(driver, p, ["cleanup", String(l)], "Run shards cleanup again.");
            driver.log(`physical ${p}: dropped the read-only copy of logical shard ${l} (served by physical shard ${r.physicalShard})`);
            dropped.push({ physicalShard: p, logicalShard: l });
        }
    }
    return dropped;
}
