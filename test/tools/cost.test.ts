/**
 * `npm run cost`: the estimate from the offline plan, checked against figures computed here by hand from
 * the same price file, and the CLI as a user runs it (its table, its JSON, its refusals).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { estimateCost, Estimate } from "../../tools/cost/estimate";
import { loadPrices } from "../../tools/cost/prices";
import { parseUsage, StackUsage } from "../../tools/cost/usage";
import { previewProgram } from "../../tools/offline/preview";
import { ProgramRun, RecordedResource } from "../../tools/offline/runtime";

const ROOT = path.resolve(__dirname, "../..");
const prices = loadPrices();
const p = prices.regions["us-east-1"];
const H = prices.hoursPerMonth;

/** The figures the hand computation below uses (not the shipped usage.yml, which users edit). */
const FIGURES: StackUsage = parseUsage({
    version: 1,
    stacks: {
        dev: {
            cloudfront: { data_transfer_out_gb: 20, https_requests: 500_000 },
            buckets: {
                media: { storage_gb: 5, put_requests: 10_000, get_requests: 50_000 },
                backups: { storage_gb: 30, put_requests: 50_000, get_requests: 2_000 },
                "app-artifacts": { storage_gb: 0.2, put_requests: 100, get_requests: 1_000 },
                "edge-logs": { storage_gb: 1, put_requests: 20_000, get_requests: 0 },
                "media-logs": { storage_gb: 1, put_requests: 20_000, get_requests: 0 },
            },
            ebs_snapshots: { storage_gb: 40 },
            nat_gateway: { processed_gb: 20 },
            load_balancer: { new_connections_per_second: 1, active_connections_per_minute: 60, processed_gb_per_hour: 0.05, rule_evaluations_per_second: 1 },
            data_transfer: { internet_out_gb: 10, inter_az_gb: 30 },
            route53: { standard_queries: 100_000 },
            sns: { alarm_notifications: 200 },
        },
    },
}, "test").dev;

const estimate = (run: { stack: string; resources: readonly RecordedResource[] }, figures: StackUsage = FIGURES, region = "us-east-1", table = prices) =>
    estimateCost({ stack: run.stack, region, resources: run.resources }, table, { file: "test", section: "dev", figures });
const component = (e: Estimate, tier: string, name: string) => e.lines.filter((l) => l.tier === tier && l.component === name).reduce((s, l) => s + l.monthly, 0);

let dev: ProgramRun;
let devPlus: ProgramRun;
beforeAll(async () => {
    dev = await previewProgram("dev");
    devPlus = await previewProgram("dev", { "instagram:appServers": 2 });
}, 120_000);

