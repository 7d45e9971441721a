/**
 * The quotas a plan needs (tools/quotas/): the needs of both profiles computed from their offline plans and
 * checked against numbers derived here from the config alone, the peak of a release, the report against AWS's
 * defaults and against an account's values, the quotas file's validation, and the CLIs as a user runs them.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { InstagramConfig, validateConfig } from "../../core/config";
import { instanceSpec } from "../../core/instance-types";
import { SECRET_NAMES, SECRET_READERS } from "../../core/secrets";
import { HOST_ROLES } from "../../core/security-rules";
import { SHARD_DIRECTORY_SYNC_INTERVAL_S } from "../../core/app-contract";
import { loadStackConfig } from "../../local/project-files";
import { previewProgram } from "../../tools/offline/preview";
import { QUOTA_DEFAULTS } from "../../tools/quotas/defaults";
import { PlanResource, pollingRate, stackNeeds, StackNeeds, vcpuNeeds } from "../../tools/quotas/needs";
import { checkQuotas, parseQuotasFile, quotaNeeds, quotaReportLines } from "../../tools/quotas/report";

const ROOT = path.resolve(__dirname, "../..");
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "quotas-test-"));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));
const tsx = (tool: string, ...args: string[]) => spawnSync(path.join(ROOT, "node_modules", ".bin", "tsx"), [`tools/${tool}.ts`, ...args], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
function write(name: string, content: unknown): string {
    const file = path.join(TMP, name);
    fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
    return file;
}

/** UbuntuHost's root volume, and the Munin host's (components/host.ts, components/monitoring.ts). */
const ROOT_GIB = 30;
const MUNIN_ROOT_GIB = 50;
const GENEROUS = Object.fromEntries(QUOTA_DEFAULTS.map((q) => [q.id, 1_000_000]));

/** What the config says the stack needs, computed without the program. */
function expected(c: InstagramConfig) {
    const v = (type: string) => instanceSpec(type)!.vcpus;
    const shardHosts = c.physicalShards * (c.shardStandby ? 2 : 1);
    const tiers = [
        { role: "app", n: c.appServers, type: c.appInstanceType, release: true },
        { role: "worker", n: c.workerServers, type: c.workerInstanceType, release: true },
        { role: "shard", n: shardHosts, type: c.shardInstanceType, release: false },
        { role: "redis", n: c.redisReplica ? 2 : 1, type: c.redisInstanceType, release: false },
        { role: "memcached", n: c.memcachedNodes, type: c.memcachedInstanceType, release: false },
        { role: "gearman", n: c.gearmanServers, type: c.gearmanInstanceType, release: false },
        { role: "search", n: c.searchServers, type: c.searchInstanceType, release: false },
        { role: "monitoring", n: 1, type: c.monitoringInstanceType, release: false },
    ];
    const hosts = tiers.reduce((n, t) => n + t.n, 0);
    const renewed = tiers.filter((t) => t.release).reduce((n, t) => n + t.n, 0);
    // Each tier's grants of the nine generated secrets (the provided ones are unset in both profiles), and the
    // shard directory for the hosts that run the release.
    const grants = (role: string) => SECRET_NAMES.filter((s) => SECRET_READERS[s].includes(role)).length;
    const reads = (role: string) => grants(role) + (role === "app" || role === "worker" ? 1 : 0);
    return {
        hosts,
        vcpusRunning: tiers.reduce((n, t) => n + t.n * v(t.type), 0),
        vcpusExtra: tiers.filter((t) => t.release).reduce((n, t) => n + t.n * v(t.type), 0),
        gp3Running: (hosts - 1) * ROOT_GIB + MUNIN_ROOT_GIB + shardHosts * c.shardVolumes * c.shardVolumeGiB + c.searchServers * c.searchVolumes * c.searchVolumeGiB,
        gp3Extra: renewed * ROOT_GIB,
        elasticIps: c.natPerAz ? c.azCount : 1,
        pollers: c.appServers + c.workerServers,
        bootReads: tiers.reduce((n, t) => n + t.n * reads(t.role), 0),
        // A release boots every new app host at once without batches, with the workers and the Munin master.
        releaseWave: (c.appRolloutBatch > 0 ? Math.min(c.appRolloutBatch, c.appServers) : c.appServers) * reads("app") + c.workerServers * reads("worker") + reads("monitoring"),
    };
}

