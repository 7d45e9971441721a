/**
 * The metrics a host publishes about itself (cloud-init/scripts/host-metrics.sh), where EC2 sees nothing:
 * the data volume of the database tiers, replication and WAL archive lag, Redis memory, Gearman's queue.
 * Pure: the host role writes the publisher's settings from it, the alarms name the same metrics, and the
 * hosts' IAM policy lets them write to this namespace only.
 */

/** Each stack's own namespace, so two stacks in one account never mix their hosts' figures. */
export function hostMetricsNamespace(stack: string): string {
    return `Instagram/${stack}`;
}

/** The dimension every host metric carries: the host's name (its Name tag). */
export const HOST_DIMENSION = "Host";

export const HOST_METRICS = {
    dataVolumeUsed: "DataVolumeUsedPercent",
    dataVolumeIoBusy: "DataVolumeIoBusyPercent",
    replicationLag: "ReplicationLagSeconds",
    walArchiveLag: "WalArchiveLagSeconds",
    redisMemory: "RedisMemoryUsedPercent",
    gearmanQueued: "GearmanQueuedJobs",
} as const;

export type MetricsCollector = "data" | "postgres" | "redis" | "gearman";

/** What the publisher collects on a tier's hosts; a tier not listed publishes nothing. */
export const METRICS_COLLECTORS: Readonly<Record<string, readonly MetricsCollector[]>> = {
    shard: ["data", "postgres"],
    search: ["data", "postgres"],
    redis: ["redis"],
    gearman: ["gearman"],
};

/** Seconds between two publications (the timer's interval; the alarms' period is a multiple of it). */
export const HOST_METRICS_INTERVAL_S = 60;