describe("the estimate", () => {
    test("the dev stack's total equals the sum computed by hand from the price file and the usage figures", () => {
        const e = estimate(dev);
        const alarms = dev.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
        // One alarm (the load balancer's 5xx rate) reads three metrics; every other reads one, each at a minute or more.
        const alarmMetrics = alarms.length + 2;
        expect(alarms.filter((a) => a.inputs.metricQueries).length).toBe(1);
        const s3Storage = 5 + 30 + 0.2 + 1 + 1;
        const byHand =
            H * (p.ec2PerHour["t3.large"] + 2 * p.ec2PerHour["t3.medium"] + 4 * p.ec2PerHour["t3.small"]) // shard; app, search; memcached, gearman, redis, munin
            + (6 * 30 + 50 + 4 * 20) * p.ebs.gp3.perGbMonth // root volumes (munin's is 50 GB), the two arrays of 2 x 20 GB
            + (7 * 7 + 3 + 2 + 1 + 1) * 0.3 // detailed monitoring; host metrics of shard, search, redis, gearman
            + 4 * ((H * 60) / 1000) * p.cloudwatch.putMetricDataPer1000
            + H * (p.publicIpv4PerHour * (1 + 2) + p.natGateway.perHour + p.applicationLoadBalancer.perHour) // NAT's EIP, the ALB's two
            + (0.5 + 2 * 1.0) + p.kms.customerKeyMonth + alarmMetrics * p.cloudwatch.standardAlarmMetricMonth // HTTPS + latency health check
            + 7 * p.cloudwatch.compositeAlarmMonth // each host's not-reporting alarm
            + 20 * p.natGateway.perGbProcessed
            + 0.05 * H * p.applicationLoadBalancer.perLcuHour // processed bytes is the busiest dimension: 0.05 LCU
            + 20 * 0.085 + 50 * p.cloudfront.httpsRequestsPer10k
            + s3Storage * 0.023 + (100_100 / 1000) * p.s3Standard.putPer1000 + (53_000 / 1000) * p.s3Standard.getPer1000
            + 40 * p.ebs.snapshotPerGbMonth + 10 * 0.09 + 60 * p.dataTransfer.interAzPerGbEachWay + 0.1 * p.route53.standardQueriesPerMillion
            + 0.0002 * p.sns.requestsPerMillion;
        expect(e.total).toBeCloseTo(byHand, 6);
        expect(e.total).toBeGreaterThan(250);
        expect(e.unpriced).toEqual([]);
        // The shard directory is Intelligent-Tiering: standard or advanced depends on a value known after `pulumi up`.
        expect(e.unknowns.map((u) => u.component)).toEqual(["SSM parameters (Intelligent-Tiering)"]);
        expect(e.byTier.reduce((s, t) => s + t.monthly, 0)).toBeCloseTo(e.total, 6);
    });

    test("one more app server raises the app's EC2 line by exactly its type's monthly price, and the total by that host's lines", () => {
        const before = estimate(dev);
        const after = estimate(devPlus);
        expect(component(after, "app", "EC2 t3.medium") - component(before, "app", "EC2 t3.medium")).toBeCloseTo(H * p.ec2PerHour["t3.medium"], 9);
        const newAlarms = devPlus.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").length - dev.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").length;
        expect(newAlarms).toBeGreaterThan(0);
        const hostLines = H * p.ec2PerHour["t3.medium"] + 30 * p.ebs.gp3.perGbMonth + 7 * 0.3 + newAlarms * p.cloudwatch.standardAlarmMetricMonth + p.cloudwatch.compositeAlarmMonth;
        expect(after.total - before.total).toBeCloseTo(hostLines, 9);
    });

    test("a resource type without a price is listed as unpriced, never counted as $0", () => {
        const stranger: RecordedResource = { ...dev.resources.find((r) => r.type === "aws:ec2/eip:Eip")!, type: "aws:elasticache/cluster:Cluster", name: "cache", urn: "urn:test:cache" };
        const pager: RecordedResource = { ...stranger, type: "pagerduty:index/service:Service", name: "pager", urn: "urn:test:pager" };
        const base = estimate(dev);
        const e = estimate({ stack: "dev", resources: [...dev.resources, stranger, pager] });
        expect(e.total).toBeCloseTo(base.total, 9);
        expect(e.lines.flatMap((l) => l.resources)).not.toContain("cache");
        expect(e.unpriced).toEqual([
            { type: "aws:elasticache/cluster:Cluster", tier: "network", resources: ["cache"], reason: "the price file has no price for this resource type" },
            { type: "pagerduty:index/service:Service", tier: "network", resources: ["pager"], reason: "billed by PagerDuty (per user), not by AWS" },
        ]);
        // An instance type the price file lacks: unpriced, not free.
        const odd = dev.resources.map((r) => (r.name === "app-0" && r.type === "aws:ec2/instance:Instance" ? { ...r, inputs: { ...r.inputs, instanceType: "c5.8xlarge" } } : r));
        const oddEstimate = estimate({ stack: "dev", resources: odd });
        expect(oddEstimate.unpriced).toEqual([{ type: "aws:ec2/instance:Instance", tier: "app", resources: ["app-0"], reason: "no on-demand price for c5.8xlarge in us-east-1" }]);
        expect(base.total - oddEstimate.total).toBeCloseTo(H * p.ec2PerHour["t3.medium"], 9);
        // A CloudFront price class whose regions the file has no rates for; a root volume left to the AMI.
        const changed = dev.resources.map((r) => {
            if (r.type === "aws:cloudfront/distribution:Distribution") return { ...r, inputs: { ...r.inputs, priceClass: "PriceClass_All" } };
            if (r.name === "munin" && r.type === "aws:ec2/instance:Instance") return { ...r, inputs: { ...r.inputs, rootBlockDevice: undefined } };
            return r;
        });
        const other = estimate({ stack: "dev", resources: changed });
        expect(other.unpriced).toEqual([{ type: "aws:cloudfront/distribution:Distribution", tier: "media", resources: ["media"], reason: "the price file has CloudFront's PriceClass_100 rates only, and this distribution is PriceClass_All" }]);
        expect(other.unknowns).toContainEqual({ tier: "monitoring", component: "EBS root volumes", resources: ["munin"], needs: "plan: the root volume's type and size are the AMI's defaults" });
        expect(base.total - other.total).toBeCloseTo(20 * 0.085 + 50 * 0.01 + 50 * p.ebs.gp3.perGbMonth, 9);
    });

    test("a region without prices prices nothing and says so for every billed resource", () => {
        const e = estimate(dev, FIGURES, "ap-southeast-7");
        expect(e.total).toBe(0);
        expect(e.lines).toEqual([]);
        expect(new Set(e.unpriced.map((u) => u.reason))).toEqual(new Set(["the price file has no prices for region ap-southeast-7 (it has: us-east-1)"]));
        expect(e.unpriced.map((u) => u.type)).toContain("aws:ec2/instance:Instance");
        expect(e.unpriced.map((u) => u.type)).not.toContain("aws:iam/role:Role");
    });

    test("a usage figure that is missing or null is listed as unknown with the figure it needs, not guessed", () => {
        const { cloudfront: _cf, ...rest } = FIGURES;
        const e = estimate(dev, { ...rest, nat_gateway: { processed_gb: null } });
        const full = estimate(dev);
        expect(e.unknowns).toEqual(expect.arrayContaining([
            { tier: "media", component: "CloudFront data transfer out", resources: ["media"], needs: "usage: cloudfront.data_transfer_out_gb" },
            { tier: "media", component: "CloudFront HTTPS requests", resources: ["media"], needs: "usage: cloudfront.https_requests" },
            { tier: "network", component: "NAT gateway data processed", resources: ["net-nat-0"], needs: "usage: nat_gateway.processed_gb" },
        ]));
        expect(full.total - e.total).toBeCloseTo(20 * 0.085 + 50 * 0.01 + 20 * 0.045, 9);
        // With no figures at all the plan's own lines remain, each usage line an unknown.
        const bare = estimate(dev, {});
        expect(bare.lines.every((l) => l.basis === "plan")).toBe(true);
        expect(bare.unknowns.length).toBeGreaterThan(15);
    });

    test("a usage file that names a bucket the stack does not have is refused with the stack's buckets", () => {
        expect(() => estimate(dev, { buckets: { photos: { storage_gb: 1 } } })).toThrow("usage file test: buckets.photos names no bucket of stack dev (its buckets are: edge-logs, media-logs, media, app-artifacts, backups)");
    });

    test("gp3 above its baseline: IOPS over 3,000 and throughput over 125 MiB/s are billed per volume", () => {
        const fast = dev.resources.map((r) => (r.type === "aws:ebs/volume:Volume" && r.name === "shard-0-primary-data-0" ? { ...r, inputs: { ...r.inputs, iops: 6000, throughput: 250 } } : r));
        const e = estimate({ stack: "dev", resources: fast });
        expect(e.lines.find((l) => l.component === "EBS gp3 IOPS above 3000 (data volumes)")).toMatchObject({ tier: "shard", resources: ["shard-0-primary-data-0"], quantity: 3000, monthly: 3000 * 0.005 });
        expect(e.lines.find((l) => l.component === "EBS gp3 throughput above 125 MiB/s (data volumes)")).toMatchObject({ quantity: 125, monthly: 125 * 0.04 });
        expect(e.total - estimate(dev).total).toBeCloseTo(15 + 5, 9);
    });

    test("tiered rates: CloudFront's second band applies past 10 TB", () => {
        const e = estimate(dev, { ...FIGURES, cloudfront: { data_transfer_out_gb: 20_480, https_requests: 0 } });
        expect(component(e, "media", "CloudFront data transfer out")).toBeCloseTo(10_240 * 0.085 + 10_240 * 0.08, 6);
    });
});