async function planNeeds(stack: string, overrides: Record<string, unknown> = {}): Promise<{ needs: StackNeeds; c: InstagramConfig; resources: PlanResource[] }> {
    const run = await previewProgram(stack, overrides);
    const resources = run.resources.filter((r) => r.custom);
    return { needs: stackNeeds(resources, { stack }), c: validateConfig(loadStackConfig(stack, overrides)), resources };
}

describe.each(["dev", "instagram-2011"])("the needs of stack %s, from its offline plan", (stack) => {
    let needs: StackNeeds;
    let c: InstagramConfig;
    beforeAll(async () => ({ needs, c } = await planNeeds(stack)), 120_000);

    test("vCPUs running and at a release's peak, gp3 storage, Elastic IPs, NAT gateways per AZ", () => {
        const want = expected(c);
        expect(needs.hosts).toHaveLength(want.hosts);
        expect(vcpuNeeds(needs)).toEqual({ running: want.vcpusRunning, releaseExtra: want.vcpusExtra, unknownTypes: [] });
        expect(needs.storageGiB).toEqual({ gp3: { running: want.gp3Running, releaseExtra: want.gp3Extra } });
        expect(needs.unsizedVolumes).toEqual([]);
        expect(needs.elasticIps).toBe(want.elasticIps);
        expect(Object.values(needs.natGatewaysByAz)).toEqual(Array(want.elasticIps).fill(1));
        expect(needs.vpcs).toBe(1);
        expect(needs.internetGateways).toBe(1);
        // The load balancer's group and one per host tier, and the VPC's own default group.
        expect(needs.securityGroups).toBe(1 + HOST_ROLES.length + 1);
        for (const r of needs.securityGroupRules) expect(Math.max(r.ipv4, r.ipv6)).toBeLessThanOrEqual(60);
    });

    test("Parameter Store: the boot reads at most, and the shard directory's polling", () => {
        const want = expected(c);
        expect(needs.ssm.bootReadsFirstDeploy).toBe(want.bootReads);
        expect(needs.ssm.bootReadsReleaseWave).toBe(want.releaseWave);
        expect(pollingRate(needs)).toEqual({ hosts: want.pollers, hostsAtPeak: 2 * want.pollers, perSecond: want.pollers / SHARD_DIRECTORY_SYNC_INTERVAL_S, perSecondAtPeak: (2 * want.pollers) / SHARD_DIRECTORY_SYNC_INTERVAL_S });
    });

    test("a release replaces the app and worker hosts new before old, and the Munin master old first", () => {
        expect([...needs.releaseSeeds].sort()).toEqual(["app-artifact", "app-bundle"]);
        const by = (mode: string) => needs.hosts.filter((h) => h.onRelease === mode).map((h) => h.role);
        expect(by("new-before-old").sort()).toEqual([...Array(c.appServers).fill("app"), ...Array(c.workerServers).fill("worker")]);
        expect(by("old-first")).toEqual(["monitoring"]);
    });
});

