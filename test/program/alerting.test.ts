/**
 * Alerting in the program: the external check on https://<domain>/readyz, an alarm for each tier's item
 * (per host where it is per host), every alarm's ALARM and OK on the stack's encrypted topic, EC2 recovery
 * on the data tiers' system check, CPU credits on burstable hosts only, PagerDuty and e-mail only when
 * configured, and the plan saying when alerts go nowhere.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { ProgramRun, RecordedResource } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { T } from "../harness/queries";
import { HEALTH_CHECK_REGIONS } from "../../core/alerting";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const TOPIC = "aws:sns/topic:Topic";
const SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription";
let dev: ProgramRun;
let seed: ProgramRun;
let paged: ProgramRun;
let elsewhere: ProgramRun;

beforeAll(async () => {
    dev = await runStack("dev");
    seed = await runStack("instagram-2011");
    paged = await runStack("dev", { "instagram:pagerdutyEscalationPolicy": "PABC123", "instagram:alertEmails": ["oncall@example.com", "sre@example.com"] });
    elsewhere = await runStack("dev", { "aws:region": "eu-west-1", "instagram:alertEmails": ["oncall@example.com"] });
}, 180_000);

const hostNames = (r: ProgramRun) => r.ofType(T.instance).map((i) => i.inputs.tags.Name as string).sort();
const alarm = (r: ProgramRun, name: string) => r.ofType(ALARM).find((a) => a.name === `alarm-${name}`);

describe("alerting", () => {
    test("Route53 checks https://<domain>/readyz from three regions, and its alarm (in us-east-1, where its metric is) sends to a topic there", () => {
        for (const r of [dev, elsewhere]) {
            const [check] = r.ofType("aws:route53/healthCheck:HealthCheck");
            expect(check.inputs).toMatchObject({ type: "HTTPS", fqdn: "dev.example.com", port: 443, resourcePath: "/readyz", enableSni: true, regions: [...HEALTH_CHECK_REGIONS] });
            const a = alarm(r, "site-external-check")!;
            expect(a.inputs).toMatchObject({ namespace: "AWS/Route53", metricName: "HealthCheckStatus", comparisonOperator: "LessThanThreshold", threshold: 1, dimensions: { HealthCheckId: check.state.id } });
            expect(r.ofType(T.provider).find((p) => a.provider?.startsWith(p.urn))?.inputs.region).toBe("us-east-1");
        }
        // In eu-west-1 the stack has a second topic in us-east-1 for that one alarm, with the same subscriptions.
        expect(dev.ofType(TOPIC)).toHaveLength(1);
        expect(elsewhere.ofType(TOPIC)).toHaveLength(2);
        const usTopic = elsewhere.ofType(TOPIC).find((t) => t.name === "alerts-us-east-1")!;
        expect(alarm(elsewhere, "site-external-check")!.inputs.alarmActions).toEqual([usTopic.state.arn]);
        expect(elsewhere.ofType(SUBSCRIPTION).map((s) => `${s.name}:${s.inputs.endpoint}`).sort()).toEqual(["alerts-email-0:oncall@example.com", "alerts-us-east-1-email-0:oncall@example.com"]);
    });

    test("the edge: 5xx rate, p99 response time and unhealthy targets, with the config's thresholds", () => {
        const rate = alarm(dev, "lb-5xx-rate")!;
        expect(rate.inputs.threshold).toBe(1);
        expect(rate.inputs.metricQueries.map((q: { id: string }) => q.id)).toEqual(["elb5xx", "target5xx", "requests", "rate"]);
        const lb = dev.ofType(T.loadBalancer)[0];
        expect(rate.inputs.metricQueries[0].metric).toMatchObject({ namespace: "AWS/ApplicationELB", metricName: "HTTPCode_ELB_5XX_Count", stat: "Sum", dimensions: { LoadBalancer: lb.state.arnSuffix } });
        expect(alarm(dev, "lb-p99-response-time")!.inputs).toMatchObject({ metricName: "TargetResponseTime", extendedStatistic: "p99", threshold: 1 });
        expect(alarm(dev, "lb-unhealthy-targets")!.inputs).toMatchObject({ metricName: "UnHealthyHostCount", threshold: 0, comparisonOperator: "GreaterThanThreshold" });
        expect(alarm(dev, "lb-unhealthy-targets")!.inputs.dimensions.TargetGroup).toBe(dev.ofType(T.targetGroup)[0].state.arnSuffix);
    });

    test("every host has both status-check alarms on its own instance; the shard, Redis and search hosts are also recovered by EC2", () => {
        for (const r of [dev, seed]) {
            for (const instance of r.ofType(T.instance)) {
                const name = instance.inputs.tags.Name as string;
                const system = alarm(r, `${name}-status-system`)!;
                const os = alarm(r, `${name}-status-instance`)!;
                expect(system.inputs).toMatchObject({ namespace: "AWS/EC2", metricName: "StatusCheckFailed_System", dimensions: { InstanceId: instance.state.id }, treatMissingData: "breaching" });
                expect(os.inputs).toMatchObject({ metricName: "StatusCheckFailed_Instance", dimensions: { InstanceId: instance.state.id } });
                const recovered = ["shard", "redis", "search"].includes(instance.inputs.tags.Role);
                expect(system.inputs.alarmActions.some((a: string) => a === `arn:aws:automate:us-east-1:ec2:recover`), name).toBe(recovered);
                expect(os.inputs.alarmActions.some((a: string) => a.includes(":ec2:recover")), name).toBe(false);
            }
        }
        expect(alarm(seed, "shard-11-standby-status-system")).toBeDefined();
        expect(alarm(seed, "search-standby-status-system")!.inputs.alarmActions).toContain("arn:aws:automate:us-east-1:ec2:recover");
    });

    test("the hosts' own metrics: data volume space and IO and both lags on every shard and search host (archive lag on shards), Redis memory, Gearman's queue", () => {
        const byRole = (r: ProgramRun, role: RegExp) => hostNames(r).filter((n) => role.test(n));
        const metricAlarm = (r: ProgramRun, name: string) => {
            const a = alarm(r, name);
            expect(a, name).toBeDefined();
            expect(a!.inputs.namespace).toBe(`Instagram/${r === seed ? "instagram-2011" : "dev"}`);
            expect(a!.inputs.dimensions).toEqual({ Host: name.replace(/-(data-volume-used|data-volume-io|replication-lag|wal-archive-lag|redis-memory|gearman-queue)$/, "") });
            expect(a!.inputs.treatMissingData).toBe("missing");
            return a!.inputs;
        };
        for (const r of [dev, seed]) {
            for (const host of byRole(r, /^(shard-\d+|search)-(primary|standby)$/)) {
                expect(metricAlarm(r, `${host}-data-volume-used`)).toMatchObject({ metricName: "DataVolumeUsedPercent", threshold: 80, comparisonOperator: "GreaterThanThreshold", evaluationPeriods: 10 });
                expect(metricAlarm(r, `${host}-data-volume-io`)).toMatchObject({ metricName: "DataVolumeIoBusyPercent", threshold: 90, statistic: "Average" });
                expect(metricAlarm(r, `${host}-replication-lag`)).toMatchObject({ metricName: "ReplicationLagSeconds", threshold: 60 });
                if (host.startsWith("shard")) expect(metricAlarm(r, `${host}-wal-archive-lag`)).toMatchObject({ metricName: "WalArchiveLagSeconds", threshold: 600 });
                else expect(alarm(r, `${host}-wal-archive-lag`)).toBeUndefined();
            }
            for (const host of byRole(r, /^redis-/)) expect(metricAlarm(r, `${host}-redis-memory`)).toMatchObject({ metricName: "RedisMemoryUsedPercent", threshold: 85 });
            for (const host of byRole(r, /^gearman-/)) expect(metricAlarm(r, `${host}-gearman-queue`)).toMatchObject({ metricName: "GearmanQueuedJobs", threshold: 10000 });
            for (const host of byRole(r, /^(app|memcached|worker)-|^munin$/)) expect(r.ofType(ALARM).filter((a) => a.inputs.dimensions?.Host === host)).toEqual([]);
        }
        expect(byRole(seed, /^gearman-/).length).toBeGreaterThan(0);
    });

    test("the hosts that publish may write to their stack's namespace only", () => {
        const policyOfRole = (role: string) => {
            const policy = dev.ofType(T.rolePolicy).find((p) => p.inputs.role === dev.named(T.role, `${role}-host`).state.id);
            return policy ? JSON.parse(policy.inputs.policy) : { Statement: [] };
        };
        for (const role of ["shard", "redis", "search"]) {
            const statement = policyOfRole(role).Statement.find((st: { Sid: string }) => st.Sid === "PublishHostMetrics");
            expect(statement).toEqual({ Sid: "PublishHostMetrics", Effect: "Allow", Action: ["cloudwatch:PutMetricData"], Resource: "*", Condition: { StringEquals: { "cloudwatch:namespace": "Instagram/dev" } } });
        }
        for (const role of ["app", "memcached", "monitoring"]) expect(policyOfRole(role).Statement.map((st: { Sid: string }) => st.Sid)).not.toContain("PublishHostMetrics");
    });

    test("thresholds come from the config", async () => {
        const tuned = await runStack("dev", { "instagram:alarmDataVolumeUsedPercent": 70, "instagram:alarmReplicationLagSeconds": 30, "instagram:alarmRedisMemoryPercent": 90 });
        expect(alarm(tuned, "shard-0-primary-data-volume-used")!.inputs.threshold).toBe(70);
        expect(alarm(tuned, "shard-0-primary-replication-lag")!.inputs.threshold).toBe(30);
        expect(alarm(tuned, "redis-primary-redis-memory")!.inputs.threshold).toBe(90);
    });

    test("CPU credits are alarmed on burstable hosts only", () => {
        const credits = (r: ProgramRun) => r.ofType(ALARM).filter((a) => a.inputs.metricName === "CPUCreditBalance").map((a) => a.name.replace(/^alarm-|-cpu-credits$/g, "")).sort();
        const burstable = (r: ProgramRun) => r.ofType(T.instance).filter((i) => /^t\d/.test(i.inputs.instanceType)).map((i) => i.inputs.tags.Name as string).sort();
        expect(credits(dev)).toEqual(burstable(dev));
        expect(credits(dev)).toEqual(hostNames(dev));
        expect(credits(seed)).toEqual(burstable(seed));
        expect(credits(seed)).toEqual(["gearman-0", "gearman-1"]);
        expect(credits(seed)).not.toContain("app-0");
        expect(alarm(dev, "app-0-cpu-credits")!.inputs).toMatchObject({ comparisonOperator: "LessThanThreshold", threshold: 20 });
    });

    test("every alarm sends both ALARM and OK to the stack's encrypted topic, which only this account's CloudWatch may publish to, over TLS", () => {
        const topic = dev.ofType(TOPIC)[0];
        const key = dev.ofType("aws:kms/key:Key")[0];
        expect(topic.inputs.kmsMasterKeyId).toBe(key.state.arn);
        expect(key.inputs.enableKeyRotation).toBe(true);
        expect(JSON.parse(key.inputs.policy).Statement.find((s: { Sid: string }) => s.Sid === "CloudWatchPublishes")).toMatchObject({ Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["kms:Decrypt", "kms:GenerateDataKey*"] });
        const policy = JSON.parse(dev.ofType("aws:sns/topicPolicy:TopicPolicy")[0].inputs.policy);
        expect(policy.Statement.map((s: { Sid: string; Effect: string }) => `${s.Sid}:${s.Effect}`)).toEqual(["CloudWatchAlarmsOfThisAccount:Allow", "TlsOnly:Deny"]);
        const alarms = dev.ofType(ALARM);
        // 3 for the edge, 1 external check, 2 status checks + CPU credits per (burstable) dev host, and the hosts'
        // own metrics: 4 per shard host, 3 per search host, 1 per Redis and Gearman host.
        const count = (re: RegExp) => hostNames(dev).filter((n) => re.test(n)).length;
        expect(alarms).toHaveLength(3 + 1 + 3 * hostNames(dev).length + 4 * count(/^shard-/) + 3 * count(/^search-/) + count(/^(redis|gearman)-/));
        for (const a of alarms) {
            expect(a.inputs.alarmActions[0], a.name).toBe(topic.state.arn);
            expect(a.inputs.okActions, a.name).toEqual([topic.state.arn]);
            expect(a.inputs.alarmDescription.length, a.name).toBeGreaterThan(40);
        }
        expect(new Set(alarms.map((a) => a.inputs.name)).size).toBe(alarms.length);
    });

    test("PagerDuty (a service, its CloudWatch integration, an https subscription) and e-mail only when configured; otherwise the outputs say alerts go nowhere", () => {
        const subs = (r: ProgramRun) => r.ofType(SUBSCRIPTION).map((s: RecordedResource) => `${s.inputs.protocol}:${s.inputs.endpoint}`).sort();
        expect(dev.ofType("pagerduty:index/service:Service")).toEqual([]);
        expect(subs(dev)).toEqual([]);
        expect(dev.outputs.alerts).toMatch(/^alerts go nowhere: .*instagram:pagerdutyEscalationPolicy or instagram:alertEmails/);
        const [service] = paged.ofType("pagerduty:index/service:Service");
        expect(service.inputs).toMatchObject({ escalationPolicy: "PABC123", name: "instagram dev" });
        const [integration] = paged.ofType("pagerduty:index/serviceIntegration:ServiceIntegration");
        expect(integration.inputs.service).toBe(service.state.id);
        expect(subs(paged)).toEqual(["email:oncall@example.com", "email:sre@example.com", `https:https://events.pagerduty.com/integration/${integration.state.integrationKey}/enqueue`]);
        expect(paged.outputs.alerts).toBe("alerts go to PagerDuty (escalation policy PABC123) and e-mail to oncall@example.com, sre@example.com");
    });
});