describe("the usage file", () => {
    const refuse = (doc: unknown) => () => parseUsage(doc, "u.yml");
    test("refuses what it does not take, naming the path", () => {
        expect(refuse({ version: 2, stacks: {} })).toThrow("usage file u.yml: version is 2; this tool reads version 1");
        expect(refuse({ version: 1, stacks: { dev: { cloudfront: { transfer_gb: 3 } } } })).toThrow("stacks.dev.cloudfront.transfer_gb is not a figure this section takes (it takes: data_transfer_out_gb, https_requests)");
        expect(refuse({ version: 1, stacks: { dev: { elasticache: {} } } })).toThrow("stacks.dev.elasticache is not a section of a usage file (they are: buckets, cloudfront, data_transfer, ebs_snapshots, load_balancer, nat_gateway, route53, sns)");
        expect(refuse({ version: 1, stacks: { dev: { nat_gateway: { processed_gb: -1 } } } })).toThrow("stacks.dev.nat_gateway.processed_gb is -1; a figure is a number of 0 or more, or null when it is not known");
        expect(refuse({ version: 1, stacks: { dev: { buckets: { media: { storage_gb: "5" } } } } })).toThrow('stacks.dev.buckets.media.storage_gb is "5"');
        expect(refuse([1])).toThrow("the document must be a mapping");
    });
});

const BAD_STACK = path.join(ROOT, "Pulumi.cost-test-bad.yaml");
afterAll(() => fs.rmSync(BAD_STACK, { force: true }));

