/**
 * The shard directory: which physical shard holds each logical shard, and where each physical shard's
 * primary answers. It is durable deployed state (an SSM parameter on AWS, a file on the one-machine stack),
 * the authority the program, the hosts and the app read. The first deploy writes it from the config
 * (core/shard-map.ts); after that a config change never moves a logical shard: raising physicalShards adds
 * empty physical shards, and whatever would move or re-bucket data is refused, naming the key and what to do.
 */
import { ConfigError } from "./config";
import { ShardRange, shardMap } from "./shard-map";
import { MAX_LOGICAL_SHARDS } from "./ids";
import { PORTS } from "./ports";

/** Serving: reads and writes go to its physical shard. Moving: being copied to `movingTo` (writes may pause). */
export type LogicalShardState = "serving" | "moving";

/** Logical shards FIRST..LAST, both included. */
export interface LogicalShardRange {
    readonly first: number;
    readonly last: number;
}

/** A run of logical shards on one physical shard, in one state. */
export interface DirectoryRange extends LogicalShardRange {
    readonly physicalShard: number;
    readonly state: LogicalShardState;
    /** The destination, while moving. */
    readonly movingTo?: number;
}

export interface PhysicalShardEntry {
    readonly physicalShard: number;
    /** host:port of the pgbouncer in front of its current primary; absent until the primary exists. */
    readonly endpoint?: string;
    /** Its standby was promoted (`promote SHARD`): the standby host serves as the primary from then on. */
    readonly promotedStandby?: true;
}

export interface ShardDirectory {
    readonly format: 1;
    readonly logicalShards: number;
    /** Sorted, contiguous, covering 0..logicalShards-1 exactly once. */
    readonly ranges: readonly DirectoryRange[];
    /** Physical shards 0..N-1, in order; one may hold no logical shard (added, not yet filled). */
    readonly physicalShards: readonly PhysicalShardEntry[];
}

/** The SSM parameter that holds a stack's directory (a path of its own, so a lookup by path finds it or nothing). */
export function shardDirectoryParameterPath(stack: string): string {
    return `/instagram/${stack}/directory`;
}
export function shardDirectoryParameterName(stack: string): string {
    return `${shardDirectoryParameterPath(stack)}/shards`;
}

/** The directory a first deploy writes: core/shard-map.ts's contiguous blocks, every logical shard serving. */
export function initialDirectory(logicalShards: number, physicalShards: number): ShardDirectory {
    return directoryFromShardMap(shardMap(logicalShards, physicalShards), logicalShards, physicalShards);
}

const isWhole = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;

/** Every problem with a directory read from outside (`where` names the source in each message); empty if none. */
export function directoryProblems(value: unknown, where: string): string[] {
    const problems: string[] = [];
    const d = value as Partial<ShardDirectory> | null;
    if (d === null || typeof d !== "object" || Array.isArray(d)) return [`${where}: not a JSON object`];
    if (d.format !== 1) problems.push(`${where}: format is ${JSON.stringify(d.format)}, this program reads format 1`);
    if (!isWhole(d.logicalShards) || d.logicalShards < 1 || d.logicalShards > MAX_LOGICAL_SHARDS) problems.push(`${where}: logicalShards must be 1 to ${MAX_LOGICAL_SHARDS}`);
    if (!Array.isArray(d.physicalShards) || d.physicalShards.length === 0) problems.push(`${where}: physicalShards must be a non-empty list`);
    if (!Array.isArray(d.ranges) || d.ranges.length === 0) problems.push(`${where}: ranges must be a non-empty list`);
    if (problems.length > 0) return problems;
    d.physicalShards!.forEach((p, i) => {
        if (!p || p.physicalShard !== i) problems.push(`${where}: physicalShards[${i}] must be physical shard ${i}`);
        else if (p.endpoint !== undefined && !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(p.endpoint)) problems.push(`${where}: physical shard ${i}'s endpoint ${JSON.stringify(p.endpoint)} is not host:port`);
        else if (p.promotedStandby !== undefined && p.promotedStandby !== true) problems.push(`${where}: physical shard ${i}'s promotedStandby must be true or absent`);
    });
    let next = 0;
    for (const r of d.ranges!) {
        const label = r && isWhole(r.first) && isWhole(r.last) ? `range ${r.first}-${r.last}` : `range ${JSON.stringify(r)}`;
        if (!r || !isWhole(r.first) || !isWhole(r.last) || r.last < r.first) { problems.push(`${where}: ${label} is not FIRST-LAST with FIRST <= LAST`); continue; }
        if (r.first !== next) problems.push(`${where}: ${label} starts at ${r.first}, but logical shard ${next} comes next (ranges must be sorted, with no gap or overlap)`);
        next = r.last + 1;
        const known = (p: unknown) => isWhole(p) && p < d.physicalShards!.length;
        if (!known(r.physicalShard)) problems.push(`${where}: ${label} is on physical shard ${JSON.stringify(r.physicalShard)}, which the directory does not list`);
        if (r.state !== "serving" && r.state !== "moving") problems.push(`${where}: ${label} has state ${JSON.stringify(r.state)}, not serving or moving`);
        if (r.state === "moving" && (!known(r.movingTo) || r.movingTo === r.physicalShard)) problems.push(`${where}: ${label} is moving, to ${JSON.stringify(r.movingTo)}: not another listed physical shard`);
        if (r.state === "serving" && r.movingTo !== undefined) problems.push(`${where}: ${label} is serving but names movingTo`);
    }
    if (problems.length === 0 && next !== d.logicalShards) problems.push(`${where}: the ranges end at ${next - 1}, but there are ${d.logicalShards} logical shards`);
    return problems;
}