describe("instagram-2011 against AWS's defaults (the issue's reading: about 482 vCPUs, ~730 at a release's peak, ~49.7 TiB gp3)", () => {
    let needs: StackNeeds;
    beforeAll(async () => ({ needs } = await planNeeds("instagram-2011")), 120_000);

    test("the numbers", () => {
        const vcpu = vcpuNeeds(needs);
        expect([vcpu.running, vcpu.running + vcpu.releaseExtra]).toEqual([482, 730]);
        expect(Math.round((needs.storageGiB.gp3.running / 1024) * 10) / 10).toBe(49.7);
    });

    test("the report names the vCPU and gp3 quotas to raise, with codes, numbers, commands and where the defaults come from", () => {
        const checks = checkQuotas(quotaNeeds(needs));
        expect(checks.filter((q) => q.raiseTo !== undefined).map((q) => [q.quota.id, q.need, q.limit, q.raiseTo])).toEqual([
            ["L-1216C47A", 730, 5, 730],
            ["L-7A658B76", Math.round(((needs.storageGiB.gp3.running + needs.storageGiB.gp3.releaseExtra) / 1024) * 100) / 100, 50, 51],
        ]);
        const text = quotaReportLines(checks, { region: "us-east-1" }).join("\n");
        expect(text).toContain("raise L-1216C47A (Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances) to at least 730: aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-1216C47A --desired-value 730 --region us-east-1");
        expect(text).toContain("raise L-7A658B76 (Storage for General Purpose SSD (gp3) volumes, in TiB) to at least 51: aws service-quotas request-service-quota-increase --service-code ebs --quota-code L-7A658B76 --desired-value 51");
        expect(text).toMatch(/default 5 vCPUs per Region, from https:\/\/docs\.aws\.amazon\.com\/rosa\/latest\/userguide\/service-quotas-rosa\.html/);
        expect(text).toMatch(/482 vCPUs on 68 host\(s\) running; 730 at a release's peak: it replaces 31 host\(s\) new before old \(app-0\.\.app-24, worker-0\.\.worker-5\)/);
        // Every other quota fits its default; Parameter Store's default is marked as not confirmed in AWS's page.
        expect(text).toMatch(/ssm-parameter-store-throughput .*limit 40 \(AWS default, unconfirmed\)$/m);
    });

    test("with the account's generous values, nothing to raise", () => {
        const checks = checkQuotas(quotaNeeds(needs), parseQuotasFile(JSON.stringify(GENEROUS), "account.json"));
        expect(checks.every((q) => q.raiseTo === undefined && q.limitFrom === "account.json")).toBe(true);
        const text = quotaReportLines(checks).join("\n");
        expect(text).not.toMatch(/^ +raise |TOO LOW/m);
        expect(text).toContain("No quota to raise with the values of account.json.");
    });
});

describe("the peak follows the program's rollout", () => {
    test("batches (instagram:appRolloutBatch) stagger the boots but not the peak: old hosts all go at the end", async () => {
        const { needs, c } = await planNeeds("instagram-2011", { "instagram:appRolloutBatch": 5 });
        expect(vcpuNeeds(needs).releaseExtra).toBe(expected(c).vcpusExtra);
        expect(needs.hosts.filter((h) => h.role === "app" && h.firstWave)).toHaveLength(5);
        expect(needs.ssm.bootReadsReleaseWave).toBe(expected(c).releaseWave);
    }, 120_000);

    test("a pinned release has no build to follow: no peak, and the report says why", async () => {
        const { needs } = await planNeeds("dev", { "instagram:appRelease": "a".repeat(64) });
        expect(needs.releaseSeeds).toEqual([]);
        expect(vcpuNeeds(needs).releaseExtra).toBe(0);
        expect(quotaNeeds(needs)[0].detail).toContain("the release is pinned (instagram:appRelease)");
    }, 120_000);
});

describe("the quotas file", () => {
    test("JSON or YAML, quota code -> value", () => {
        expect(parseQuotasFile('{"L-1216C47A": 1152}', "q.json").values).toEqual({ "L-1216C47A": 1152 });
        expect(parseQuotasFile("L-7A658B76: 100\nL-0263D0A3: 10\n", "q.yaml").values).toEqual({ "L-7A658B76": 100, "L-0263D0A3": 10 });
    });

    test.each([
        ["{not json", "q.json", /q\.json is not JSON/],
        ["[1]", "q.json", /q\.json must map quota codes to your account's values/],
        ['{"L-NOPE": 3}', "q.json", /q\.json: unknown quota code "L-NOPE" \(known: L-1216C47A, /],
        ['{"L-1216C47A": "lots"}', "q.json", /q\.json: L-1216C47A must be a number of vCPUs .*not "lots"/],
        ['{"L-7A658B76": -1}', "q.json", /L-7A658B76 must be a number of TiB/],
        ["L-1216C47A: [1, 2]", "q.yml", /q\.yml: L-1216C47A must be a number/],
    ])("%s is refused naming the key", (text, file, message) => {
        expect(() => parseQuotasFile(text, file)).toThrow(message);
    });
});

describe("the CLIs", () => {
    test("npm run validate -- --stack instagram-2011 names the vCPU and gp3 quotas to raise against AWS's defaults; exit 0", () => {
        const r = tsx("validate", "--stack", "instagram-2011");
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/^AWS acceptance check of the offline plan of stack "instagram-2011": .* 0 refused$/m);
        expect(r.stdout).toMatch(/^ {2}L-1216C47A Running On-Demand .*: need 730 vCPUs, limit 5 \(AWS default\): TOO LOW$/m);
        expect(r.stdout).toMatch(/^ {2}L-7A658B76 Storage for General Purpose SSD \(gp3\) volumes, in TiB: need 50\.\d+ TiB, limit 50 \(AWS default\): TOO LOW$/m);
        expect(r.stdout).toMatch(/^ {2}raise L-1216C47A .* --desired-value 730 --region us-east-1$/m);
        expect(r.stdout).toMatch(/^ {2}raise L-7A658B76 .* --desired-value 51 --region us-east-1$/m);
        expect(r.stdout).toMatch(/^ {4}default 50 TiB per Region, from https:\/\/docs\.aws\.amazon\.com\//m);
    }, 180_000);

    test("--quotas FILE with generous values makes it quiet, even with --strict-quotas", () => {
        const r = tsx("validate", "--stack", "instagram-2011", "--quotas", write("generous.json", GENEROUS), "--strict-quotas");
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).not.toMatch(/^ +raise |TOO LOW/m);
        expect(r.stdout).toMatch(/No quota to raise with the values of .*generous\.json\.$/m);
    }, 180_000);

    test("--strict-quotas exits 3 on a quota too low (dev needs more vCPUs than a new account's 5)", () => {
        const r = tsx("validate", "--stack", "dev", "--strict-quotas");
        expect(r.status, r.stdout + r.stderr).toBe(3);
        expect(r.stdout).toMatch(/--strict-quotas turns this into exit 3/);
    }, 180_000);

    test("a bad quotas file exits 2 naming the key, before anything runs", () => {
        const r = tsx("validate", "--quotas", write("bad.json", { "L-1216C47A": "many" }));
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/bad\.json: L-1216C47A must be a number of vCPUs/);
        expect(r.stderr).toMatch(/usage: npm run validate -- .*--quotas FILE/);
        expect(tsx("plan", "--quotas", path.join(TMP, "nope.json")).status).toBe(2);
    }, 60_000);

    test("npm run plan -- --quotas FILE: the section comes before the outputs", () => {
        const r = tsx("plan", "--stack", "dev", "--quiet", "--quotas", write("dev.yaml", "L-1216C47A: 32\n"));
        expect(r.status, r.stderr).toBe(0);
        const [before, after] = r.stdout.split("Outputs:\n");
        expect(before).toMatch(/Quotas this plan needs in us-east-1, against the values of .*dev\.yaml and, where it gives none, AWS's defaults/);
        expect(before).toMatch(/L-1216C47A .*limit 32 \(.*dev\.yaml\)$/m);
        expect(after).not.toContain("Quotas");
    }, 180_000);
});
