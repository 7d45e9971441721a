/**
 * What pages whom, as data: the CloudWatch alarms of every tier (the edge, each host, the external check),
 * their thresholds from the stack config, and which hosts EC2 recovers by itself. Pure: the Alerting
 * component (components/alerting.ts) turns each spec into an alarm whose ALARM and OK both go to the stack's
 * alert topic. Dimension values are whatever the caller passes (outputs in the program, strings in tests).
 */
import { instanceSpec } from "./instance-types";
import { HOST_DIMENSION, HOST_METRICS, METRICS_COLLECTORS } from "./host-metrics";

/** Tiers whose hosts EC2 recovers in place on a failed system status check: same instance ID, volumes, address. */
export const RECOVERED_ROLES: readonly string[] = ["shard", "redis", "search"];

/** The regions Route53's checkers probe the site from (at least three; AWS's minimum). */
export const HEALTH_CHECK_REGIONS = ["us-east-1", "us-west-2", "eu-west-1"] as const;
/** What the external check asks for: the app's own readiness, through the load balancer. */
export const HEALTH_CHECK_PATH = "/readyz";

export interface AlarmThresholds {
    /** Load balancer answers that are 5xx (its own and the targets'), percent of requests over a minute. */
    readonly lb5xxPercent: number;
    /** Target response time p99 over a minute, milliseconds. */
    readonly lbP99Ms: number;
    /** A burstable host's CPU credit balance below this is alarmed (it is running above its baseline). */
    readonly cpuCreditsMin: number;
    /** From the hosts' own metrics (core/host-metrics.ts). */
    readonly dataVolumeUsedPercent: number;
    readonly dataVolumeIoBusyPercent: number;
    readonly replicationLagSeconds: number;
    readonly walArchiveLagSeconds: number;
    readonly redisMemoryPercent: number;
    readonly gearmanQueuedJobs: number;
}

export interface MetricQuery<T> {
    readonly id: string;
    /** A metric math expression over the other queries' ids; or a metric. */
    readonly expression?: string;
    readonly metric?: { readonly namespace: string; readonly metricName: string; readonly stat: string; readonly dimensions: Readonly<Record<string, T>> };
    /** The one whose value is compared with the threshold. */
    readonly returnData?: boolean;
}

export interface AlarmSpec<T> {
    /** Unique within the stack, e.g. "app-0-status-system". */
    readonly name: string;
    /** What it means and what to do first: the page's text. */
    readonly description: string;
    readonly comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
    readonly threshold: number;
    readonly periodSeconds: number;
    readonly evaluationPeriods: number;
    readonly datapointsToAlarm: number;
    /** A missing datapoint: a host that stops reporting status checks is breaching; an idle load balancer is not. */
    readonly treatMissingData: "breaching" | "notBreaching" | "missing";
    /** One metric (namespace, name, statistic or percentile, dimensions), or metric math. */
    readonly metric?: { readonly namespace: string; readonly metricName: string; readonly statistic?: string; readonly extendedStatistic?: string; readonly dimensions: Readonly<Record<string, T | string>> };
    readonly queries?: readonly MetricQuery<T>[];
    /** EC2's recover action as well as the topic (a failed system status check on a host with data). */
    readonly recover?: boolean;
}