/** Parse and check a directory's JSON text; throws ConfigError with every problem. */
export function parseShardDirectory(text: string, where: string): ShardDirectory {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (e) {
        throw new ConfigError([`${where}: not JSON (${(e as Error).message})`]);
    }
    const problems = directoryProblems(value, where);
    if (problems.length > 0) throw new ConfigError(problems);
    return value as ShardDirectory;
}

export function formatShardDirectory(d: ShardDirectory): string {
    return JSON.stringify(d);
}

/** The physical shard that holds a logical shard (its source while it moves). */
export function physicalShardIn(d: ShardDirectory, logicalShard: number): number {
    const ranges = d.ranges;
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (logicalShard < ranges[mid].first) hi = mid - 1;
        else if (logicalShard > ranges[mid].last) lo = mid + 1;
        else return ranges[mid].physicalShard;
    }
    throw new Error(`logical shard ${logicalShard} is outside 0..${d.logicalShards - 1}`);
}

/** The ranges a physical shard holds (none for a shard added and not yet filled). */
export function rangesOn(d: ShardDirectory, physicalShard: number): DirectoryRange[] {
    return d.ranges.filter((r) => r.physicalShard === physicalShard);
}

/** What a physical shard holds, as its host role needs it (FIRST..LAST runs, merged where adjacent). */
export function logicalShardsOn(d: ShardDirectory, physicalShard: number): LogicalShardRange[] {
    const merged: LogicalShardRange[] = [];
    for (const r of rangesOn(d, physicalShard)) {
        const prev = merged[merged.length - 1];
        if (prev && prev.last + 1 === r.first) merged[merged.length - 1] = { first: prev.first, last: r.last };
        else merged.push({ first: r.first, last: r.last });
    }
    return merged;
}

/** The directory as the app's shard map (core/app-contract.ts INSTAGRAM_SHARD_MAP): one entry per range. */
export function directoryShardMap(d: ShardDirectory): ShardRange[] {
    return d.ranges.map((r) => ({ physicalShard: r.physicalShard, firstLogicalShard: r.first, lastLogicalShard: r.last }));
}

/** A directory from the app's shard map (every range serving), over `physicalShards` physical shards; unchecked. */
export function directoryFromShardMap(map: readonly ShardRange[], logicalShards: number, physicalShards: number): ShardDirectory {
    return {
        format: 1,
        logicalShards,
        ranges: [...map].sort((a, b) => a.firstLogicalShard - b.firstLogicalShard).map((r) => ({ first: r.firstLogicalShard, last: r.lastLogicalShard, physicalShard: r.physicalShard, state: "serving" as const })),
        physicalShards: Array.from({ length: physicalShards }, (_, physicalShard) => ({ physicalShard })),
    };
}

