import { describe, expect, test } from "vitest";
import { validateConfig } from "../../core/config";
import { loadStackConfig } from "../../local/project-files";
import { runStack } from "../harness/run";
import { T } from "../harness/queries";

/** What the config says each profile must contain, computed independently of the components. */
function expectedCounts(stack: string, overrides: Record<string, unknown>) {
    const c = validateConfig(loadStackConfig(stack, overrides));
    const shardHosts = c.physicalShards * (c.shardStandby ? 2 : 1);
    const nats = c.natPerAz ? c.azCount : 1;
    const hosts = c.appServers + shardHosts + (c.redisReplica ? 2 : 1) + c.memcachedNodes + c.gearmanServers + c.workerServers + c.searchServers + 1;
    return {
        [T.instance]: hosts,
        [T.volume]: shardHosts * c.shardVolumes + c.searchServers * c.searchVolumes,
        [T.attachment]: shardHosts * c.shardVolumes + c.searchServers * c.searchVolumes,
        [T.targetGroupAttachment]: c.appServers,
        [T.subnet]: 2 * c.azCount,
        [T.natGateway]: nats,
        "aws:ec2/eip:Eip": nats,
        [T.routeTable]: 1 + c.azCount,
        [T.securityGroup]: 9,
        // 13 app/data/queue paths + Munin to the 7 other tiers; internet 80/443 + SSH per admin network to 8 tiers.
        [T.ingress]: 20 + 2 + 8 * c.adminCidrs.length,
        [T.egress]: 20 + 8 * 2,
        [T.loadBalancer]: 1,
        [T.listener]: 2,
        [T.certificate]: 2,
        [T.record]: 2 + 2 + 1 + 1,
        // Media, its logs, the app artifacts, the edge logs, and the backup repository.
        [T.bucket]: 5,
        // the bundle build, one in-service wait per app host, the site's health gate
        "command:local:Command": 1 + c.appServers + 1,
        // The app release and the host tools.
        "aws:s3/bucketObjectv2:BucketObjectv2": 2,
        [T.distribution]: 1,
        // Its response headers: nosniff, a sandbox CSP, HSTS.
        "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": 1,
        // The nine secrets and the shard directory.
        [T.ssmParameter]: 10,
        [T.randomPassword]: 9,
        // One per host tier but the shards', one per physical shard (its own backups), and Data Lifecycle
        // Manager's for the shard snapshots.
        [T.role]: 7 + c.physicalShards + 1,
        [T.instanceProfile]: 7 + c.physicalShards,
        // S3 for the private subnets, off the NAT gateways.
        "aws:ec2/vpcEndpoint:VpcEndpoint": 1,
        "aws:dlm/lifecyclePolicy:LifecyclePolicy": 1,
        "aws:ssm/document:Document": 1,
        "instagram:host:UbuntuHost": hosts,
        "instagram:postgres:PostgresShard": c.physicalShards,
        "instagram:search:SearchTier": c.searchServers > 0 ? 1 : 0,
    };
}

