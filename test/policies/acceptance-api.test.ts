/**
 * The API-model half of the AWS acceptance check: every mapping names real members of AWS's models, the
 * vendored models are botocore's (checked against Debian's independent copy), and for each kind of constraint
 * a compliant baseline passes while a one-property change is refused with the rule and source expected.
 */
import { describe, expect, test } from "vitest";
import * as fs from "fs";
import { API_MAPPINGS } from "../../policies/rules/acceptance/api-mappings";
import { checkAgainstApiModels, Coverage } from "../../policies/rules/acceptance/api-model";
import { patternRegExp, serviceModel } from "../../policies/rules/acceptance/models";
import { Ledger, PlannedResource, UNKNOWN_SENTINEL } from "../../policies/rules/acceptance/types";
import { DEBIAN_BOTOCORE, trimAll } from "../../tools/aws-models/trim";

function refusals(type: string, inputs: Record<string, unknown>) {
    const ledger = new Ledger();
    checkAgainstApiModels({ type, name: "subject", inputs }, ledger);
    return { ledger, refused: ledger.refusals.map((r) => ({ path: r.path, rule: r.rule, ref: r.source.ref })) };
}

describe("the mappings and the models", () => {
    test("every mapped member path names a member of its operation's request", () => {
        const broken: string[] = [];
        for (const [type, mappings] of Object.entries(API_MAPPINGS)) {
            for (const m of mappings) {
                const model = serviceModel(m.service);
                expect(model.operations[m.operation], `${type}: ${m.service} ${m.operation}`).toBeDefined();
                for (const [prop, member] of Object.entries(m.properties)) {
                    if (member === "") continue;
                    const probe = new Ledger();
                    const cov = new Coverage();
                    // A leaf value at that path: its member must resolve (else the coverage says "has no member").
                    const inputs = prop.split(".").reduceRight<unknown>((v, seg) => (seg.endsWith("[]") ? { [seg.slice(0, -2)]: [v] } : { [seg]: v }), UNKNOWN_SENTINEL) as Record<string, unknown>;
                    checkAgainstApiModels({ type, name: "probe", inputs }, probe, cov);
                    for (const line of cov.unchecked.get(type) ?? []) if (line.includes("has no member")) broken.push(`${type} ${prop}: ${line}`);
                }
            }
        }
        expect(broken).toEqual([]);
    });

    test("every pattern of the vendored models compiles as JavaScript", () => {
        const uncompiled = Object.values(API_MAPPINGS).flat().flatMap((m) => Object.entries(serviceModel(m.service).shapes).filter(([, s]) => s.pattern && !patternRegExp(s.pattern)).map(([n]) => `${m.service} ${n}`));
        expect(uncompiled).toEqual([]);
    });

    test("the vendored models agree with Debian's botocore 1.29, but for the changes AWS made since", () => {
        expect(fs.existsSync(DEBIAN_BOTOCORE), "python3-botocore is installed (.ci/run installs it)").toBe(true);
        // Every difference in a constraint both copies hold, as read on 2026-12-07: tags may now be empty in SSM,
        // some patterns lost their anchors or widened. Anything else means the vendored files were edited by hand.
        const known = new Set([
            "acm DomainNameString.pattern", "acm TagKey.pattern", "acm TagValue.pattern", "cloudfront FunctionARN.pattern",
            "cloudfront TagKey.pattern", "cloudfront TagValue.pattern", "iam pathType.pattern", "iam roleDescriptionType.pattern", "ssm TagValue.min",
        ]);
        const differences: string[] = [];
        const droppedEnumValues: string[] = [];
        for (const old of trimAll(DEBIAN_BOTOCORE)) {
            const current = serviceModel(old.service);
            // The operations the mappings name exist in the independent copy too.
            expect(Object.keys(current.operations)).toEqual(Object.keys(old.operations));
            for (const [name, shape] of Object.entries(old.shapes)) {
                const now = current.shapes[name];
                if (!now) continue;
                for (const k of ["min", "max", "pattern"] as const) if (shape[k] !== undefined && shape[k] !== now[k] && !known.has(`${old.service} ${name}.${k}`)) differences.push(`${old.service} ${name}.${k}: ${shape[k]} -> ${now[k]}`);
                for (const value of shape.enum ?? []) if (!now.enum?.includes(value)) droppedEnumValues.push(`${old.service} ${name}: ${value}`);
            }
        }
        expect(differences).toEqual([]);
        expect(droppedEnumValues).toEqual([]);
    });
});

const INSTANCE = {
    ami: "ami-0abc",
    instanceType: "c7i.2xlarge",
    subnetId: "subnet-1",
    vpcSecurityGroupIds: ["sg-1"],
    metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
    rootBlockDevice: { volumeType: "gp3", volumeSize: 30, encrypted: true },
    tags: { Name: "app-0", Role: "app" },
};

const ALARM = {
    name: "instagram-dev-app-0-status",
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    evaluationPeriods: 2,
    metricName: "StatusCheckFailed",
    namespace: "AWS/EC2",
    period: 60,
    statistic: "Maximum",
    threshold: 1,
    treatMissingData: "notBreaching",
    dimensions: { InstanceId: "i-0abc" },
    alarmActions: ["arn:aws:sns:us-east-1:123456789012:alerts"],
};

