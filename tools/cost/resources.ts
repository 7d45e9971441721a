/**
 * What each resource of the plan is billed for: one case per resource type the price file knows, written to
 * the estimate's ledger as priced lines, unknowns (a figure is missing) or unpriced resources. The
 * account-wide lines (traffic, tiered pools) are the estimate's (estimate.ts).
 */
import { HOST_METRICS_INTERVAL_S, METRICS_COLLECTORS } from "../../core/host-metrics";
import { RecordedResource, UNKNOWN } from "../offline/runtime";
import { RegionPrices, tieredCost } from "./prices";
import { Figure, StackUsage } from "./usage";

export interface PoolItem {
    readonly tier: string;
    readonly component: string;
    readonly resource: string;
    readonly quantity: number;
}

/** Where the pricing of resources writes, and what it reads. */
export interface Ledger {
    readonly hoursPerMonth: number;
    readonly region: string;
    readonly rp: RegionPrices;
    readonly usage: StackUsage;
    readonly noCharge: readonly string[];
    readonly tierOf: (r: RecordedResource) => string;
    /** Quantities priced at a tiered rate over the account's total (custom metrics, S3 storage). */
    readonly pools: { readonly customMetrics: PoolItem[]; readonly s3Storage: PoolItem[] };
    line(tier: string, component: string, resource: string, quantity: number, unit: string, unitPrice: number, basis?: "plan" | "usage", note?: string): void;
    unknown(tier: string, component: string, resource: string, needs: string): void;
    cannotPrice(r: RecordedResource, reason: string): void;
    /** A line from a usage figure, or an unknown naming the figure's path when the file does not give it. */
    byUsage(tier: string, component: string, resource: string, path: string, value: Figure | undefined, price: (n: number) => [number, string, number]): void;
}

export const known = (v: unknown): boolean => v !== undefined && v !== null && v !== UNKNOWN;
export const figure = (value: Figure | undefined): number | undefined => (typeof value === "number" ? value : undefined);

/** The metrics a host's publisher sends (cloud-init/scripts/host-metrics.sh), by collector. */
function hostMetricCount(r: RecordedResource): number {
    const role = r.inputs.tags?.Role;
    const collectors = METRICS_COLLECTORS[role] ?? [];
    let count = 0;
    for (const c of collectors) {
        if (c === "data") count += 2; // DataVolumeUsedPercent, DataVolumeIoBusyPercent
        // A standby publishes its replication lag, a primary that archives WAL (the shards') its archive lag.
        if (c === "postgres" && (r.inputs.tags?.Member === "standby" || role === "shard")) count += 1;
        if (c === "redis" || c === "gearman") count += 1; // RedisMemoryUsedPercent, GearmanQueuedJobs
    }
    return count;
}

