/**
 * A monthly cost estimate from the offline plan's resources: what each resource is billed for at the price
 * file's on-demand rates, plus what the usage file says about traffic. Pure: resources, prices and usage
 * in, an Estimate out. Nothing is guessed: a resource type without a price is listed as unpriced (never as
 * $0), a figure the usage file does not give is listed as unknown with the figure it needs.
 */
import { RecordedResource } from "../offline/runtime";
import { subnetAz, tierResolver } from "../offline/tiers";
import { Prices, RegionPrices, tieredCost } from "./prices";
import { figure, PoolItem, priceResources } from "./resources";
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

    priceResources(input.resources, {
        hoursPerMonth: H, region: input.region, rp, usage: u, noCharge: prices.noChargeOfTheirOwn.types, tierOf, pools, line, unknown, cannotPrice, byUsage,
    });

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
