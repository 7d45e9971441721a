/** The price file of `npm run cost` (tools/cost/prices.json): its shape, and the arithmetic of tiered rates. */
import * as fs from "fs";
import * as path from "path";

export const PRICES_FILE = path.join(__dirname, "prices.json");

/** A rate that falls with volume: each band's price applies to the units up to its bound (null: no bound). */
export type Tiers = readonly { readonly upTo: number | null; readonly price: number }[];

export interface RegionPrices {
    readonly ec2PerHour: Readonly<Record<string, number>>;
    readonly ebs: {
        readonly gp3: { perGbMonth: number; includedIops: number; perIopsMonthAbove: number; includedThroughputMibps: number; perMibpsMonthAbove: number };
        readonly snapshotPerGbMonth: number;
        readonly [volumeType: string]: unknown;
    };
    readonly publicIpv4PerHour: number;
    readonly natGateway: { perHour: number; perGbProcessed: number };
    readonly applicationLoadBalancer: {
        perHour: number;
        perLcuHour: number;
        lcu: { newConnectionsPerSecond: number; activeConnectionsPerMinute: number; processedGbPerHour: number; ruleEvaluationsPerSecond: number };
    };
    readonly cloudfront: { priceClass100DataTransferOutPerGb: Tiers; httpsRequestsPer10k: number };
    readonly s3Standard: { storagePerGbMonth: Tiers; putPer1000: number; getPer1000: number };
    readonly route53: { hostedZoneMonth: number; standardQueriesPerMillion: number; healthCheckAwsEndpointMonth: number; healthCheckOptionalFeatureMonth: number };
    readonly cloudwatch: {
        standardAlarmMetricMonth: number;
        highResolutionAlarmMetricMonth: number;
        /** A composite alarm, per alarm (it reads other alarms' states, not metrics). */
        compositeAlarmMonth: number;
        customMetricMonth: Tiers;
        putMetricDataPer1000: number;
        detailedMonitoringMetricsPerInstance: number;
    };
    readonly sns: { requestsPerMillion: number; httpDeliveriesPerMillion: number; emailDeliveriesPer100k: number };
    readonly kms: { customerKeyMonth: number; rotatedKeyVersionMonth: number; maxBilledRotations: number };
    readonly ssm: { advancedParameterMonth: number; standardParameterMaxBytes: number };
    readonly dataTransfer: { internetOutPerGb: Tiers; interAzPerGbEachWay: number };
}

export interface Prices {
    readonly currency: string;
    readonly transcribed: string;
    readonly hoursPerMonth: number;
    readonly regions: Readonly<Record<string, RegionPrices>>;
    readonly noChargeOfTheirOwn: { readonly types: readonly string[] };
    readonly instances2011: Readonly<Record<"app" | "shard", { instanceType: string; perHour: number; hosts2011: number }>>;
}

export function loadPrices(file: string = PRICES_FILE): Prices {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Prices;
}

/** What `quantity` units cost under tiered rates. */
export function tieredCost(quantity: number, tiers: Tiers): number {
    let cost = 0;
    let below = 0;
    for (const tier of tiers) {
        const bound = tier.upTo ?? Infinity;
        const units = Math.min(quantity, bound) - below;
        if (units <= 0) break;
        cost += units * tier.price;
        below = bound;
    }
    return cost;
}