export function priceResources(resources: readonly RecordedResource[], ledger: Ledger): void {
    const { line, unknown, cannotPrice, byUsage, pools, rp, tierOf } = ledger;
    const H = ledger.hoursPerMonth;
    const u = ledger.usage;
    const ebs = (tier: string, purpose: string, name: string, type: string, size: unknown, iops: unknown, throughput: unknown, r: RecordedResource) => {
        const component = `EBS ${type}`;
        if (!known(size)) return unknown(tier, `${component} storage (${purpose})`, name, "plan: the volume's size is known only after `pulumi up`");
        const gb = Number(size);
        if (type === "gp3") {
            const p = rp.ebs.gp3;
            line(tier, `${component} storage (${purpose})`, name, gb, "GB-mo", p.perGbMonth);
            if (iops === UNKNOWN || throughput === UNKNOWN) unknown(tier, `${component} IOPS and throughput above the baseline (${purpose})`, name, "plan: the volume's IOPS or throughput is known only after `pulumi up`");
            if (known(iops) && Number(iops) > p.includedIops) line(tier, `${component} IOPS above ${p.includedIops} (${purpose})`, name, Number(iops) - p.includedIops, "IOPS-mo", p.perIopsMonthAbove);
            if (known(throughput) && Number(throughput) > p.includedThroughputMibps) line(tier, `${component} throughput above ${p.includedThroughputMibps} MiB/s (${purpose})`, name, Number(throughput) - p.includedThroughputMibps, "MiB/s-mo", p.perMibpsMonthAbove);
            return;
        }
        const p = rp.ebs[type] as { perGbMonth: number; perIopsMonth?: number } | undefined;
        if (!p) return cannotPrice(r, `no price for EBS volume type ${type}`);
        line(tier, `${component} storage (${purpose})`, name, gb, "GB-mo", p.perGbMonth);
        if (p.perIopsMonth !== undefined && known(iops)) line(tier, `${component} IOPS (${purpose})`, name, Number(iops), "IOPS-mo", p.perIopsMonth);
    };

    const subscriptions = resources.filter((r) => r.type === "aws:sns/topicSubscription:TopicSubscription");
    for (const r of resources) {
        if (!r.custom || ledger.noCharge.includes(r.type)) continue;
        const tier = tierOf(r);
        const i = r.inputs;
        switch (r.type) {
            case "aws:ec2/instance:Instance": {
                const type = i.instanceType;
                const perHour = known(type) ? rp.ec2PerHour[type] : undefined;
                if (perHour === undefined) cannotPrice(r, known(type) ? `no on-demand price for ${type} in ${ledger.region}` : "its instance type is known only after `pulumi up`");
                else line(tier, `EC2 ${type}`, r.name, H, "instance-h", perHour);
                const root = i.rootBlockDevice;
                if (root?.volumeType) ebs(tier, "root volumes", `${r.name}-root`, root.volumeType, root.volumeSize, root.iops, root.throughput, r);
                else unknown(tier, "EBS root volumes", r.name, "plan: the root volume's type and size are the AMI's defaults");
                if (i.monitoring === true) pools.customMetrics.push({ tier, component: "CloudWatch detailed monitoring metrics", resource: r.name, quantity: rp.cloudwatch.detailedMonitoringMetricsPerInstance });
                if (i.associatePublicIpAddress === true) line(tier, "public IPv4 addresses", r.name, H, "address-h", rp.publicIpv4PerHour);
                const metrics = hostMetricCount(r);
                if (metrics > 0) {
                    pools.customMetrics.push({ tier, component: "CloudWatch host metrics", resource: r.name, quantity: metrics });
                    line(tier, "CloudWatch PutMetricData (host metrics)", r.name, (H * 3600) / HOST_METRICS_INTERVAL_S / 1000, "1k requests", rp.cloudwatch.putMetricDataPer1000);
                }
                break;
            }
            case "aws:ebs/volume:Volume":
                ebs(tier, "data volumes", r.name, i.type ?? "gp2", i.size, i.iops, i.throughput, r);
                break;
            case "aws:ec2/eip:Eip":
                line(tier, "public IPv4 addresses", r.name, H, "address-h", rp.publicIpv4PerHour);
                break;
            case "aws:ec2/vpcEndpoint:VpcEndpoint":
                // A gateway endpoint (S3) has no hourly or per-GB charge, and what it carries is not processed by
                // the NAT gateways: the hosts' S3 traffic is not part of nat_gateway.processed_gb.
                if ((i.vpcEndpointType ?? "Gateway") === "Gateway") line(tier, "S3 gateway endpoint (S3 traffic bypasses the NAT gateways)", r.name, H, "endpoint-h", 0);
                else cannotPrice(r, `no price for a ${String(i.vpcEndpointType)} endpoint`);
                break;
            case "aws:ec2/natGateway:NatGateway":
                line(tier, "NAT gateway hours", r.name, H, "gateway-h", rp.natGateway.perHour);
                byUsage(tier, "NAT gateway data processed", r.name, "nat_gateway.processed_gb", u.nat_gateway?.processed_gb, (gb) => [gb, "GB", rp.natGateway.perGbProcessed]);
                break;
            case "aws:lb/loadBalancer:LoadBalancer": {
                if ((i.loadBalancerType ?? "application") !== "application") { cannotPrice(r, `no price for a ${i.loadBalancerType} load balancer`); break; }
                const p = rp.applicationLoadBalancer;
                line(tier, "ALB hours", r.name, H, "lb-h", p.perHour);
                // An internet-facing ALB has a public IPv4 address in each of its subnets.
                if (i.internal !== true) {
                    if (Array.isArray(i.subnets)) line(tier, "public IPv4 addresses", r.name, H * i.subnets.length, "address-h", rp.publicIpv4PerHour);
                    else unknown(tier, "public IPv4 addresses", r.name, "plan: the load balancer's subnets are known only after `pulumi up`");
                }
                const lb = u.load_balancer ?? {};
                const dims = [
                    figure(lb.new_connections_per_second), figure(lb.active_connections_per_minute), figure(lb.processed_gb_per_hour), figure(lb.rule_evaluations_per_second),
                ];
                if (dims.some((d) => d === undefined)) {
                    const missing = ["new_connections_per_second", "active_connections_per_minute", "processed_gb_per_hour", "rule_evaluations_per_second"].filter((_, k) => dims[k] === undefined);
                    unknown(tier, "ALB LCU-hours", r.name, `usage: ${missing.map((m) => `load_balancer.${m}`).join(", ")}`);
                } else {
                    // An hour is billed for its busiest dimension.
                    const [n, a, g, e] = dims as number[];
                    const lcus = Math.max(n / p.lcu.newConnectionsPerSecond, a / p.lcu.activeConnectionsPerMinute, g / p.lcu.processedGbPerHour, e / p.lcu.ruleEvaluationsPerSecond);
                    line(tier, "ALB LCU-hours", r.name, lcus * H, "LCU-h", p.perLcuHour, "usage");
                }
                break;
            }
            case "aws:cloudfront/distribution:Distribution": {
                const cf = u.cloudfront ?? {};
                const gb = figure(cf.data_transfer_out_gb);
                // The price file has the US and Europe rates, which are what PriceClass_100 serves from.
                if ((i.priceClass ?? "PriceClass_All") !== "PriceClass_100") {
                    cannotPrice(r, `the price file has CloudFront's PriceClass_100 rates only, and this distribution is ${i.priceClass ?? "PriceClass_All"}`);
                    break;
                }
                if (gb === undefined) unknown(tier, "CloudFront data transfer out", r.name, "usage: cloudfront.data_transfer_out_gb");
                else if (gb > 0) {
                    const cost = tieredCost(gb, rp.cloudfront.priceClass100DataTransferOutPerGb);
                    line(tier, "CloudFront data transfer out", r.name, gb, "GB", cost / gb, "usage");
                }
                byUsage(tier, "CloudFront HTTPS requests", r.name, "cloudfront.https_requests", cf.https_requests, (n) => [n / 10_000, "10k requests", rp.cloudfront.httpsRequestsPer10k]);
                break;
            }
            case "aws:s3/bucket:Bucket": {
                const b = u.buckets?.[r.name] ?? {};
                const gb = figure(b.storage_gb);
                if (gb === undefined) unknown(tier, "S3 Standard storage", r.name, `usage: buckets.${r.name}.storage_gb`);
                else pools.s3Storage.push({ tier, component: "S3 Standard storage", resource: r.name, quantity: gb });
                byUsage(tier, "S3 PUT, COPY, POST, LIST requests", r.name, `buckets.${r.name}.put_requests`, b.put_requests, (n) => [n / 1000, "1k requests", rp.s3Standard.putPer1000]);
                byUsage(tier, "S3 GET requests", r.name, `buckets.${r.name}.get_requests`, b.get_requests, (n) => [n / 1000, "1k requests", rp.s3Standard.getPer1000]);
                break;
            }
            case "aws:route53/healthCheck:HealthCheck": {
                const type = String(i.type ?? "");
                const features = [type.startsWith("HTTPS"), type.endsWith("STR_MATCH"), i.requestInterval === 10, i.measureLatency === true].filter(Boolean).length;
                const p = rp.route53;
                line(tier, "Route53 health checks", r.name, 1, "check-mo", p.healthCheckAwsEndpointMonth + features * p.healthCheckOptionalFeatureMonth, "plan",
                    features > 0 ? `$${p.healthCheckAwsEndpointMonth.toFixed(2)} + ${features} optional feature${features > 1 ? "s" : ""} at $${p.healthCheckOptionalFeatureMonth.toFixed(2)}` : undefined);
                break;
            }
            case "aws:cloudwatch/metricAlarm:MetricAlarm": {
                // An alarm is billed per metric it reads; one on a period under a minute at the high-resolution rate.
                const queries: { metric?: { period?: number } }[] = Array.isArray(i.metricQueries) ? i.metricQueries : [];
                const metrics = queries.length > 0 ? queries.filter((q) => q.metric).length : 1;
                const periods = queries.length > 0 ? queries.map((q) => q.metric?.period).filter((p): p is number => typeof p === "number") : [i.period];
                const highResolution = periods.some((p) => typeof p === "number" && p < 60);
                if (highResolution) line(tier, "CloudWatch alarm metrics (high resolution)", r.name, metrics, "metric-mo", rp.cloudwatch.highResolutionAlarmMetricMonth);
                else line(tier, "CloudWatch alarm metrics", r.name, metrics, "metric-mo", rp.cloudwatch.standardAlarmMetricMonth);
                break;
            }
            case "aws:cloudwatch/compositeAlarm:CompositeAlarm":
                line(tier, "CloudWatch composite alarms", r.name, 1, "alarm-mo", rp.cloudwatch.compositeAlarmMonth);
                break;
            case "aws:sns/topic:Topic": {
                const n = figure(u.sns?.alarm_notifications);
                if (n === undefined) { unknown(tier, "SNS requests and deliveries", r.name, "usage: sns.alarm_notifications"); break; }
                line(tier, "SNS requests", r.name, n / 1e6, "M requests", rp.sns.requestsPerMillion, "usage");
                const mine = subscriptions.filter((s) => s.propertyDependencies.topic?.includes(r.urn) || s.dependencies.includes(r.urn));
                const http = mine.filter((s) => /^https?$/.test(String(s.inputs.protocol))).length;
                const email = mine.filter((s) => /^email(-json)?$/.test(String(s.inputs.protocol))).length;
                if (http > 0) line(tier, "SNS HTTP(S) deliveries", r.name, (n * http) / 1e6, "M deliveries", rp.sns.httpDeliveriesPerMillion, "usage");
                if (email > 0) line(tier, "SNS e-mail deliveries", r.name, (n * email) / 1e5, "100k deliveries", rp.sns.emailDeliveriesPer100k, "usage");
                break;
            }
            case "aws:sns/topicSubscription:TopicSubscription":
                break; // its deliveries are priced with its topic
            case "aws:kms/key:Key":
                line(tier, "KMS customer managed keys", r.name, 1, "key-mo", rp.kms.customerKeyMonth, "plan",
                    i.enableKeyRotation === true ? `each yearly rotation adds $${rp.kms.rotatedKeyVersionMonth.toFixed(2)}/month, for the first ${rp.kms.maxBilledRotations}` : undefined);
                break;
            case "aws:ssm/parameter:Parameter": {
                // Standard parameters cost nothing; Intelligent-Tiering makes one advanced only when its value outgrows standard.
                const tierName = i.tier ?? "Standard";
                if (tierName === "Advanced") line(tier, "SSM advanced parameters", r.name, 1, "parameter-mo", rp.ssm.advancedParameterMonth);
                else if (tierName === "Intelligent-Tiering") {
                    if (!known(i.value)) unknown(tier, "SSM parameters (Intelligent-Tiering)", r.name, "plan: the value, which decides standard or advanced, is known only after `pulumi up`");
                    else if (Buffer.byteLength(String(i.value)) > rp.ssm.standardParameterMaxBytes) line(tier, "SSM advanced parameters", r.name, 1, "parameter-mo", rp.ssm.advancedParameterMonth);
                }
                break;
            }
            case "aws:route53/zone:Zone":
                line(tier, "Route53 hosted zones", r.name, 1, "zone-mo", rp.route53.hostedZoneMonth);
                break;
            default:
                if (r.type.startsWith("pagerduty:")) cannotPrice(r, "billed by PagerDuty (per user), not by AWS");
                else cannotPrice(r, "the price file has no price for this resource type");
        }
    }
}
