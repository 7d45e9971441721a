/**
 * A monthly cost estimate from the offline plan's resources: what each resource is billed for at the price
 * file's on-demand rates, plus what the usage file says about traffic. Pure: resources, prices and usage
 * in, an Estimate out. Nothing is guessed: a resource type without a price is listed as unpriced (never as
 * $0), a figure the usage file does not give is listed as unknown with the figure it needs.
 */
import { METRICS_COLLECTORS, HOST_METRICS_INTERVAL_S } from "../../core/host-metrics";
import { RecordedResource, UNKNOWN } from "../offline/runtime";
import { subnetAz, tierResolver } from "../offline/tiers";
import { Prices, RegionPrices, tieredCost } from "./prices";
import { Figure, StackUsage, UsageFileError } from "./usage";

export interface CostLine {
    readonly tier: string;
    /** What AWS bills, as its bill names it: "EC2 c7i.2xlarge", "EBS gp3 storage". */
    readonly component: string;
    /** The plan's resources the line bills (their names). */
    readonly resources: readonly string[];
    readonly quantity: number;
    readonly unit: string;
    readonly unitPrice: number;
    readonly monthly: number;
    /** "plan": follows from the program alone; "usage": from a usage file figure. */
    readonly basis: "plan" | "usage";
    readonly note?: string;
}

/** A cost that exists but cannot be priced without a figure: what it is and what it needs. */
export interface UnknownCost {
    readonly tier: string;
    readonly component: string;
    readonly resources: readonly string[];
    readonly needs: string;
}

/** Resources the price file cannot price, by type: listed, never counted as $0. */
export interface UnpricedResources {
    readonly type: string;
    readonly tier: string;
    readonly resources: readonly string[];
    readonly reason: string;
}

export interface Comparison2011Row {
    readonly role: "app" | "shard";
    readonly hosts: number;
    readonly then: { readonly instanceType: string; readonly perHour: number; readonly monthly: number };
    readonly now: { readonly instanceTypes: readonly string[]; readonly monthly: number };
}

export interface Estimate {
    readonly stack: string;
    readonly region: string;
    readonly currency: string;
    readonly pricesTranscribed: string;
    readonly hoursPerMonth: number;
    readonly usage: { readonly file: string; readonly section: string | null };
    readonly lines: readonly CostLine[];
    readonly byTier: readonly { readonly tier: string; readonly monthly: number }[];
    /** The sum of the priced lines; the unknowns and the unpriced are not in it. */
    readonly total: number;
    readonly unknowns: readonly UnknownCost[];
    readonly unpriced: readonly UnpricedResources[];
    /** The stack's app and shard hosts against what the same count cost Instagram in 2011 (EC2 only). */
    readonly comparison2011: { readonly rows: readonly Comparison2011Row[]; readonly thenMonthly: number; readonly nowMonthly: number };
}

export interface EstimateInput {
    readonly stack: string;
    readonly region: string;
    readonly resources: readonly RecordedResource[];
}

export interface UsageInput {
    readonly file: string;
    readonly section: string | null;
    readonly figures: StackUsage;
}

const known = (v: unknown): boolean => v !== undefined && v !== null && v !== UNKNOWN;

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