describe("the whole stack", () => {
    test.each([
        ["dev", {}],
        ["instagram-2011", {}],
        ["dev", { "instagram:azCount": 3, "instagram:physicalShards": 3, "instagram:logicalShards": 4096, "instagram:shardStandby": true, "instagram:shardVolumes": 6, "instagram:shardRaidLevel": 10, "instagram:adminCidrs": ["198.51.100.0/24", "203.0.113.0/24"], "instagram:redisReplica": true, "instagram:memcachedNodes": 4, "instagram:appServers": 5 }],
        ["dev", { "instagram:searchServers": 0 }],
        ["dev", { "instagram:searchServers": 2, "instagram:searchVolumes": 3 }],
    ])("%s %j: resource counts follow from the config", async (stack, overrides) => {
        const run = await runStack(stack, overrides);
        for (const [type, count] of Object.entries(expectedCounts(stack, overrides))) {
            expect(run.ofType(type).length, type).toBe(count);
        }
        // Every child is parented inside the stack component: nothing floats at the root.
        const roots = run.resources.filter((r) => !r.parentUrn);
        expect(roots.map((r) => r.type)).toEqual(["instagram:stack:InstagramStack"]);
        expect(new Set(run.resources.map((r) => r.urn)).size).toBe(run.resources.length);
    });

    test("outputs: site and media URLs, the shard map, private IPs by role, secret parameter names", async () => {
        const run = await runStack("instagram-2011");
        expect(run.outputs.siteUrl).toBe("https://instagram-2011.example.com");
        expect(run.outputs.mediaUrl).toBe("https://media.instagram-2011.example.com");
        expect(run.outputs.shardMap).toHaveLength(12);
        const ips = run.outputs.privateIps as Record<string, string[]>;
        expect(Object.fromEntries(Object.entries(ips).map(([k, v]) => [k, v.length]))).toEqual({ app: 25, shardPrimary: 12, shardStandby: 12, redis: 2, memcached: 6, gearman: 2, worker: 6, search: 2, monitoring: 1 });
        expect(ips.monitoring).toEqual(["10.20.0.10"]);
        expect(run.outputs.secretParameters).toHaveLength(9);
    });

    test("tags: every AWS resource goes through one of the stack's two providers, whose defaultTags carry Project, Stack and ManagedBy; no resource repeats them; data sources use them too", async () => {
        const run = await runStack("dev", { "aws:profile": "ops" });
        const providers = run.ofType(T.provider);
        expect(providers.map((p) => p.name).sort()).toEqual(["aws", "us-east-1"]);
        for (const p of providers) {
            // Provider config reaches the engine as strings (objects as JSON).
            expect(JSON.parse(p.inputs.defaultTags), p.name).toEqual({ tags: { Project: "instagram", Stack: "dev", ManagedBy: "pulumi" } });
            expect(p.inputs.profile, p.name).toBe("ops");
        }
        expect(run.named(T.provider, "aws").inputs.region).toBe("us-east-1");
        const refs = providers.map((p) => `${p.urn}::${p.state.id}`);
        const awsResources = run.resources.filter((r) => r.custom && r.type.startsWith("aws:"));
        expect(awsResources.length).toBeGreaterThan(100);
        for (const r of awsResources) {
            expect(refs, `${r.type} ${r.name}`).toContain(r.provider);
            expect(Object.keys(r.inputs.tags ?? {}), `${r.type} ${r.name}`).not.toContain("Stack");
        }
        // Data sources too: an AMI or zone lookup with another provider would ignore aws:profile.
        expect(run.calls.length).toBeGreaterThan(3);
        // All but the shard directory's lookup, which runs before the stack (and its providers) exist, with the
        // default provider: the same aws:region and aws:profile.
        const [directoryLookup, ...rest] = run.calls;
        expect(directoryLookup.token).toBe("aws:ssm/getParametersByPath:getParametersByPath");
        expect(directoryLookup.provider).toBeUndefined();
        for (const call of rest) expect(refs, call.token).toContain(call.provider);
    });

    test("a Graviton app type boots the arm64 AMI while the other tiers keep amd64", async () => {
        const run = await runStack("dev", { "instagram:appInstanceType": "c7g.xlarge" });
        const app = run.ofType(T.instance).filter((i) => i.inputs.tags.Role === "app");
        const others = run.ofType(T.instance).filter((i) => i.inputs.tags.Role !== "app");
        expect(app.every((i) => i.inputs.ami === "ami-0mockubuntuarm6400")).toBe(true);
        expect(others.every((i) => i.inputs.ami === "ami-0mockubuntuamd6400")).toBe(true);
    });

    test("an invalid config fails the program with the key-named message", async () => {
        await expect(runStack("dev", { "instagram:azCount": 7 })).rejects.toThrow(/instagram:azCount = "7": must be an integer from 2 to 3/);
    });
});
