/**
 * The one-machine stack's layout, from the same validated stack config the Pulumi program reads: which
 * "hosts" exist, their roles, and the loopback address each gets, so every daemon listens on its standard
 * port (5432, 6432, 6379, 11211, 4730, 80, 443, 4949) exactly as on EC2. Pure: no files, no processes.
 */
import { InstagramConfig, pushSettingsOf } from "../core/config";
import { PushSettings } from "../core/push";
import { ProvidedSecretName } from "../core/secrets";
import { ShardRange } from "../core/shard-map";
import { directoryShardMap, LogicalShardRange, logicalShardsOn, ShardDirectory } from "../core/shard-directory";

/** A shard host's physical shard and what it holds, from the shard directory. */
export interface LocalShard {
    readonly physicalShard: number;
    readonly logicalShards: readonly LogicalShardRange[];
}

export type LocalRole = "edge" | "munin" | "app" | "shard-primary" | "shard-standby" | "search-primary" | "search-standby" | "redis-primary" | "redis-replica" | "memcached" | "gearman" | "worker";

export interface LocalHost {
    /** As on EC2: app-0, shard-0-primary, redis-primary, memcached-0... */
    readonly name: string;
    readonly role: LocalRole;
    readonly address: string;
    /** For shard hosts. */
    readonly shard?: LocalShard;
}

export interface LocalPlan {
    /** The first three octets of every host's address, e.g. "127.0.20". */
    readonly net: string;
    readonly hosts: readonly LocalHost[];
    /** Where each logical shard lives (the stack's .local/shard-directory.json). */
    readonly directory: ShardDirectory;
    /** The directory as the app's shard map. */
    readonly shardMap: readonly ShardRange[];
    readonly logicalShards: number;
    /** Workers per app host (locally a fixed small number: the machine is shared by every tier). */
    readonly workers: number;
    /** Job worker processes per host that runs them: the worker hosts, or the app hosts when there are none. */
    readonly jobWorkers: number;
    /** The app hosts run the job workers (instagram:workerServers is 0), as on EC2. */
    readonly jobWorkersOnApp: boolean;
    readonly domain: string;
    readonly shardStandby: boolean;
    readonly redisReplica: boolean;
    /** Push settings from the stack config (each platform only when fully set) and their credentials' texts. */
    readonly push: PushSettings;
    readonly providedCredentials: Partial<Record<ProvidedSecretName, string>>;
    /** Where the job workers send instead of Apple and Google (`up --apns-endpoint/--fcm-endpoint/--push-ca`). */
    readonly pushStandIn: PushStandIn;
}

/** Stand-ins for APNs and FCM on loopback (tools/push-stand-ins.ts), and the CA file their certificates need. */
export interface PushStandIn {
    readonly apnsEndpoint?: string;
    readonly fcmEndpoint?: string;
    readonly caFile?: string;
}

/** Address blocks within the /24: the edge and Munin, gearmand, app hosts, shard pairs, the search pair, Redis, memcached, job workers. */
const BLOCKS = { edge: 1, munin: 2, gearman: [3, 9], app: [10, 79], shard: [80, 207], search: 208, redis: 210, memcached: [220, 249], worker: [250, 254] } as const;
/** Job worker processes per local host: the machine is shared by every tier. */
export const LOCAL_JOB_WORKERS = 2;

export class LocalPlanError extends Error {}

export function parseNet(text: string): string {
    const m = /^127\.(\d{1,3})\.(\d{1,3})$/.exec(text);
    if (!m || Number(m[1]) > 255 || Number(m[2]) > 255) throw new LocalPlanError(`--net ${text}: must be the first three octets of a loopback /24, such as 127.0.20`);
    return text;
}