/** The directory as an operator reads it: one line per physical shard, with what it holds and in what state. */
export function describeDirectory(d: ShardDirectory): string[] {
    const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
    const lines = [`${count(d.logicalShards, "logical shard")} on ${count(d.physicalShards.length, "physical shard")}`];
    for (const p of d.physicalShards) {
        const held = rangesOn(d, p.physicalShard).map((r) => `${r.first}-${r.last} (${r.last - r.first + 1}, ${r.state === "moving" ? `moving to ${r.movingTo}` : "serving"})`);
        const incoming = d.ranges.filter((r) => r.movingTo === p.physicalShard).map((r) => `${r.first}-${r.last} arriving from ${r.physicalShard}`);
        lines.push(`  physical ${p.physicalShard}  ${(p.endpoint ?? "(no endpoint yet)").padEnd(21)}  ${[...held, ...incoming].join(", ") || "(no logical shard)"}`);
    }
    return lines;
}

/** The range that holds one logical shard. */
export function rangeOf(d: ShardDirectory, logicalShard: number): DirectoryRange {
    const r = d.ranges.find((x) => logicalShard >= x.first && logicalShard <= x.last);
    if (!r) throw new Error(`logical shard ${logicalShard} is outside 0..${d.logicalShards - 1}`);
    return r;
}

/** Where one logical shard is and in what state. */
export type Placement = Pick<DirectoryRange, "physicalShard" | "state" | "movingTo">;

/** The directory with one logical shard placed anew: its range split around it, equal neighbours merged. */
export function withPlacement(d: ShardDirectory, logicalShard: number, placement: Placement): ShardDirectory {
    rangeOf(d, logicalShard);
    const single: DirectoryRange = { first: logicalShard, last: logicalShard, physicalShard: placement.physicalShard, state: placement.state, ...(placement.state === "moving" ? { movingTo: placement.movingTo } : {}) };
    const pieces = d.ranges.flatMap((r) => {
        if (logicalShard < r.first || logicalShard > r.last) return [r];
        return [
            ...(r.first < logicalShard ? [{ ...r, last: logicalShard - 1 }] : []),
            single,
            ...(logicalShard < r.last ? [{ ...r, first: logicalShard + 1 }] : []),
        ];
    });
    const same = (a: DirectoryRange, b: DirectoryRange) => a.physicalShard === b.physicalShard && a.state === b.state && a.movingTo === b.movingTo;
    const ranges: DirectoryRange[] = [];
    for (const r of pieces) {
        const prev = ranges[ranges.length - 1];
        if (prev && same(prev, r)) ranges[ranges.length - 1] = { ...prev, last: r.last };
        else ranges.push(r);
    }
    return { ...d, ranges };
}

/** The directory with a physical shard's endpoint (and whether its standby now serves) set. */
export function withEndpoint(d: ShardDirectory, physicalShard: number, endpoint: string, promotedStandby: boolean): ShardDirectory {
    if (!d.physicalShards[physicalShard]) throw new Error(`the shard directory lists no physical shard ${physicalShard}`);
    return { ...d, physicalShards: d.physicalShards.map((p) => (p.physicalShard === physicalShard ? { physicalShard, endpoint, ...(promotedStandby ? { promotedStandby: true as const } : {}) } : p)) };
}

/** The logical shards moving now, as "FIRST-LAST → P" runs. */
export function movesUnderWay(d: ShardDirectory): string[] {
    return d.ranges.filter((r) => r.state === "moving").map((r) => `${r.first}-${r.last} (${r.physicalShard} → ${r.movingTo})`);
}

/**
 * The moves under way that a point-in-time restore of a physical shard would break: one whose source or
 * destination it is (a restore rewinds the copy, the subscription or the freeze a move's next step relies on).
 */
export function movesTouching(d: ShardDirectory, physicalShard: number): string[] {
    return d.ranges
        .filter((r) => r.state === "moving" && (r.physicalShard === physicalShard || r.movingTo === physicalShard))
        .map((r) => `${r.first}-${r.last} (${r.physicalShard} → ${r.movingTo})`);
}

/**
 * A deploy rewrites the deployed directory (each shard's endpoint), so it must not race a move's flip: it is
 * refused (ConfigError, before any resource exists) while the directory shows a move under way.
 */
