/**
 * The stack rules, with the real program's resource graph as the compliant baseline and one change per way
 * each rule can fail. The graph carries the engine's property dependencies, as at preview.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { policies } from "../../policies/rules";
import { ProgramRun } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { checkStack, policyResources } from "../harness/policy";

const stackPolicies = policies.filter((p): p is StackValidationPolicy => "validateStack" in p);
const rule = (name: string) => stackPolicies.find((p) => p.name === name)!;

let run: ProgramRun;
beforeAll(async () => {
    // Two shards with standbys, so every stack rule has something to look at.
    run = await runStack("dev", { "instagram:physicalShards": 2, "instagram:shardStandby": true, "instagram:adminCidrs": ["203.0.113.0/24"] });
});

const graph = () => policyResources(run);
const one = (rs: PolicyResource[], type: string, pred: (r: PolicyResource) => boolean = () => true) => {
    const found = rs.filter((r) => r.type === type && pred(r));
    if (found.length === 0) throw new Error(`no ${type} matches`);
    return found[0];
};
const named = (rs: PolicyResource[], type: string, name: string) => one(rs, type, (r) => r.name === name);
const I = "aws:ec2/instance:Instance";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";

/** A new ingress rule wired into the graph as the engine would record it. */
function ingress(rs: PolicyResource[], onRole: string, props: Record<string, any>, fromRole?: string): PolicyResource {
    const group = one(rs, SG, (g) => g.props.tags?.Role === onRole);
    const source = fromRole ? one(rs, SG, (g) => g.props.tags?.Role === fromRole) : undefined;
    const r = {
        type: INGRESS, name: `extra-${onRole}`, urn: `urn:pulumi:dev::instagram::${INGRESS}::extra-${onRole}`,
        props: { securityGroupId: group.props.id, referencedSecurityGroupId: source?.props.id, ipProtocol: "tcp", description: "added by the test", ...props },
        opts: {}, dependencies: [], propertyDependencies: { securityGroupId: [group], ...(source ? { referencedSecurityGroupId: [source] } : {}) },
    } as unknown as PolicyResource;
    rs.push(r);
    return r;
}

