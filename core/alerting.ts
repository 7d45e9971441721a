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

/**
 * How the alarms on a host's EC2 status checks treat a minute with no datapoint.
 *
 * A host has no datapoint before EC2 has checked it: its alarms are created seconds after the instance, and
 * EC2 checks only a running instance, once a minute. Treated as breaching, every new host (a first deploy, a
 * replacement, a rollout) would page and, on the data tiers, send EC2 to recover a host that is booting.
 * AWS: "For alarms on Amazon EC2 metrics that are configured to take stop, terminate, reboot, or recover
 * actions, we recommend that you configure those alarms to treat missing data as `missing`", and a missing
 * datapoint alone never moves an alarm to ALARM: with every datapoint of its evaluation range missing it
 * goes to INSUFFICIENT_DATA, which sends nothing here
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html).
 * So the recover action acts only on a failed system check that EC2 reported, which it does only for a
 * running instance: recovery is armed by the host's first checks, never by their absence.
 *
 * A host that stops reporting after it has reported (stopped, terminated, its checks gone) is still a page:
 * hostReportingAlarms below.
 */
export const STATUS_CHECK_MISSING_DATA = "missing" as const;

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
    /**
     * A missing datapoint: an idle load balancer's is not breaching; a host or a health check that has not
     * reported yet is missing (STATUS_CHECK_MISSING_DATA); "ignore" keeps the state (hostReportingAlarms).
     */
    readonly treatMissingData: "breaching" | "notBreaching" | "missing" | "ignore";
    /** One metric (namespace, name, statistic or percentile, dimensions), or metric math. */
    readonly metric?: { readonly namespace: string; readonly metricName: string; readonly statistic?: string; readonly extendedStatistic?: string; readonly dimensions: Readonly<Record<string, T | string>> };
    readonly queries?: readonly MetricQuery<T>[];
    /** EC2's recover action as well as the topic (a failed system status check on a host with data). */
    readonly recover?: boolean;
    /** false: no action at all (an alarm only other alarms read). Default: ALARM and OK to the alert topic. */
    readonly notify?: boolean;
    /**
     * The alarm's name ends with the instance ID it watches, so a new instance (a replacement) gets a new
     * alarm, starting from INSUFFICIENT_DATA, instead of the old one's state.
     */
    readonly perInstance?: boolean;
}

/**
 * A composite alarm: ALARM while one alarm of the stack is in INSUFFICIENT_DATA and another is not. Its ALARM
 * and OK go to the alert topic. (Composite alarms cannot take EC2 actions.)
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Composite_Alarm.html
 */
export interface CompositeAlarmSpec {
    readonly name: string;
    readonly description: string;
    /** The spec name of the alarm whose INSUFFICIENT_DATA raises it... */
    readonly whenInsufficientData: string;
    /** ...unless this one's is INSUFFICIENT_DATA too. */
    readonly unlessInsufficientData: string;
}

/** A composite alarm's rule over the alarms' names (AlarmRule syntax: state functions, AND, NOT). */
export function compositeRule(insufficientData: string, unlessInsufficientData: string): string {
    for (const name of [insufficientData, unlessInsufficientData]) {
        if (/["()]/.test(name)) throw new Error(`alarm name ${JSON.stringify(name)}: a composite alarm's rule cannot quote it`);
    }
    return `INSUFFICIENT_DATA("${insufficientData}") AND NOT INSUFFICIENT_DATA("${unlessInsufficientData}")`;
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
            treatMissingData: STATUS_CHECK_MISSING_DATA,
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
            treatMissingData: STATUS_CHECK_MISSING_DATA,
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
 * A host that stops reporting its status checks after it has reported: stopped, terminated, or its checks gone
 * for another reason. EC2 checks only a running instance, so a stopped host's status-check alarms would sit in
 * INSUFFICIENT_DATA, silent (STATUS_CHECK_MISSING_DATA); and a host that has not reported yet must stay silent.
 * CloudWatch tells the two apart with two alarms:
 * - `<host>-reported`, on StatusCheckFailed, treats missing data as "ignore" ("The current alarm state is
 *   maintained", alarms-and-missing-data.html above): INSUFFICIENT_DATA until the host's first check, then OK
 *   or ALARM for good. Named after the instance (perInstance), so a replacement starts afresh. No action.
 * - `<host>-not-reporting`, a composite alarm: ALARM when the instance status-check alarm is in
 *   INSUFFICIENT_DATA (every datapoint of its evaluation range missing) while `<host>-reported` is not, that is,
 *   once a host that had reported has gone quiet for the evaluation range; OK when it reports again.
 * Composite alarms cannot take EC2 actions: recovery stays on the system status-check alarm.
 */
export function hostReportingAlarms<T>(host: { name: string; role: string; instanceId: T }): { latch: AlarmSpec<T>; composite: CompositeAlarmSpec } {
    const latch: AlarmSpec<T> = {
        name: `${host.name}-reported`,
        description: `${host.name} (${host.role}) has reported EC2 status checks since this instance started (OK or ALARM; INSUFFICIENT_DATA until its first check). Read by ${host.name}-not-reporting; sends nothing itself.`,
        comparison: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        periodSeconds: 60,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: "ignore",
        metric: { namespace: "AWS/EC2", metricName: "StatusCheckFailed", statistic: "Maximum", dimensions: { InstanceId: host.instanceId } },
        notify: false,
        perInstance: true,
    };
    return {
        latch,
        composite: {
            name: `${host.name}-not-reporting`,
            description: `${host.name} (${host.role}) reported EC2 status checks and has stopped: the instance is stopped or terminated (or EC2 has stopped checking it). Look at its state in the EC2 console and its CloudTrail events (who stopped it); start it, or replace it with \`pulumi up\`.`,
            whenInsufficientData: `${host.name}-status-instance`,
            unlessInsufficientData: latch.name,
        },
    };
}

/**
 * One host's alarms on what it publishes itself (cloud-init/scripts/host-metrics.sh). Every PostgreSQL host
 * gets both the lag alarms: the publisher sends replication lag while it is a standby and archive lag while it
 * is an archiving primary, so a promoted standby is watched as a primary with no change here. A minute not
 * published is missing data, not a breach: a new host publishes nothing until its role has booted (and a
 * primary never publishes replication lag), so these alarms sit in INSUFFICIENT_DATA, silent, until the
 * host's first figure; a host that is down pages through its status checks and hostReportingAlarms.
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

/**
 * The external check's alarm (Route53 publishes health-check metrics in us-east-1 only). Route53 publishes
 * HealthCheckStatus every minute for as long as the check exists, so what pages is a 0 it reported; a minute
 * with no datapoint is missing, as for the hosts: the alarm is created before the check's first datapoint, and
 * treated as breaching it went to ALARM on every first deploy (alarms-and-missing-data.html, all datapoints
 * missing). The check itself starts once the site is ready (components/alerting.ts).
 */
export function externalCheckAlarm<T>(domain: string, healthCheckId: T): AlarmSpec<T> {
    return {
        name: "site-external-check",
        description: `Route53's checkers in ${HEALTH_CHECK_REGIONS.join(", ")} could not get 2xx/3xx from https://${domain}${HEALTH_CHECK_PATH} for 2 minutes: the site is down or not ready as its users see it. Start at /readyz's problems.`,
        comparison: "LessThanThreshold",
        threshold: 1,
        periodSeconds: 60,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        treatMissingData: "missing",
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