describe("npm run cost", () => {
    const cost = (...args: string[]) => spawnSync(path.join(ROOT, "node_modules", ".bin", "tsx"), ["tools/cost.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 90_000 });
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "cost-test-"));

    test("instagram-2011: a table by tier with the total, the unknowns listed, and the 2011 bill of the same fleet", () => {
        const r = cost("--stack", "instagram-2011");
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain('Monthly cost estimate of stack "instagram-2011" (region us-east-1, USD, 730 hours a month)');
        expect(r.stdout).toMatch(/^shard\s+EC2 r7i\.2xlarge\s+24\s+17,520 instance-h\s+\$0\.5292\s+\$9,271\.58$/m);
        expect(r.stdout).toMatch(/^app\s+EC2 c7i\.2xlarge\s+25\s+18,250 instance-h\s+\$0\.357\s+\$6,515\.25$/m);
        expect(r.stdout).toMatch(/Total of the priced lines: \$[\d,]+\.\d\d a month/);
        expect(r.stdout).toContain("needs usage: cloudfront.data_transfer_out_gb");
        expect(r.stdout).toMatch(/app\s+25 x c1\.xlarge at \$0\.66\/h =\s+\$12,045\.00\s+today 25 x c7i\.2xlarge: \$6,515\.25/);
        expect(r.stdout).toMatch(/shard\s+24 x m2\.4xlarge at \$1\.84\/h =\s+\$32,236\.80\s+today 24 x r7i\.2xlarge: \$9,271\.58/);
        expect(r.stdout).toMatch(/total\s+\$44,281\.80\s+today \$15,786\.83 \(36 % of 2011's\)/);
    }, 90_000);

    test("the README's cost summaries are this command's output", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        for (const stack of ["dev", "instagram-2011"]) {
            const r = cost("--stack", stack);
            expect(r.status, r.stderr).toBe(0);
            const block = new RegExp(`<!-- cost: npm run cost -- --stack ${stack} -->\\n\`\`\`\\n([\\s\\S]*?)\`\`\``).exec(readme);
            expect(block, `README's ${stack} cost block`).not.toBeNull();
            expect(block![1], `README's ${stack} cost summary is stale: paste the command's output from "By tier:"`).toBe(r.stdout.slice(r.stdout.indexOf("By tier:")));
        }
    }, 90_000);

    test("--json is the same estimate, and --usage reads the user's file", () => {
        const file = path.join(scratch, "usage.yml");
        fs.writeFileSync(file, "version: 1\nstacks:\n  dev:\n    nat_gateway: { processed_gb: 1000 }\n");
        const r = cost("--stack", "dev", "--json", "--usage", file);
        expect(r.status, r.stderr).toBe(0);
        const doc = JSON.parse(r.stdout) as Estimate;
        expect(doc.usage).toEqual({ file, section: "dev" });
        expect(doc.lines.find((l) => l.component === "NAT gateway data processed")).toMatchObject({ quantity: 1000, monthly: 45 });
        expect(doc.unknowns.some((u) => u.needs === "usage: cloudfront.https_requests")).toBe(true);
        expect(doc.total).toBeCloseTo(doc.lines.reduce((s, l) => s + l.monthly, 0), 6);
    }, 90_000);

    test("a bad flag, stack or usage file: a clear message and exit 2", () => {
        const bad = (args: string[], message: string | RegExp) => {
            const r = cost(...args);
            expect(r.status, r.stdout + r.stderr).toBe(2);
            expect(r.stderr).toMatch(message);
            expect(r.stdout).toBe("");
        };
        bad(["--stack", "nope"], /cost: stack "nope" cannot be planned:\n {2}- no stack file Pulumi\.nope\.yaml; the stacks here are: /);
        fs.writeFileSync(BAD_STACK, "config:\n  instagram:domain: example.com\n  instagram:appInstanceType: c1.xlarge\n");
        bad(["--stack", "cost-test-bad"], /cost: stack "cost-test-bad" cannot be planned:\n {2}- instagram:appInstanceType/);
        bad(["--stakc", "dev"], /cost: unknown argument "--stakc"\nusage: npm run cost/);
        bad(["--stack"], /cost: --stack needs a value/);
        bad(["--usage", path.join(scratch, "absent.yml")], /cost: usage file .*absent\.yml cannot be read: ENOENT/);
        const typo = path.join(scratch, "typo.yml");
        fs.writeFileSync(typo, "version: 1\nstacks:\n  dev:\n    buckets:\n      photos: { storage_gb: 3 }\n");
        bad(["--usage", typo], /buckets\.photos names no bucket of stack dev/);
        fs.writeFileSync(typo, "version: 1\nstacks: [\n");
        bad(["--usage", typo], /is not YAML/);
    }, 120_000);
});