describe("stack rules", () => {
    test("the program's own graph passes every stack rule", async () => {
        for (const policy of stackPolicies) expect(await checkStack(policy, graph(), policy.name === "shard-raid-volume-count" ? { volumesPerShard: 2 } : {}), policy.name).toEqual([]);
    });

    test("shard-volumes-same-az: a volume in another AZ than its instance", async () => {
        const rs = graph();
        const volume = named(rs, "aws:ebs/volume:Volume", "shard-1-standby-data-0");
        volume.props.availabilityZone = "us-east-1c";
        volume.propertyDependencies = {};
        const found = await checkStack(rule("shard-volumes-same-az"), rs);
        expect(found.map((f) => f.message)).toEqual([expect.stringMatching(/^shard-1-standby-data-0: availabilityZone is us-east-1c but its instance shard-1-standby is in us-east-1a/)]);
    });

    test("standby-in-other-az: a standby moved into its primary's subnet", async () => {
        const rs = graph();
        const primary = one(rs, I, (i) => i.props.tags?.Name === "shard-0-primary");
        const standby = one(rs, I, (i) => i.props.tags?.Name === "shard-0-standby");
        standby.props.subnetId = primary.props.subnetId;
        standby.props.availabilityZone = primary.props.availabilityZone;
        standby.propertyDependencies.subnetId = primary.propertyDependencies.subnetId;
        const found = await checkStack(rule("standby-in-other-az"), rs);
        expect(found).toEqual([{ message: expect.stringMatching(/^shard-0-standby: subnetId puts it in us-east-1a with its primary shard-0-primary/), urn: standby.urn }]);
    });

    test("shard-raid-volume-count: a detached volume, and a count other than configured", async () => {
        const rs = graph().filter((r) => r.name !== "shard-0-primary-data-1");
        const found = await checkStack(rule("shard-raid-volume-count"), rs, { volumesPerShard: 2 });
        expect(found.map((f) => f.message)).toEqual([
            expect.stringMatching(/^shard-0-primary: volume attachments number 1, not the configured 2/),
            expect.stringMatching(/^shard-0-primary: tag RaidVolumes declares 2 volumes but 1 are attached/),
        ]);
        expect(await checkStack(rule("shard-raid-volume-count"), graph(), { volumesPerShard: 4 })).toHaveLength(4);
    });

    test("shard-raid-volume-count: a shard host without its RaidVolumes tag, and RAID 10 over two volumes", async () => {
        const rs = graph();
        const primary = one(rs, I, (i) => i.props.tags?.Name === "shard-0-primary");
        primary.props.tags = { ...primary.props.tags, RaidVolumes: undefined };
        const standby = one(rs, I, (i) => i.props.tags?.Name === "shard-0-standby");
        standby.props.tags = { ...standby.props.tags, RaidLevel: "10" };
        expect((await checkStack(rule("shard-raid-volume-count"), rs)).map((f) => f.message)).toEqual([
            expect.stringMatching(/^shard-0-primary: tag RaidVolumes is missing/),
            expect.stringMatching(/^shard-0-standby: RAID 10 has 2 volumes/),
        ]);
    });

    test("only-load-balancer-public: the internet on a host group, and a CIDR source into a host group", async () => {
        let rs = graph();
        const open = ingress(rs, "app", { cidrIpv4: "0.0.0.0/0", fromPort: 443, toPort: 443 });
        expect(await checkStack(rule("only-load-balancer-public"), rs)).toEqual([{ message: expect.stringMatching(/^extra-app: cidrIpv4 opens net-app to the internet, and that group is not a load balancer's/), urn: open.urn }]);
        rs = graph();
        const cidr = ingress(rs, "redis", { cidrIpv4: "10.0.0.0/8", fromPort: 6379, toPort: 6379 });
        expect(await checkStack(rule("only-load-balancer-public"), rs)).toEqual([{ message: expect.stringMatching(/^extra-redis: source admits 10.0.0.0\/8 into host group net-redis/), urn: cidr.urn }]);
        // Admin SSH is the one CIDR a host group may admit, unless the config says otherwise.
        // One per host group with hosts (the dev stack has no job-worker hosts).
        expect(await checkStack(rule("only-load-balancer-public"), graph(), { allowAdminSsh: false })).toHaveLength(7);
    });

    test("data-ports-restricted: the wrong tier, or a CIDR, on a data port", async () => {
        let rs = graph();
        ingress(rs, "shard", { fromPort: 6432, toPort: 6432 }, "memcached");
        expect((await checkStack(rule("data-ports-restricted"), rs)).map((f) => f.message)).toEqual([
            expect.stringMatching(/^extra-shard: referencedSecurityGroupId admits group net-memcached \(Role memcached\) to port 6432. Fix: only app or worker may reach it/),
        ]);
        rs = graph();
        ingress(rs, "memcached", { cidrIpv4: "10.20.0.0/16", fromPort: 11211, toPort: 11211 });
        expect((await checkStack(rule("data-ports-restricted"), rs)).map((f) => f.message)).toEqual([expect.stringMatching(/^extra-memcached: source admits 10.20.0.0\/16 to port 11211/)]);
        rs = graph();
        ingress(rs, "shard", { fromPort: 5432, toPort: 5432 }, "app");
        expect((await checkStack(rule("data-ports-restricted"), rs)).map((f) => f.message)).toEqual([expect.stringMatching(/admits group net-app \(Role app\) to port 5432. Fix: only shard or search may reach it/)]);
        // PostgreSQL is replication within a tier: the search group may not reach a shard's, nor the reverse.
        rs = graph();
        ingress(rs, "shard", { fromPort: 5432, toPort: 5432 }, "search");
        expect((await checkStack(rule("data-ports-restricted"), rs)).map((f) => f.message)).toEqual([expect.stringMatching(/admits group net-search \(Role search\) to PostgreSQL on net-shard \(Role shard\). Fix: replication stays within a tier/)]);
    });

    test("no-random-password-in-user-data: by value, and by dependency (as at preview, when the value is unknown)", async () => {
        let rs = graph();
        const password = one(rs, "random:index/randomPassword:RandomPassword", (p) => p.name === "secrets-redis-auth");
        const redis = one(rs, I, (i) => i.props.tags?.Name === "redis-primary");
        redis.props.userData += `\nrequirepass ${password.props.result}\n`;
        expect((await checkStack(rule("no-random-password-in-user-data"), rs)).map((f) => f.message)).toEqual([expect.stringMatching(/^redis-primary: userData contains the value of secrets-redis-auth/)]);
        rs = graph();
        const app = one(rs, I, (i) => i.props.tags?.Name === "app-0");
        app.propertyDependencies.userData = [...(app.propertyDependencies.userData ?? []), one(rs, "random:index/randomPassword:RandomPassword")];
        expect((await checkStack(rule("no-random-password-in-user-data"), rs)).map((f) => f.message)).toEqual([expect.stringMatching(/^app-0: userData is computed from secrets-postgres-app/)]);
    });

    test("instance-status-alarms: a host without its system check's alarm, or whose alarm has no action", async () => {
        const alarmOf = (rs: PolicyResource[], name: string) => named(rs, "aws:cloudwatch/metricAlarm:MetricAlarm", `alarm-${name}`);
        expect(await checkStack(rule("instance-status-alarms"), graph())).toEqual([]);
        let rs = graph().filter((r) => r.name !== "alarm-redis-primary-status-system");
        expect((await checkStack(rule("instance-status-alarms"), rs)).map((f) => f.message)).toEqual([expect.stringMatching(/^redis-primary: StatusCheckFailed_System has no alarm with an action/)]);
        rs = graph();
        alarmOf(rs, "app-0-status-instance").props.alarmActions = [];
        expect((await checkStack(rule("instance-status-alarms"), rs)).map((f) => f.message)).toEqual([expect.stringMatching(/^app-0: StatusCheckFailed_Instance has no alarm with an action/)]);
        // At preview the instance ID is unknown: the alarm is matched by its dimensions' dependency on the instance.
        rs = graph();
        const app = one(rs, I, (i) => i.props.tags?.Name === "app-0");
        for (const a of ["app-0-status-system", "app-0-status-instance"]) {
            const alarm = alarmOf(rs, a);
            alarm.props.dimensions = {};
            alarm.propertyDependencies.dimensions = [app];
        }
        expect(await checkStack(rule("instance-status-alarms"), rs)).toEqual([]);
    });

    test("S3 companions: a bucket without versioning, encryption, a full public access block, or logs", async () => {
        const without = (type: string, bucket: string) => graph().filter((r) => !(r.type === type && r.name === bucket));
        expect((await checkStack(rule("s3-versioning"), without("aws:s3/bucketVersioning:BucketVersioning", "media"))).map((f) => f.message)).toEqual([expect.stringMatching(/^media: versioning is not Enabled/)]);
        expect((await checkStack(rule("s3-encryption"), without("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "edge-logs"))).map((f) => f.message)).toEqual([expect.stringMatching(/^edge-logs: server-side encryption is not configured/)]);
        expect((await checkStack(rule("s3-public-access-block"), without("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "media-logs"))).map((f) => f.message)).toEqual([expect.stringMatching(/^media-logs: public access block is missing/)]);
        const rs = graph();
        named(rs, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "media").props.ignorePublicAcls = false;
        expect((await checkStack(rule("s3-public-access-block"), rs)).map((f) => f.message)).toEqual([expect.stringMatching(/^media: public access block ignorePublicAcls is not true/)]);
        // The photo bucket must log; the two log buckets are destinations and are not asked to.
        expect((await checkStack(rule("s3-access-logging"), without("aws:s3/bucketLogging:BucketLogging", "media"))).map((f) => f.message)).toEqual([expect.stringMatching(/^media: access logging is not configured/)]);
    });
});
