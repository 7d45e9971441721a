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
import { AlarmState, docSeries, EvaluatedAlarm, evaluate, insufficientUnless, run as evaluateOver, Series } from "../harness/alarm-evaluation";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm";
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
            // The checkers start once the deploy's health gate has seen the site ready; no datapoint yet is not a page.
            expect(check.dependencies).toContain(r.named("command:local:Command", "site-ready").urn);
            expect(a.inputs.treatMissingData).toBe("missing");
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
                // A host that has not reported yet is missing data, not a failure (AWS's advice for alarms with EC2 actions).
                expect(system.inputs).toMatchObject({ namespace: "AWS/EC2", metricName: "StatusCheckFailed_System", dimensions: { InstanceId: instance.state.id }, treatMissingData: "missing" });
                expect(os.inputs).toMatchObject({ metricName: "StatusCheckFailed_Instance", dimensions: { InstanceId: instance.state.id }, treatMissingData: "missing" });
                const recovered = ["shard", "redis", "search"].includes(instance.inputs.tags.Role);
                expect(system.inputs.alarmActions.some((a: string) => a === `arn:aws:automate:us-east-1:ec2:recover`), name).toBe(recovered);
                expect(os.inputs.alarmActions.some((a: string) => a.includes(":ec2:recover")), name).toBe(false);
            }
        }
        expect(alarm(seed, "shard-11-standby-status-system")).toBeDefined();
        expect(alarm(seed, "search-standby-status-system")!.inputs.alarmActions).toContain("arn:aws:automate:us-east-1:ec2:recover");
    });

    test("every host has the not-reporting pair: a latch named after its instance, and a composite alarm that pages", () => {
        for (const r of [dev, seed]) {
            const composites = r.ofType(COMPOSITE);
            expect(composites).toHaveLength(r.ofType(T.instance).length);
            const topic = r.ofType(TOPIC).find((t) => t.name === "alerts")!;
            for (const instance of r.ofType(T.instance)) {
                const name = instance.inputs.tags.Name as string;
                const latch = alarm(r, `${name}-reported`)!;
                // Named after the instance: a replacement starts from INSUFFICIENT_DATA, not from the old host's OK.
                expect(latch.inputs).toMatchObject({
                    name: `instagram-${r.stack}-${name}-reported-${instance.state.id}`,
                    namespace: "AWS/EC2", metricName: "StatusCheckFailed", statistic: "Maximum", dimensions: { InstanceId: instance.state.id },
                    treatMissingData: "ignore", alarmActions: [], okActions: [],
                });
                const composite = composites.find((c) => c.name === `alarm-${name}-not-reporting`)!;
                expect(composite.inputs).toMatchObject({
                    alarmName: `instagram-${r.stack}-${name}-not-reporting`,
                    alarmRule: `INSUFFICIENT_DATA("instagram-${r.stack}-${name}-status-instance") AND NOT INSUFFICIENT_DATA("${latch.inputs.name}")`,
                    alarmActions: [topic.state.arn],
                    okActions: [topic.state.arn],
                });
                expect(composite.inputs.alarmDescription, name).toMatch(/stopped or terminated/);
                // The rule names alarms that exist before it: it depends on both.
                expect(composite.dependencies).toEqual(expect.arrayContaining([latch.urn, alarm(r, `${name}-status-instance`)!.urn]));
            }
        }
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
        for (const role of ["shard-0", "redis", "search"]) {
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
        // 3 for the edge, 1 external check, 2 status checks + CPU credits + the not-reporting latch per (burstable)
        // dev host, and the hosts' own metrics: 4 per shard host, 3 per search host, 1 per Redis and Gearman host.
        const count = (re: RegExp) => hostNames(dev).filter((n) => re.test(n)).length;
        expect(dev.ofType(ALARM)).toHaveLength(3 + 1 + 4 * hostNames(dev).length + 4 * count(/^shard-/) + 3 * count(/^search-/) + count(/^(redis|gearman)-/));
        // The latches send nothing: the composite alarm that reads them does.
        const latches = dev.ofType(ALARM).filter((a) => a.name.endsWith("-reported"));
        expect(latches).toHaveLength(hostNames(dev).length);
        for (const latch of latches) expect([latch.inputs.alarmActions, latch.inputs.okActions], latch.name).toEqual([[], []]);
        const alarms = [...dev.ofType(ALARM).filter((a) => !latches.includes(a)), ...dev.ofType(COMPOSITE).map((c) => ({ ...c, inputs: { ...c.inputs, name: c.inputs.alarmName } as Record<string, any> }))];
        for (const a of alarms) {
            expect(a.inputs.alarmActions[0], a.name).toBe(topic.state.arn);
            expect(a.inputs.okActions, a.name).toEqual([topic.state.arn]);
            expect(a.inputs.alarmDescription.length, a.name).toBeGreaterThan(40);
        }
        expect(new Set([...alarms, ...latches].map((a) => a.inputs.name)).size).toBe(alarms.length + latches.length);
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

/**
 * The plan's host alarms run through CloudWatch's documented evaluation (test/harness/alarm-evaluation.ts, first
 * checked against AWS's own tables), minute by minute, over what a host's status checks report: nothing until
 * EC2 has checked the new host, then 0 a minute; a host that stops reporting; a failed system check.
 */
describe("missing data, on the plan", () => {
    const settings = (a: RecordedResource): EvaluatedAlarm => ({
        comparison: a.inputs.comparisonOperator,
        threshold: a.inputs.threshold,
        evaluationPeriods: a.inputs.evaluationPeriods,
        datapointsToAlarm: a.inputs.datapointsToAlarm,
        treatMissingData: a.inputs.treatMissingData,
    });
    /** The alarms of one host of a run, and what each sends on a change of state. */
    const hostAlarmsOf = (r: ProgramRun, host: string) => {
        const system = alarm(r, `${host}-status-system`)!;
        const instance = alarm(r, `${host}-status-instance`)!;
        const latch = alarm(r, `${host}-reported`)!;
        const composite = r.ofType(COMPOSITE).find((c) => c.name === `alarm-${host}-not-reporting`)!;
        // The composite's rule, read back: INSUFFICIENT_DATA(a) AND NOT INSUFFICIENT_DATA(b), a and b by name.
        const [, a, b] = /^INSUFFICIENT_DATA\("([^"]+)"\) AND NOT INSUFFICIENT_DATA\("([^"]+)"\)$/.exec(composite.inputs.alarmRule)!;
        expect([a, b]).toEqual([instance.inputs.name, latch.inputs.name]);
        return { system, instance, latch, composite };
    };
    /** Minutes of a host's life: `silent` minutes before EC2's first check, then `value` each minute, then `after`. */
    const timeline = (silent: number, reporting: number, value = 0, after: (number | null)[] = []): Series => [...Array(silent).fill(null), ...Array(reporting).fill(value), ...after];
    /** Runs a host's alarms over the status-check series; the latch reads StatusCheckFailed (the larger of both). */
    const simulate = (r: ProgramRun, host: string, systemSeries: Series, instanceSeries: Series, start: { instance?: AlarmState; latch?: AlarmState } = {}) => {
        const h = hostAlarmsOf(r, host);
        const combined = systemSeries.map((v, t) => (v === null && instanceSeries[t] === null ? null : Math.max(v ?? 0, instanceSeries[t] ?? 0)));
        const system = evaluateOver(settings(h.system), systemSeries);
        const instance = evaluateOver(settings(h.instance), instanceSeries, start.instance);
        const latch = evaluateOver(settings(h.latch), combined, start.latch);
        const composite = insufficientUnless(instance.states, latch.states);
        // What reaches the topic (and EC2): each alarm's ALARM and OK actions, on its changes of state.
        const sent = (name: string, a: { transitions: { minute: number; to: AlarmState }[] }, actions: RecordedResource) =>
            a.transitions.flatMap((t) => (t.to === "ALARM" ? actions.inputs.alarmActions : t.to === "OK" ? actions.inputs.okActions : actions.inputs.insufficientDataActions ?? []).map((arn: string) => `${t.minute} ${name} ${t.to} ${arn.includes(":ec2:recover") ? "recover" : "topic"}`));
        return {
            system, instance, latch, composite,
            sent: [...sent("system", system, h.system), ...sent("instance", instance, h.instance), ...sent("latch", latch, h.latch), ...sent("not-reporting", composite, h.composite)],
            pages: [...sent("system", system, h.system), ...sent("instance", instance, h.instance), ...sent("latch", latch, h.latch), ...sent("not-reporting", composite, h.composite)].filter((l) => / ALARM /.test(l)),
        };
    };

    test("the stand-in evaluates every row of AWS's two tables as AWS documents", () => {
        const expectRow = (a: Omit<EvaluatedAlarm, "treatMissingData">, points: string, expected: [AlarmState | "retain", AlarmState | "retain", AlarmState | "retain", AlarmState | "retain"]) => {
            const treatments = ["missing", "ignore", "breaching", "notBreaching"] as const;
            for (const [k, treat] of treatments.entries()) {
                // "Retain current state": from OK it stays OK and from ALARM it stays ALARM.
                for (const from of ["OK", "ALARM"] as const) {
                    const want = expected[k] === "retain" ? from : expected[k];
                    expect(evaluate({ ...a, treatMissingData: treat }, docSeries(points), from), `${points} ${treat} from ${from}`).toBe(want);
                }
            }
        };
        const threeOfThree = { comparison: "GreaterThanOrEqualToThreshold" as const, threshold: 1, evaluationPeriods: 3, datapointsToAlarm: 3 };
        expectRow(threeOfThree, "0 - X - X", ["OK", "OK", "OK", "OK"]);
        expectRow(threeOfThree, "0 - - - -", ["OK", "OK", "OK", "OK"]);
        expectRow(threeOfThree, "- - - - -", ["INSUFFICIENT_DATA", "retain", "ALARM", "OK"]);
        expectRow(threeOfThree, "0 X X - X", ["ALARM", "ALARM", "ALARM", "ALARM"]);
        expectRow(threeOfThree, "- - X - -", ["ALARM", "retain", "ALARM", "OK"]);
        const twoOfThree = { ...threeOfThree, datapointsToAlarm: 2 };
        expectRow(twoOfThree, "0 - X - X", ["ALARM", "ALARM", "ALARM", "ALARM"]);
        expectRow(twoOfThree, "0 0 X 0 X", ["ALARM", "ALARM", "ALARM", "ALARM"]);
        expectRow(twoOfThree, "0 - X - -", ["OK", "OK", "ALARM", "OK"]);
        expectRow(twoOfThree, "- - - - 0", ["OK", "OK", "ALARM", "OK"]);
        expectRow(twoOfThree, "- - - X -", ["ALARM", "retain", "ALARM", "OK"]);
    });

    test("a fresh host pages nobody and is not recovered, whichever tier (136 alarms at instagram-2011 used to fire)", () => {
        for (const r of [dev, seed]) {
            for (const host of hostNames(r)) {
                // Created seconds after the instance; EC2's first checks come minutes later.
                const fresh = simulate(r, host, timeline(6, 30), timeline(6, 30));
                expect(fresh.pages, `${r.stack} ${host}`).toEqual([]);
                expect([fresh.system, fresh.instance, fresh.latch, fresh.composite].map((a) => a.states.at(-1)), host).toEqual(["OK", "OK", "OK", "OK"]);
                // What it sends: OK once its checks report (a page's resolve, not a page).
                expect(fresh.sent.every((l) => / OK topic$/.test(l)), host).toBe(true);
            }
        }
        // The settings this replaced (missing data breaching) paged every new host at once, and sent EC2 to
        // recover booting data hosts.
        const shard = hostAlarmsOf(dev, "shard-0-primary").system;
        const before = evaluateOver({ ...settings(shard), treatMissingData: "breaching" }, timeline(6, 30));
        expect(before.transitions[0]).toEqual({ minute: 0, from: "INSUFFICIENT_DATA", to: "ALARM" });
    });

    test("a host that reported and stops (stopped, terminated) pages through its not-reporting alarm, then clears when back", () => {
        for (const host of ["app-0", "shard-0-primary", "memcached-0", "munin"]) {
            const stopped = [null, null, null, ...Array(20).fill(0), ...Array(15).fill(null), ...Array(10).fill(0)];
            const s = simulate(dev, host, stopped, stopped);
            const stopMinute = 23;
            const alarmed = s.composite.transitions.find((t) => t.to === "ALARM")!;
            expect(alarmed.minute - stopMinute, host).toBeGreaterThanOrEqual(3);
            expect(alarmed.minute - stopMinute, host).toBeLessThanOrEqual(6);
            expect(s.pages, host).toEqual([`${alarmed.minute} not-reporting ALARM topic`]);
            // The status checks themselves only go quiet: INSUFFICIENT_DATA, no action, no recovery.
            expect(s.system.states[alarmed.minute]).toBe("INSUFFICIENT_DATA");
            expect(s.latch.states.slice(4).every((st) => st !== "INSUFFICIENT_DATA"), host).toBe(true);
            expect(s.composite.states.at(-1), host).toBe("OK");
        }
    });

    test("recovery: only a failed system check that EC2 reported sends EC2 to recover a data host", () => {
        const failed = [...timeline(4, 20), 1, 1, 1, 0, 0, 0, 0, 0];
        const reported = simulate(dev, "shard-0-primary", failed, timeline(4, 28));
        expect(reported.pages).toEqual(["25 system ALARM topic", "25 system ALARM recover"]);
        // The same on an app host: a page, no recovery (stateless; replace it).
        expect(simulate(dev, "app-0", failed, timeline(4, 28)).pages).toEqual(["25 system ALARM topic"]);
        // A data host whose checks never start (it has not booted): neither page nor recovery (the composite's
        // first evaluation says OK, which resolves nothing).
        expect(simulate(dev, "shard-0-primary", timeline(40, 0), timeline(40, 0)).sent).toEqual(["0 not-reporting OK topic"]);
    });

    test("the external check: a new check pages nobody before its first datapoint; a site that fails it pages", () => {
        const a = settings(alarm(dev, "site-external-check")!);
        expect(evaluateOver(a, [null, null, 1, 1, 1, 1]).transitions).toEqual([{ minute: 2, from: "INSUFFICIENT_DATA", to: "OK" }]);
        expect(evaluateOver(a, [null, null, 1, 1, 0, 0, 0]).transitions.at(-1)).toEqual({ minute: 5, from: "OK", to: "ALARM" });
    });

    test("a replaced host (a rollout) pages nobody: its latch is new, while the old host's alarms are updated in place", () => {
        // The status-check alarms keep their names and their OK; the new instance reports after a few minutes.
        const replaced = simulate(dev, "app-0", timeline(8, 30), timeline(8, 30), { instance: "OK" });
        expect(replaced.instance.states.slice(0, 8)).toContain("INSUFFICIENT_DATA");
        expect(replaced.pages).toEqual([]);
    });
});