export function refuseDeployDuringMove(deployed: ShardDirectory | undefined): void {
    const moving = deployed ? movesUnderWay(deployed) : [];
    if (moving.length === 0) return;
    throw new ConfigError([
        `the deployed shard directory shows a shards move under way: logical shards ${moving.join(", ")}. ` +
            "Finish it (run the same `npm run ops -- shards move FIRST-LAST --to P` again) or roll it back (add --rollback), then deploy",
    ]);
}

/** The part of the config the directory depends on. */
export interface ShardCounts {
    readonly logicalShards: number;
    readonly physicalShards: number;
    /** Whether shards have standbys: a shard whose standby was promoted needs that host kept. */
    readonly shardStandby?: boolean;
}

/**
 * The directory this deploy should have: the initial one when none is deployed; otherwise the deployed one,
 * with empty physical shards added when physicalShards grew. Refuses (ConfigError, before any resource
 * exists) a change of logicalShards, and lowering physicalShards below a shard that holds or receives data.
 */
export function reconcileShardDirectory(deployed: ShardDirectory | undefined, config: ShardCounts): ShardDirectory {
    if (!deployed) return initialDirectory(config.logicalShards, config.physicalShards);
    const problems: string[] = [];
    const promoted = deployed.physicalShards.filter((p) => p.promotedStandby).map((p) => p.physicalShard);
    if (config.shardStandby === false && promoted.length > 0) {
        problems.push(
            `instagram:shardStandby = false: physical shard${promoted.length === 1 ? "" : "s"} ${promoted.join(", ")} run${promoted.length === 1 ? "s" : ""} on the standby host promoted by \`promote\`; ` +
                "removing standbys would remove that primary. Keep instagram:shardStandby true",
        );
    }
    if (config.logicalShards !== deployed.logicalShards) {
        problems.push(
            `instagram:logicalShards = ${config.logicalShards}: the deployed shard directory has ${deployed.logicalShards} logical shards, and ` +
                "changing the count would re-bucket every user and ID onto other shards. Logical shards are fixed once deployed: " +
                `set it back (pulumi config set instagram:logicalShards ${deployed.logicalShards}); capacity grows by raising instagram:physicalShards and moving logical shards`,
        );
    }
    const have = deployed.physicalShards.length;
    if (config.physicalShards < have) {
        for (let p = config.physicalShards; p < have; p++) {
            const held = deployed.ranges.filter((r) => r.physicalShard === p || r.movingTo === p);
            if (held.length > 0) {
                problems.push(
                    `instagram:physicalShards = ${config.physicalShards}: physical shard ${p} still holds logical shards ${held.map((r) => `${r.first}-${r.last}`).join(", ")}; ` +
                        `removing it would drop their data. Keep instagram:physicalShards at ${have}: a physical shard can be removed only once moves have emptied it`,
                );
            }
        }
    }
    if (problems.length > 0) throw new ConfigError(problems);
    if (config.physicalShards === have) return deployed;
    const physicalShards = config.physicalShards > have
        ? [...deployed.physicalShards, ...Array.from({ length: config.physicalShards - have }, (_, i) => ({ physicalShard: have + i }))]
        : deployed.physicalShards.slice(0, config.physicalShards);
    return { ...deployed, physicalShards };
}

/**
 * The directory with each physical shard's endpoint as the deploy knows it: the pgbouncer of the host that
 * serves as its primary (the primary host's, or the standby host's once `promote` promoted it).
 */
export function withPrimaryAddresses(d: ShardDirectory, addressOf: (physicalShard: number, host: "primary" | "standby") => string): ShardDirectory {
    return {
        ...d,
        physicalShards: d.physicalShards.map((p) => ({
            physicalShard: p.physicalShard,
            endpoint: `${addressOf(p.physicalShard, p.promotedStandby ? "standby" : "primary")}:${PORTS.pgbouncer}`,
            ...(p.promotedStandby ? { promotedStandby: true as const } : {}),
        })),
    };
}

/** host of an endpoint (host:port): a primary's address, where its PostgreSQL listens too. */
export function endpointHost(endpoint: string): string {
    return endpoint.slice(0, endpoint.lastIndexOf(":"));
}