/** The edge: the share of 5xx answers, the p99 response time, and app hosts the load balancer finds unhealthy. */
export function edgeAlarms<T>(lb: { loadBalancer: T; targetGroup: T }, t: AlarmThresholds): AlarmSpec<T>[] {
    const minute = { periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3 };
    const elb = (metricName: string, stat: string, dimensions: Record<string, T>) => ({ namespace: "AWS/ApplicationELB", metricName, stat, dimensions });
    const lbDims = { LoadBalancer: lb.loadBalancer };
    return [
        {
            name: "lb-5xx-rate",
            description: `More than ${t.lb5xxPercent}% of the site's answers were 5xx (the load balancer's own or the app's) in 3 of the last 5 minutes. Look at /readyz (which tier is down) and the app hosts' journals.`,
            comparison: "GreaterThanThreshold",
            threshold: t.lb5xxPercent,
            ...minute,
            treatMissingData: "notBreaching",
            queries: [
                { id: "elb5xx", metric: elb("HTTPCode_ELB_5XX_Count", "Sum", lbDims) },
                { id: "target5xx", metric: elb("HTTPCode_Target_5XX_Count", "Sum", lbDims) },
                { id: "requests", metric: elb("RequestCount", "Sum", lbDims) },
                { id: "rate", expression: "100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / MAX([FILL(requests, 0), 1])", returnData: true },
            ],
        },
        {
            name: "lb-p99-response-time",
            description: `The app's p99 response time through the load balancer was over ${t.lbP99Ms} ms in 3 of the last 5 minutes. Look at the shards (pgbouncer waits), Redis and the app hosts' CPU in Munin.`,
            comparison: "GreaterThanThreshold",
            threshold: t.lbP99Ms / 1000,
            ...minute,
            treatMissingData: "notBreaching",
            metric: { namespace: "AWS/ApplicationELB", metricName: "TargetResponseTime", extendedStatistic: "p99", dimensions: lbDims },
        },
        {
            name: "lb-unhealthy-targets",
            description: "The load balancer has found an app host unhealthy (/healthz) for 3 minutes: it no longer gets requests. Look at that host's nginx and instagram-app units.",
            comparison: "GreaterThanThreshold",
            threshold: 0,
            periodSeconds: 60,
            evaluationPeriods: 3,
            datapointsToAlarm: 3,
            treatMissingData: "notBreaching",
            metric: { namespace: "AWS/ApplicationELB", metricName: "UnHealthyHostCount", statistic: "Maximum", dimensions: { LoadBalancer: lb.loadBalancer, TargetGroup: lb.targetGroup } },
        },
    ];
}

/** One host's alarms: EC2's two status checks (recovery for the data tiers) and, on a burstable type, its CPU credits. */
export function hostAlarms<T>(host: { name: string; role: string; instanceType: string; instanceId: T }, t: AlarmThresholds): AlarmSpec<T>[] {
    const ec2 = (metricName: string, statistic: string) => ({ namespace: "AWS/EC2", metricName, statistic, dimensions: { InstanceId: host.instanceId } });
    const recover = RECOVERED_ROLES.includes(host.role);
    const alarms: AlarmSpec<T>[] = [
        {
            name: `${host.name}-status-system`,
            description: `${host.name} (${host.role}) failed EC2's system status check for 2 minutes (the hardware or the network under it).` +
                (recover ? " EC2 recovers it in place (same instance, volumes and address); check its services once it is back." : " Stop and start it (or replace it with `pulumi up`)."),
            comparison: "GreaterThanOrEqualToThreshold",
            threshold: 1,
            periodSeconds: 60,
            evaluationPeriods: 2,
            datapointsToAlarm: 2,
            treatMissingData: "breaching",
            metric: ec2("StatusCheckFailed_System", "Maximum"),
            recover,
        },
        {
            name: `${host.name}-status-instance`,
            description: `${host.name} (${host.role}) failed EC2's instance status check for 3 minutes (its OS does not answer: memory, disk, kernel). Look at its console output; reboot it.`,
            comparison: "GreaterThanOrEqualToThreshold",
            threshold: 1,
            periodSeconds: 60,
            evaluationPeriods: 3,
            datapointsToAlarm: 3,
            treatMissingData: "breaching",
            metric: ec2("StatusCheckFailed_Instance", "Maximum"),
        },
    ];
    if (isBurstable(host.instanceType)) {
        alarms.push({
            name: `${host.name}-cpu-credits`,
            description: `${host.name} (${host.instanceType}) has had fewer than ${t.cpuCreditsMin} CPU credits for 15 minutes: it runs above its baseline and will be throttled (standard) or billed for surplus (unlimited). Give the tier a larger or non-burstable type.`,
            comparison: "LessThanThreshold",
            threshold: t.cpuCreditsMin,
            periodSeconds: 300,
            evaluationPeriods: 3,
            datapointsToAlarm: 3,
            treatMissingData: "missing",
            metric: ec2("CPUCreditBalance", "Minimum"),
        });
    }
    return alarms;
}

/**
 * One host's alarms on what it publishes itself (cloud-init/scripts/host-metrics.sh). Every PostgreSQL host
 * gets both the lag alarms: the publisher sends replication lag while it is a standby and archive lag while it
 * is an archiving primary, so a promoted standby is watched as a primary with no change here. A minute not
 * published is missing data, not a breach: the status checks page for a host that is down.
 */