export function localPlan(config: InstagramConfig, options: { net: string; workers: number; pushStandIn?: PushStandIn }, directory: ShardDirectory): LocalPlan {
    const net = parseNet(options.net);
    const problems: string[] = [];
    const fits = (what: string, count: number, [first, last]: readonly [number, number]) => {
        if (count > last - first + 1) problems.push(`${what} = ${count}: the local stack has room for ${last - first + 1} on one /24`);
    };
    fits("instagram:appServers", config.appServers, BLOCKS.app);
    fits("instagram:physicalShards (x2 with standbys)", config.physicalShards * 2, BLOCKS.shard);
    fits("instagram:memcachedNodes", config.memcachedNodes, BLOCKS.memcached);
    fits("instagram:gearmanServers", config.gearmanServers, BLOCKS.gearman);
    fits("instagram:workerServers", config.workerServers, BLOCKS.worker);
    if (problems.length > 0) throw new LocalPlanError(problems.join("; "));

    const at = (n: number) => `${net}.${n}`;
    const shards: LocalShard[] = directory.physicalShards.map(({ physicalShard }) => ({ physicalShard, logicalShards: logicalShardsOn(directory, physicalShard) }));
    const hosts: LocalHost[] = [
        { name: "edge", role: "edge", address: at(BLOCKS.edge) },
        { name: "munin", role: "munin", address: at(BLOCKS.munin) },
        ...shards.flatMap((shard) => [
            { name: `shard-${shard.physicalShard}-primary`, role: "shard-primary" as const, address: at(BLOCKS.shard[0] + 2 * shard.physicalShard), shard },
            ...(config.shardStandby ? [{ name: `shard-${shard.physicalShard}-standby`, role: "shard-standby" as const, address: at(BLOCKS.shard[0] + 2 * shard.physicalShard + 1), shard }] : []),
        ]),
        ...(config.searchServers > 0 ? [{ name: "search-primary", role: "search-primary" as const, address: at(BLOCKS.search) }] : []),
        ...(config.searchServers > 1 ? [{ name: "search-standby", role: "search-standby" as const, address: at(BLOCKS.search + 1) }] : []),
        { name: "redis-primary", role: "redis-primary", address: at(BLOCKS.redis) },
        ...(config.redisReplica ? [{ name: "redis-replica", role: "redis-replica" as const, address: at(BLOCKS.redis + 1) }] : []),
        ...Array.from({ length: config.memcachedNodes }, (_, i) => ({ name: `memcached-${i}`, role: "memcached" as const, address: at(BLOCKS.memcached[0] + i) })),
        ...Array.from({ length: config.gearmanServers }, (_, i) => ({ name: `gearman-${i}`, role: "gearman" as const, address: at(BLOCKS.gearman[0] + i) })),
        ...Array.from({ length: config.appServers }, (_, i) => ({ name: `app-${i}`, role: "app" as const, address: at(BLOCKS.app[0] + i) })),
        ...Array.from({ length: config.workerServers }, (_, i) => ({ name: `worker-${i}`, role: "worker" as const, address: at(BLOCKS.worker[0] + i) })),
    ];
    return {
        net,
        hosts,
        directory,
        shardMap: directoryShardMap(directory),
        logicalShards: config.logicalShards,
        workers: options.workers,
        jobWorkers: LOCAL_JOB_WORKERS,
        jobWorkersOnApp: config.workerServers === 0,
        domain: config.domain,
        shardStandby: config.shardStandby,
        redisReplica: config.redisReplica,
        push: pushSettingsOf(config),
        providedCredentials: {
            ...(config.apnsKey ? { "apns-key": config.apnsKey } : {}),
            ...(config.fcmServiceAccount ? { "fcm-service-account": config.fcmServiceAccount } : {}),
            ...(config.sentryDsn ? { "sentry-dsn": config.sentryDsn } : {}),
        },
        pushStandIn: options.pushStandIn ?? {},
    };
}

export const hostsOf = (plan: LocalPlan, ...roles: LocalRole[]) => plan.hosts.filter((h) => roles.includes(h.role));
export const hostNamed = (plan: LocalPlan, name: string) => plan.hosts.find((h) => h.name === name);
/** The primary (or standby) host of a physical shard. */
export function shardHost(plan: LocalPlan, physicalShard: number, member: "primary" | "standby" = "primary"): LocalHost {
    const host = plan.hosts.find((h) => h.role === `shard-${member}` && h.shard?.physicalShard === physicalShard);
    if (!host) throw new Error(`the local stack has no ${member} for physical shard ${physicalShard}`);
    return host;
}
export const edgeHost = (plan: LocalPlan) => hostsOf(plan, "edge")[0];
/** The search tier's primary, when the stack has one. */
export const searchPrimary = (plan: LocalPlan): LocalHost | undefined => hostsOf(plan, "search-primary")[0];
/** A host running PostgreSQL: a shard member or a search host. */
export const isDatabaseHost = (host: LocalHost) => host.role.startsWith("shard-") || host.role.startsWith("search-");