export function estimateCost(input: EstimateInput, prices: Prices, usage: UsageInput): Estimate {
    const H = prices.hoursPerMonth;
    const rp: RegionPrices | undefined = prices.regions[input.region];
    const tierOf = tierResolver(input.resources);
    const raw: CostLine[] = [];
    const unknowns: UnknownCost[] = [];
    const unpriced = new Map<string, { type: string; tier: string; resources: string[]; reason: string }>();
    const pools = { customMetrics: [] as PoolItem[], s3Storage: [] as PoolItem[] };
    const u = usage.figures;

    const line = (tier: string, component: string, resource: string, quantity: number, unit: string, unitPrice: number, basis: "plan" | "usage" = "plan", note?: string) => {
        // A figure of 0 (no GETs of a log bucket) bills nothing and needs no line.
        if (quantity > 0) raw.push({ tier, component, resources: [resource], quantity, unit, unitPrice, monthly: quantity * unitPrice, basis, note });
    };
    const unknown = (tier: string, component: string, resource: string, needs: string) => {
        const found = unknowns.find((x) => x.tier === tier && x.component === component && x.needs === needs);
        if (found) (found.resources as string[]).push(resource);
        else unknowns.push({ tier, component, resources: [resource], needs });
    };
    const cannotPrice = (r: RecordedResource, reason: string) => {
        const key = `${r.type}\0${reason}`;
        const entry = unpriced.get(key) ?? { type: r.type, tier: tierOf(r), resources: [], reason };
        entry.resources.push(r.name);
        unpriced.set(key, entry);
    };
    /** A usage figure: a number, or the path it needs (printed as unknown). */
    const figure = (value: Figure | undefined): number | undefined => (typeof value === "number" ? value : undefined);
    const byUsage = (tier: string, component: string, resource: string, path: string, value: Figure | undefined, price: (n: number) => [number, string, number]) => {
        const n = figure(value);
        if (n === undefined) return unknown(tier, component, resource, `usage: ${path}`);
        const [quantity, unit, unitPrice] = price(n);
        line(tier, component, resource, quantity, unit, unitPrice, "usage");
    };

    if (!rp) {
        for (const r of input.resources) {
            if (r.custom && !prices.noChargeOfTheirOwn.types.includes(r.type)) cannotPrice(r, `the price file has no prices for region ${input.region} (it has: ${Object.keys(prices.regions).join(", ")})`);
        }
        return finish();
    }

    const ebs = (tier: string, purpose: string, name: string, type: string, size: unknown, iops: unknown, throughput: unknown, r: RecordedResource) => {
        const component = `EBS ${type}`;
        if (!known(size)) return unknown(tier, `${component} storage (${purpose})`, name, "plan: the volume's size is known only after `pulumi up`");
        const gb = Number(size);
        if (type === "gp3") {
            const p = rp.ebs.gp3;
            line(tier, `${component} storage (${purpose})`, name, gb, "GB-mo", p.perGbMonth);
            if (known(iops) && Number(iops) > p.includedIops) line(tier, `${component} IOPS above ${p.includedIops} (${purpose})`, name, Number(iops) - p.includedIops, "IOPS-mo", p.perIopsMonthAbove);
            if (known(throughput) && Number(throughput) > p.includedThroughputMibps) line(tier, `${component} throughput above ${p.includedThroughputMibps} MiB/s (${purpose})`, name, Number(throughput) - p.includedThroughputMibps, "MiB/s-mo", p.perMibpsMonthAbove);
            return;
        }
        const p = rp.ebs[type] as { perGbMonth: number; perIopsMonth?: number } | undefined;
        if (!p) return cannotPrice(r, `no price for EBS volume type ${type}`);
        line(tier, `${component} storage (${purpose})`, name, gb, "GB-mo", p.perGbMonth);
        if (p.perIopsMonth !== undefined && known(iops)) line(tier, `${component} IOPS (${purpose})`, name, Number(iops), "IOPS-mo", p.perIopsMonth);
    };

    const subscriptions = input.resources.filter((r) => r.type === "aws:sns/topicSubscription:TopicSubscription");
    for (const r of input.resources) {
        if (!r.custom || prices.noChargeOfTheirOwn.types.includes(r.type)) continue;
        const tier = tierOf(r);
        const i = r.inputs;
        switch (r.type) {
            case "aws:ec2/instance:Instance": {
                const type = i.instanceType;
                const perHour = known(type) ? rp.ec2PerHour[type] : undefined;
                if (perHour === undefined) cannotPrice(r, known(type) ? `no on-demand price for ${type} in ${input.region}` : "its instance type is known only after `pulumi up`");
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

    // What is billed per account rather than per resource: traffic, snapshots, tiered pools.
    const dt = u.data_transfer ?? {};
    const edgeTier = tierOfType("aws:lb/loadBalancer:LoadBalancer") ?? "edge";
    if (input.resources.some((r) => r.type === "aws:lb/loadBalancer:LoadBalancer" || r.type === "aws:ec2/natGateway:NatGateway")) {
        const gb = figure(dt.internet_out_gb);
        if (gb === undefined) unknown(edgeTier, "data transfer out to the internet", "account", "usage: data_transfer.internet_out_gb");
        else if (gb > 0) line(edgeTier, "data transfer out to the internet", "account", gb, "GB", tieredCost(gb, rp.dataTransfer.internetOutPerGb) / gb, "usage");
    }
    if (new Set(input.resources.filter((r) => r.type === "aws:ec2/subnet:Subnet").map(subnetAz)).size > 1) {
        byUsage(tierOfType("aws:ec2/subnet:Subnet") ?? "network", "data transfer between AZs (both directions)", "account", "data_transfer.inter_az_gb", dt.inter_az_gb,
            (gb) => [gb * 2, "GB", rp.dataTransfer.interAzPerGbEachWay]);
    }
    for (const r of input.resources.filter((x) => x.type === "aws:dlm/lifecyclePolicy:LifecyclePolicy")) {
        byUsage(tierOf(r), "EBS snapshots (DLM)", r.name, "ebs_snapshots.storage_gb", u.ebs_snapshots?.storage_gb, (gb) => [gb, "GB-mo", rp.ebs.snapshotPerGbMonth]);
    }
    const routed = input.resources.filter((r) => r.type === "aws:route53/record:Record");
    if (routed.length > 0) byUsage(edgeTier, "Route53 standard queries", "records", "route53.standard_queries", u.route53?.standard_queries, (n) => [n / 1e6, "M queries", rp.route53.standardQueriesPerMillion]);
    priceTieredPool(pools.customMetrics, "metric-mo", (n) => tieredCost(n, rp.cloudwatch.customMetricMonth), "plan");
    priceTieredPool(pools.s3Storage, "GB-mo", (n) => tieredCost(n, rp.s3Standard.storagePerGbMonth), "usage");

    const planBuckets = input.resources.filter((r) => r.type === "aws:s3/bucket:Bucket").map((r) => r.name);
    for (const name of Object.keys(u.buckets ?? {})) {
        if (!planBuckets.includes(name)) throw new UsageFileError(`usage file ${usage.file}: buckets.${name} names no bucket of stack ${input.stack} (its buckets are: ${planBuckets.join(", ")})`);
    }
    return finish();

    function tierOfType(type: string): string | undefined {
        const r = input.resources.find((x) => x.type === type);
        return r && tierOf(r);
    }

    /** A tiered rate applies to the account's whole quantity; each item pays the blended rate. */
    function priceTieredPool(items: PoolItem[], unit: string, cost: (n: number) => number, basis: "plan" | "usage") {
        const total = items.reduce((s, x) => s + x.quantity, 0);
        if (total === 0) return;
        const rate = cost(total) / total;
        for (const x of items) line(x.tier, x.component, x.resource, x.quantity, unit, rate, basis);
    }

    function finish(): Estimate {
        const lines = aggregate(raw);
        const tiers = new Map<string, number>();
        for (const l of lines) tiers.set(l.tier, (tiers.get(l.tier) ?? 0) + l.monthly);
        const byTier = [...tiers.entries()].map(([tier, monthly]) => ({ tier, monthly })).sort((a, b) => b.monthly - a.monthly || a.tier.localeCompare(b.tier));
        return {
            stack: input.stack,
            region: input.region,
            currency: prices.currency,
            pricesTranscribed: prices.transcribed,
            hoursPerMonth: H,
            usage: { file: usage.file, section: usage.section },
            lines,
            byTier,
            total: lines.reduce((s, l) => s + l.monthly, 0),
            unknowns,
            unpriced: [...unpriced.values()],
            comparison2011: compare2011(),
        };
    }

    function compare2011(): Estimate["comparison2011"] {
        const rows: Comparison2011Row[] = [];
        for (const role of ["app", "shard"] as const) {
            const hosts = input.resources.filter((r) => r.type === "aws:ec2/instance:Instance" && r.inputs.tags?.Role === role);
            if (hosts.length === 0) continue;
            const then = prices.instances2011[role];
            const types = [...new Set(hosts.map((h) => String(h.inputs.instanceType)))];
            const names = new Set(hosts.map((h) => h.name));
            const now = raw.filter((l) => l.component.startsWith("EC2 ") && l.resources.some((n) => names.has(n))).reduce((s, l) => s + l.monthly, 0);
            rows.push({ role, hosts: hosts.length, then: { instanceType: then.instanceType, perHour: then.perHour, monthly: hosts.length * then.perHour * H }, now: { instanceTypes: types, monthly: now } });
        }
        return { rows, thenMonthly: rows.reduce((s, r) => s + r.then.monthly, 0), nowMonthly: rows.reduce((s, r) => s + r.now.monthly, 0) };
    }
}

interface PoolItem {
    readonly tier: string;
    readonly component: string;
    readonly resource: string;
    readonly quantity: number;
}

/** One line per tier, component, unit and price: 25 app hosts of one type are one line of 25. */
function aggregate(raw: readonly CostLine[]): CostLine[] {
    const groups = new Map<string, CostLine & { resources: string[] }>();
    for (const l of raw) {
        const key = [l.tier, l.component, l.unit, l.unitPrice, l.basis, l.note ?? ""].join("\0");
        const g = groups.get(key);
        if (g) {
            g.resources.push(...l.resources);
            (g as { quantity: number }).quantity += l.quantity;
            (g as { monthly: number }).monthly += l.monthly;
        } else groups.set(key, { ...l, resources: [...l.resources] });
    }
    return [...groups.values()];
}