describe("constraints from the models", () => {
    test("compliant baselines pass, and every input is counted", () => {
        for (const [type, inputs] of [["aws:ec2/instance:Instance", INSTANCE], ["aws:cloudwatch/metricAlarm:MetricAlarm", ALARM]] as const) {
            const { ledger, refused } = refusals(type, inputs);
            expect(refused).toEqual([]);
            expect(ledger.counts.get("api-model")).toBeGreaterThan(5);
        }
    });

    test("an enum: an instance type EC2 does not sell, an IMDS setting that does not exist", () => {
        expect(refusals("aws:ec2/instance:Instance", { ...INSTANCE, instanceType: "c7i.3xlarge" }).refused).toEqual([
            { path: "instanceType", rule: "must be one of the 1405 values of InstanceType", ref: expect.stringMatching(/^ec2 RunInstances InstanceType: shape InstanceType, botocore 1\.43\.67$/) },
        ]);
        expect(refusals("aws:ec2/instance:Instance", { ...INSTANCE, metadataOptions: { ...INSTANCE.metadataOptions, httpTokens: "require" } }).refused).toEqual([
            { path: "metadataOptions.httpTokens", rule: "must be one of optional, required", ref: expect.stringContaining("MetadataOptions.HttpTokens") },
        ]);
        expect(refusals("aws:ec2/instance:Instance", { ...INSTANCE, rootBlockDevice: { ...INSTANCE.rootBlockDevice, volumeType: "gp4" } }).refused[0]).toMatchObject({ path: "rootBlockDevice.volumeType", ref: expect.stringContaining("BlockDeviceMappings[].Ebs.VolumeType") });
    });

    test("a length: an alarm name over 255 characters; a tag key over 128 on an IAM role", () => {
        expect(refusals("aws:cloudwatch/metricAlarm:MetricAlarm", { ...ALARM, name: "a".repeat(256) }).refused).toEqual([
            { path: "name", rule: "must be at most 255 characters (is 256)", ref: expect.stringContaining("PutMetricAlarm AlarmName") },
        ]);
        const role = { assumeRolePolicy: '{"Version":"2012-10-17","Statement":[]}', tags: { ["k".repeat(129)]: "v" } };
        expect(refusals("aws:iam/role:Role", role).refused).toEqual([
            { path: `tags.${"k".repeat(129)}(key)`, rule: "must be at most 128 characters (is 129)", ref: expect.stringContaining("iam CreateRole Tags[].Key") },
        ]);
    });

    test("a range: zero evaluation periods", () => {
        expect(refusals("aws:cloudwatch/metricAlarm:MetricAlarm", { ...ALARM, evaluationPeriods: 0 }).refused).toEqual([
            { path: "evaluationPeriods", rule: "must be at least 1", ref: expect.stringContaining("PutMetricAlarm EvaluationPeriods") },
        ]);
    });

    test("a pattern: a DLM policy description with an apostrophe", () => {
        const policy = { description: "Daily snapshots", executionRoleArn: "arn:aws:iam::123456789012:role/dlm", state: "ENABLED", policyDetails: { resourceTypes: ["INSTANCE"], targetTags: { Set: "a" }, schedules: [{ name: "daily", createRule: { interval: 24, intervalUnit: "HOURS", times: "03:00" }, retainRule: { count: 7 } }] } };
        expect(refusals("aws:dlm/lifecyclePolicy:LifecyclePolicy", policy).refused).toEqual([]);
        expect(refusals("aws:dlm/lifecyclePolicy:LifecyclePolicy", { ...policy, description: "The shards' snapshots" }).refused).toEqual([
            { path: "description", rule: "must match [0-9A-Za-z _-]+", ref: expect.stringContaining("dlm CreateLifecyclePolicy Description") },
        ]);
    });

    test("a required member: a volume attachment without its device name", () => {
        const attachment = { instanceId: "i-0abc", volumeId: "vol-0abc", deviceName: "/dev/sdf" };
        expect(refusals("aws:ec2/volumeAttachment:VolumeAttachment", attachment).refused).toEqual([]);
        const { deviceName: _omitted, ...withoutDevice } = attachment;
        expect(refusals("aws:ec2/volumeAttachment:VolumeAttachment", withoutDevice).refused).toEqual([
            { path: "(AttachVolume) Device", rule: "is required by AttachVolume", ref: expect.stringContaining("ec2 AttachVolume Device") },
        ]);
    });

    test("a list's size: more than 10 SSM document tags is fine, more than 1000 is not", () => {
        const doc = { content: "{}", documentType: "Command", name: "freeze" };
        const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));
        expect(refusals("aws:ssm/document:Document", { ...doc, tags: tags(10) }).refused).toEqual([]);
        expect(refusals("aws:ssm/document:Document", { ...doc, tags: tags(1001) }).refused).toEqual([
            { path: "tags", rule: "must have at most 1000 entries (has 1001)", ref: expect.stringContaining("ssm CreateDocument Tags") },
        ]);
    });

    test("what is unknown until apply is not checked, and what no member takes is listed as unchecked", () => {
        const coverage = new Coverage();
        const ledger = new Ledger();
        const resource: PlannedResource = { type: "aws:ec2/instance:Instance", name: "x", inputs: { ...INSTANCE, instanceType: UNKNOWN_SENTINEL, userDataReplaceOnChange: true } };
        checkAgainstApiModels(resource, ledger, coverage);
        expect(ledger.refusals).toEqual([]);
        expect([...coverage.unchecked.get("aws:ec2/instance:Instance")!]).toEqual(["userDataReplaceOnChange (the provider's own setting, or checked by a documentation rule)"]);
    });
});