export function hostMetricAlarms<T>(host: { name: string; role: string }, namespace: string, t: AlarmThresholds): AlarmSpec<T>[] {
    const collectors = METRICS_COLLECTORS[host.role] ?? [];
    const metric = (metricName: string, statistic: string) => ({ namespace, metricName, statistic, dimensions: { [HOST_DIMENSION]: host.name } });
    const spec = (name: string, description: string, threshold: number, metricName: string, minutes: number, statistic = "Maximum"): AlarmSpec<T> => ({
        name: `${host.name}-${name}`,
        description: `${host.name} (${host.role}): ${description}`,
        comparison: "GreaterThanThreshold",
        threshold,
        periodSeconds: 60,
        evaluationPeriods: minutes,
        datapointsToAlarm: minutes,
        treatMissingData: "missing",
        metric: metric(metricName, statistic),
    });
    const alarms: AlarmSpec<T>[] = [];
    if (collectors.includes("data")) {
        alarms.push(spec("data-volume-used", `/data has been over ${t.dataVolumeUsedPercent}% full for 10 minutes. Grow the volumes (more GiB or another volume; see the README's runbook) or move logical shards off this host before PostgreSQL stops on a full disk.`, t.dataVolumeUsedPercent, HOST_METRICS.dataVolumeUsed, 10));
        alarms.push(spec("data-volume-io", `the data volume has been busy over ${t.dataVolumeIoBusyPercent}% of the time for 15 minutes. Look at Munin's postgres graphs for the queries; more volumes in the array or provisioned IOPS give it more.`, t.dataVolumeIoBusyPercent, HOST_METRICS.dataVolumeIoBusy, 15, "Average"));
    }
    if (collectors.includes("postgres")) {
        alarms.push(spec("replication-lag", `as a standby it has been over ${t.replicationLagSeconds} s behind its primary for 5 minutes: a failover now would lose that much, and reads from it are stale. Check pg_stat_wal_receiver on it and the primary's replication slot.`, t.replicationLagSeconds, HOST_METRICS.replicationLag, 5));
        if (host.role === "shard") {
            alarms.push(spec("wal-archive-lag", `its oldest WAL segment waiting for archive has been older than ${t.walArchiveLagSeconds} s for 5 minutes: point-in-time recovery is that far behind, and pg_wal grows. Look at pgBackRest's log (archive-push) and the backup bucket.`, t.walArchiveLagSeconds, HOST_METRICS.walArchiveLag, 5));
        }
    }
    if (collectors.includes("redis")) {
        alarms.push(spec("redis-memory", `Redis has used over ${t.redisMemoryPercent}% of its maxmemory for 5 minutes; at the limit writes fail (noeviction). Trim feeds or give the tier a larger type.`, t.redisMemoryPercent, HOST_METRICS.redisMemory, 5));
    }
    if (collectors.includes("gearman")) {
        alarms.push(spec("gearman-queue", `gearmand has held over ${t.gearmanQueuedJobs} jobs for 10 minutes: the job workers do not keep up (or none is registered). Look at instagram-work on the worker hosts and gearadmin --status.`, t.gearmanQueuedJobs, HOST_METRICS.gearmanQueued, 10));
    }
    return alarms;
}

/** The external check's alarm (Route53 publishes health-check metrics in us-east-1 only). */
export function externalCheckAlarm<T>(domain: string, healthCheckId: T): AlarmSpec<T> {
    return {
        name: "site-external-check",
        description: `Route53's checkers in ${HEALTH_CHECK_REGIONS.join(", ")} could not get 2xx/3xx from https://${domain}${HEALTH_CHECK_PATH} for 2 minutes: the site is down or not ready as its users see it. Start at /readyz's problems.`,
        comparison: "LessThanThreshold",
        threshold: 1,
        periodSeconds: 60,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        treatMissingData: "breaching",
        metric: { namespace: "AWS/Route53", metricName: "HealthCheckStatus", statistic: "Minimum", dimensions: { HealthCheckId: healthCheckId } },
    };
}

export function isBurstable(instanceType: string): boolean {
    return instanceSpec(instanceType) !== undefined && /^t\d/.test(instanceType);
}

/** Where alerts go, in words (the plan prints it): PagerDuty, e-mail, both, or nowhere. */
export function alertDestinations(c: { alertEmails: readonly string[]; pagerdutyEscalationPolicy?: string }): string {
    const to = [
        ...(c.pagerdutyEscalationPolicy ? [`PagerDuty (escalation policy ${c.pagerdutyEscalationPolicy})`] : []),
        ...(c.alertEmails.length > 0 ? [`e-mail to ${c.alertEmails.join(", ")}`] : []),
    ];
    return to.length > 0
        ? `alerts go to ${to.join(" and ")}`
        : "alerts go nowhere: the alarms publish to the stack's alert topic, which nothing subscribes to (set instagram:pagerdutyEscalationPolicy or instagram:alertEmails)";
}
