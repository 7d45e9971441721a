/**
 * The IAM half of the AWS acceptance check: each policy-bearing input against IAM's grammar, its size limit
 * and the IAM catalogue, and each role's policies together against the per-role quotas. As the resource rules
 * are tested: a compliant baseline per resource type passes, and each one-property change is refused with
 * exactly the path and rule expected. Then the program's own documents, for both stacks, are refused nothing.
 */
import { describe, expect, test } from "vitest";
import { iamDocumentRules, iamStackRules } from "../../policies/rules/acceptance/iam-documents";
import { Ledger, PlannedResource, UNKNOWN_SENTINEL } from "../../policies/rules/acceptance/types";
import { plannedFromRun } from "../../tools/offline/acceptance";
import { runMocked } from "../harness/program";

const PARAMETER = "arn:aws:ssm:us-east-1:123456789012:parameter/instagram/dev/redis-auth";
const PARAMETER_FORMAT = "arn:${Partition}:ssm:${Region}:${Account}:parameter/${ParameterNameWithoutLeadingSlash}";
const TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts";
const doc = (...statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

/** The tier policy of a host role, as the program writes it: every statement names its resources. */
const TIER_STATEMENTS = [
    { Sid: "ReadOwnSecrets", Effect: "Allow", Action: ["ssm:GetParameter", "ssm:GetParameters"], Resource: [PARAMETER] },
    { Sid: "PhotosReadWrite", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: "arn:aws:s3:::media/*" },
    { Sid: "BackupList", Effect: "Allow", Action: "s3:ListBucket", Resource: "arn:aws:s3:::backups", Condition: { StringLike: { "s3:prefix": ["redis/*"] } } },
    { Sid: "PublishHostMetrics", Effect: "Allow", Action: "cloudwatch:PutMetricData", Resource: "*", Condition: { StringEquals: { "cloudwatch:namespace": "Instagram/dev" } } },
];
const EC2_TRUST = doc({ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" });

const BASELINES: Record<string, Record<string, unknown>> = {
    "aws:iam/rolePolicy:RolePolicy": { role: "app-host", policy: doc(...TIER_STATEMENTS) },
    "aws:iam/role:Role": { assumeRolePolicy: EC2_TRUST, inlinePolicies: [{ name: "tier", policy: doc(TIER_STATEMENTS[0]) }] },
    "aws:iam/policy:Policy": { policy: doc(...TIER_STATEMENTS) },
    "aws:s3/bucketPolicy:BucketPolicy": {
        bucket: "media",
        policy: doc(
            { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: ["arn:aws:s3:::media", "arn:aws:s3:::media/*"], Condition: { Bool: { "aws:SecureTransport": "false" } } },
            // Resource policies are not held to IAM's alphanumeric Sid.
            { Sid: "cloudfront-reads", Effect: "Allow", Principal: { Service: "cloudfront.amazonaws.com" }, Action: "s3:GetObject", Resource: "arn:aws:s3:::media/*", Condition: { StringEquals: { "AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1" } } },
        ),
    },
    "aws:sns/topicPolicy:TopicPolicy": {
        arn: TOPIC_ARN,
        policy: doc({ Sid: "CloudWatchAlarms", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish", Resource: TOPIC_ARN, Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } } }),
    },
    "aws:kms/key:Key": {
        policy: doc(
            { Sid: "AccountAdministers", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "kms:*", Resource: "*" },
            { Sid: "CloudWatchPublishes", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["kms:Decrypt", "kms:GenerateDataKey*"], Resource: "*" },
        ),
    },
};

async function check(type: string, inputs: Record<string, unknown>) {
    const ledger = new Ledger();
    for (const rule of iamDocumentRules[type]) await rule({ type, name: "subject", inputs }, ledger);
    return { ledger, refused: ledger.refusals.map((r) => ({ path: r.path, rule: r.rule })) };
}

type Patch = (inputs: Record<string, any>) => void;
/** Replaces statement `i` of the document in `input` (a shallow merge; undefined removes an element). */
const statement = (i: number, change: Record<string, unknown>, input = "policy"): Patch => (inputs) => {
    const d = JSON.parse(inputs[input]);
    d.Statement[i] = JSON.parse(JSON.stringify({ ...d.Statement[i], ...change }));
    inputs[input] = JSON.stringify(d);
};
const documentWith = (change: Record<string, unknown>, input = "policy"): Patch => (inputs) => {
    inputs[input] = JSON.stringify({ ...JSON.parse(inputs[input]), ...change });
};
/** A document of `n` statements reading one SSM parameter each (about 150 characters apiece). */
const manyStatements = (n: number) => Array.from({ length: n }, (_, i) => ({ Sid: `Read${i}`, Effect: "Allow", Action: "ssm:GetParameter", Resource: `${PARAMETER}-${i}` }));
const nonWhitespace = (s: string) => s.replace(/\s/g, "").length;
const fmt = (n: number) => n.toLocaleString("en-US");

const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const ROLE = "aws:iam/role:Role";
const MANAGED = "aws:iam/policy:Policy";
const BUCKET = "aws:s3/bucketPolicy:BucketPolicy";
const TOPIC = "aws:sns/topicPolicy:TopicPolicy";
const KEY = "aws:kms/key:Key";

/** [type, what changes, the change, the refusals expected as [path, rule]]. */
const FAILURES: [string, string, Patch, [string, string][]][] = [
    [ROLE_POLICY, "not JSON", (p) => (p.policy = "{ Version: 2012-10-17 }"), [["policy", "must be a JSON policy document (an object)"]]],
    [ROLE_POLICY, "an unknown version", documentWith({ Version: "2012-10-18" }), [["policy.Version", `must be "2012-10-17" or "2008-10-17"`]]],
    [ROLE_POLICY, "no statement", documentWith({ Statement: [] }), [["policy.Statement", "must be a statement or a non-empty list of statements"]]],
    [ROLE_POLICY, "a misspelt document element", documentWith({ Statment: [] }), [["policy.Statment", "must be one of the document elements Version, Id and Statement"]]],
    [ROLE_POLICY, "effect in lower case", statement(0, { Effect: "allow" }), [["policy.Statement[0].Effect", `must be "Allow" or "Deny"`]]],
    [ROLE_POLICY, "a Sid with a hyphen", statement(0, { Sid: "Read-Secrets" }), [["policy.Statement[0].Sid", "must contain only ASCII letters and digits in an IAM policy"]]],
    [ROLE_POLICY, "a repeated Sid", statement(1, { Sid: "ReadOwnSecrets" }), [["policy.Statement", "must give each statement a different Sid"]]],
    [ROLE_POLICY, "both Action and NotAction", statement(0, { NotAction: "ssm:PutParameter" }), [["policy.Statement[0]", "must have exactly one of Action and NotAction"]]],
    [ROLE_POLICY, "no Resource", statement(0, { Resource: undefined }), [["policy.Statement[0]", "must have exactly one of Resource and NotResource"]]],
    [ROLE_POLICY, "a principal in an identity policy", statement(0, { Principal: "*" }), [["policy.Statement[0]", "must not have Principal or NotPrincipal in an identity policy"]]],
    [ROLE_POLICY, "a misspelt statement element", statement(0, { Resources: [PARAMETER], Resource: undefined }), [
        ["policy.Statement[0].Resources", "must be one of the statement elements Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition"],
        ["policy.Statement[0]", "must have exactly one of Resource and NotResource"],
    ]],
    [ROLE_POLICY, "an unknown action", statement(1, { Action: ["s3:GetObjekt", "s3:PutObject"] }), [["policy.Statement[1].Action[0]", "must be an action of service s3 in the IAM catalogue"]]],
    [ROLE_POLICY, "an unknown service", statement(1, { Action: "s3x:GetObject" }), [["policy.Statement[1].Action", `must name a service of the IAM catalogue (no service prefix "s3x")`]]],
    [ROLE_POLICY, "a wildcard that matches nothing", statement(1, { Action: "s3:Frobnicate*" }), [["policy.Statement[1].Action", "must match at least one action of service s3 in the IAM catalogue"]]],
    [ROLE_POLICY, "an action without a service", statement(1, { Action: "GetObject" }), [["policy.Statement[1].Action", `must be "*" or service:action`]]],
    [ROLE_POLICY, "an unknown action in NotAction", statement(0, { Action: undefined, NotAction: "ssm:GetParametr" }), [["policy.Statement[0].NotAction", "must be an action of service ssm in the IAM catalogue"]]],
    [ROLE_POLICY, "SSM's GetParameter on an S3 ARN", statement(0, { Action: "ssm:GetParameter", Resource: "arn:aws:s3:::media/*" }), [
        ["policy.Statement[0].Resource", `must match an ARN format that ssm:GetParameter accepts (${PARAMETER_FORMAT})`],
    ]],
    [ROLE_POLICY, "ListBucket on the bucket's objects", statement(2, { Resource: "arn:aws:s3:::backups/*" }), [
        ["policy.Statement[2].Resource", "must match an ARN format that s3:ListBucket accepts (arn:${Partition}:s3:${Region}:${Account}:accesspoint/${AccessPointName}, arn:${Partition}:s3:::${BucketName})"],
    ]],
    [ROLE_POLICY, "an action that takes only * on an ARN", statement(0, { Action: "ec2:DescribeInstances", Resource: "arn:aws:ec2:us-east-1:123456789012:instance/i-1" }), [
        ["policy.Statement[0].Resource", `must be "*": ec2:DescribeInstances takes no resource-level permissions`],
    ]],
    [ROLE_POLICY, "a resource that is not an ARN", statement(0, { Resource: ["instagram/dev/redis-auth"] }), [["policy.Statement[0].Resource[0]", `must be "*" or an ARN (arn:partition:service:region:account:resource)`]]],
    [ROLE_POLICY, "an unknown condition key", statement(2, { Condition: { StringLike: { "s3:prefixx": "redis/*" } } }), [
        [`policy.Statement[2].Condition.StringLike["s3:prefixx"]`, "must be a global condition key or a condition key of its service in the IAM catalogue"],
    ]],
    [ROLE_POLICY, "an unknown global key", statement(2, { Condition: { StringLike: { "aws:SourceIpAddress": "10.0.0.1" } } }), [
        [`policy.Statement[2].Condition.StringLike["aws:SourceIpAddress"]`, "must be a global condition key or a condition key of its service in the IAM catalogue"],
    ]],
    [ROLE_POLICY, "a tag key left out", statement(2, { Condition: { StringEquals: { "aws:ResourceTag/": "x" } } }), [
        [`policy.Statement[2].Condition.StringEquals["aws:ResourceTag/"]`, "must be a global condition key or a condition key of its service in the IAM catalogue"],
    ]],
    [ROLE_POLICY, "a misspelt operator", statement(2, { Condition: { StringLikes: { "s3:prefix": "redis/*" } } }), [
        ["policy.Statement[2].Condition.StringLikes", "must be an IAM condition operator (optionally ...IfExists, ForAllValues: or ForAnyValue:)"],
    ]],
    [ROLE_POLICY, "Null with IfExists", statement(2, { Condition: { NullIfExists: { "s3:prefix": "true" } } }), [
        ["policy.Statement[2].Condition.NullIfExists", "must be an IAM condition operator (optionally ...IfExists, ForAllValues: or ForAnyValue:)"],
    ]],
    [ROLE_POLICY, "a character IAM does not take", statement(0, { Sid: undefined, Effect: "Allow", Condition: { StringEquals: { "aws:username": "Ω" } } }), [
        ["policy", "must contain only tab, line feed, carriage return and U+0020 to U+00FF"],
    ]],
    [ROLE, "a resource in the trust policy", statement(0, { Resource: "*" }, "assumeRolePolicy"), [["assumeRolePolicy.Statement[0]", "must not have Resource or NotResource in a role's trust policy"]]],
    [ROLE, "no principal to trust", statement(0, { Principal: undefined }, "assumeRolePolicy"), [["assumeRolePolicy.Statement[0]", "must have exactly one of Principal and NotPrincipal"]]],
    [ROLE, "an unknown principal type", statement(0, { Principal: { Services: "ec2.amazonaws.com" } }, "assumeRolePolicy"), [
        ["assumeRolePolicy.Statement[0].Principal", `must be "*" or an object keyed by AWS, Service, Federated, CanonicalUser`],
    ]],
    [ROLE, "an unknown STS action", statement(0, { Action: "sts:AssumeRoles" }, "assumeRolePolicy"), [["assumeRolePolicy.Statement[0].Action", "must be an action of service sts in the IAM catalogue"]]],
    [ROLE, "an inline policy given on the role", (p) => (p.inlinePolicies = [{ name: "tier", policy: doc({ Effect: "Allow", Action: "ssm:GetParameterz", Resource: PARAMETER }) }]), [
        ["inlinePolicies[0].policy.Statement[0].Action", "must be an action of service ssm in the IAM catalogue"],
    ]],
    [BUCKET, "no principal in a bucket policy", statement(1, { Principal: undefined }), [["policy.Statement[1]", "must have exactly one of Principal and NotPrincipal"]]],
    [BUCKET, "a bucket's objects named as the wrong service", statement(1, { Resource: "arn:aws:s4:::media/*" }), [
        ["policy.Statement[1].Resource", "must match an ARN format that s3:GetObject accepts (arn:${Partition}:s3:${Region}:${Account}:accesspoint/${AccessPointName}/object/${ObjectName}, arn:${Partition}:s3:::${BucketName}/${ObjectName})"],
    ]],
    [TOPIC, "publish on a queue's ARN", statement(0, { Resource: "arn:aws:sqs:us-east-1:123456789012:alerts" }), [
        ["policy.Statement[0].Resource", "must match an ARN format that sns:Publish accepts (arn:${Partition}:sns:${Region}:${Account}:${TopicName})"],
    ]],
    [KEY, "a KMS action that does not exist", statement(1, { Action: ["kms:Decrypt", "kms:GenerateDataKeyz*"] }), [["policy.Statement[1].Action[1]", "must match at least one action of service kms in the IAM catalogue"]]],
];

/** Documents one over their limit, with the refusal each gets (the sizes are computed, the rules exact). */
function oversized(): [string, string, Patch, [string, string][]][] {
    const managed = doc(...manyStatements(45));
    const trust = doc(...Array.from({ length: 20 }, (_, i) => ({ Sid: `Ec2${i}`, Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" })));
    const bytesOf = (s: string) => Buffer.byteLength(s);
    const resourcePolicy = (n: number, resource: string, action: string) =>
        doc(...Array.from({ length: n }, (_, i) => ({ Sid: `S${i}`, Effect: "Allow", Principal: { AWS: `arn:aws:iam::${String(100000000000 + i)}:root` }, Action: action, Resource: resource })));
    const bucket = resourcePolicy(150, "arn:aws:s3:::media/*", "s3:GetObject");
    const topic = resourcePolicy(200, TOPIC_ARN, "sns:Publish");
    const key = resourcePolicy(300, "*", "kms:Decrypt");
    return [
        [MANAGED, "a managed policy over 6,144 characters", (p) => (p.policy = managed), [["policy", `must be at most 6,144 characters without whitespace for a managed policy (it has ${fmt(nonWhitespace(managed))})`]]],
        [ROLE, "a trust policy over 2,048 characters", (p) => (p.assumeRolePolicy = trust), [["assumeRolePolicy", `must be at most 2,048 characters without whitespace for a role's trust policy (IAM's default quota) (it has ${fmt(nonWhitespace(trust))})`]]],
        [BUCKET, "a bucket policy over 20 KB", (p) => (p.policy = bucket), [["policy", `must be at most 20,480 bytes for a bucket policy (20 KB) (it has ${fmt(bytesOf(bucket))})`]]],
        [TOPIC, "a topic policy over 30 KB", (p) => (p.policy = topic), [["policy", `must be at most 30,720 bytes for an SNS topic policy (30 KB) (it has ${fmt(bytesOf(topic))})`]]],
        [KEY, "a key policy over 32 KB", (p) => (p.policy = key), [["policy", `must be at most 32,768 bytes for a KMS key policy (32 KB) (it has ${fmt(bytesOf(key))})`]]],
    ];
}

describe("IAM documents", () => {
    test.each(Object.keys(BASELINES))("the %s baseline passes", async (type) => {
        const { ledger, refused } = await check(type, structuredClone(BASELINES[type]));
        expect(refused).toEqual([]);
        expect(ledger.counts.get("iam-catalogue")).toBeGreaterThan(0);
    });

    test.each([...FAILURES, ...oversized()])("%s: %s", async (type, _what, patch, expected) => {
        const inputs = structuredClone(BASELINES[type]);
        patch(inputs);
        expect((await check(type, inputs)).refused).toEqual(expected.map(([path, rule]) => ({ path, rule })));
    });

    test("every resource type with rules has a baseline and a refused variant", () => {
        const refusedTypes = new Set([...FAILURES, ...oversized()].map(([type]) => type));
        expect(Object.keys(iamDocumentRules).sort()).toEqual(Object.keys(BASELINES).sort());
        expect([...refusedTypes].sort()).toEqual(Object.keys(BASELINES).sort());
    });

    test("the limits count what their owners count: IAM skips white space, S3 counts bytes as sent", async () => {
        const pretty = (statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements }, null, 8);
        const managed = pretty(manyStatements(38));
        expect(managed.length).toBeGreaterThan(6_144);
        expect((await check(MANAGED, { policy: managed })).refused).toEqual([]);
    });

    test("forms IAM takes pass: wildcards, IfExists and set operators, tag keys, a trust policy for EC2, a document given as an object", async () => {
        const passing = [
            { Effect: "Allow", Action: ["s3:Get*", "s3:List*"], Resource: ["arn:aws:s3:::media", "arn:aws:s3:::media/*"] },
            { Effect: "Allow", Action: "ssm:GetParameter*", Resource: "arn:aws:ssm:*:*:parameter/instagram/*" },
            { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::media/${aws:username}/*" },
            { Effect: "Deny", NotAction: "s3:GetObject", NotResource: "arn:aws:s3:::media/*" },
            { Effect: "Allow", Action: "ec2:DescribeInstances", Resource: "*", Condition: { StringEqualsIfExists: { "aws:ResourceTag/Team": "feeds" }, "ForAnyValue:StringLike": { "aws:TagKeys": ["Team"] } } },
            { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::media/*", Condition: { StringEquals: { "s3:ExistingObjectTag/owner": "app", "AWS:SourceVpc": "vpc-1" } } },
            { Effect: "Allow", Action: "kms:Decrypt", Resource: "*", Condition: { StringEquals: { "kms:EncryptionContext:aws:sns:topicArn": TOPIC_ARN } } },
        ];
        expect((await check(ROLE_POLICY, { role: "app-host", policy: doc(...passing) })).refused).toEqual([]);
        expect((await check(ROLE, { assumeRolePolicy: EC2_TRUST })).refused).toEqual([]);
        expect((await check(ROLE_POLICY, { role: "app-host", policy: JSON.parse(doc(...TIER_STATEMENTS)) })).refused).toEqual([]);
    });

    test("what the plan does not know yet is skipped, and only that", async () => {
        const unknown = await check(ROLE_POLICY, { role: UNKNOWN_SENTINEL, policy: UNKNOWN_SENTINEL });
        expect(unknown.ledger.total).toBe(0);
        const secret = await check(ROLE_POLICY, { role: "app-host", policy: "[secret]" });
        expect(secret.ledger.total).toBe(0);
        // An ARN with an unknown part: the known parts still have to fit.
        const partly = (action: string, resource: string) => check(ROLE_POLICY, { role: "app-host", policy: doc({ Effect: "Allow", Action: action, Resource: resource }) });
        expect((await partly("s3:GetObject", `arn:aws:s3:::${UNKNOWN_SENTINEL}/*`)).refused).toEqual([]);
        expect((await partly("ssm:GetParameter", `arn:aws:s3:::${UNKNOWN_SENTINEL}`)).refused.map((r) => r.path)).toEqual(["policy.Statement[0].Resource"]);
    });
});

/** A role's inline policies and attachments as the plan lists them. */
const rolePolicy = (name: string, role: string, policy: string): PlannedResource => ({ type: ROLE_POLICY, name, urn: `urn:pulumi:dev::instagram::${ROLE_POLICY}::${name}`, inputs: { role, policy } });
const attachment = (name: string, role: string, policyArn: string): PlannedResource => ({
    type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name, urn: `urn:pulumi:dev::instagram::aws:iam/rolePolicyAttachment:RolePolicyAttachment::${name}`, inputs: { role, policyArn },
});

function checkStack(resources: PlannedResource[]) {
    const ledger = new Ledger();
    for (const rule of iamStackRules) rule(resources, ledger);
    return { ledger, refused: ledger.refusals.map((r) => ({ resource: r.resource, path: r.path, rule: r.rule })) };
}

describe("per-role limits", () => {
    // 40 statements: about 6,000 characters, so one fits a role and two do not.
    const big = doc(...manyStatements(40));
    const size = nonWhitespace(big);

    test("inline policies of one role total at most 10,240 characters without white space", () => {
        expect(size).toBeLessThan(10_240);
        expect(size * 2).toBeGreaterThan(10_240);
        const { ledger, refused } = checkStack([rolePolicy("app-a", "app-host", big), rolePolicy("worker", "worker-host", big), rolePolicy("app-b", "APP-HOST", big)]);
        expect(refused).toEqual([{
            resource: `urn:pulumi:dev::instagram::${ROLE_POLICY}::app-b`,
            path: "policy",
            rule: `must keep the inline policies of role app-host within 10,240 characters without whitespace together (2 policies total ${fmt(size * 2)})`,
        }]);
        expect(ledger.counts.get("documentation")).toBe(2);
    });

    test("a role's inline policy given on the role counts with its RolePolicy resources", () => {
        const role: PlannedResource = { type: ROLE, name: "app-host", inputs: { name: "app-host", assumeRolePolicy: EC2_TRUST, inlinePolicies: [{ name: "tier", policy: big }] } };
        expect(checkStack([role, rolePolicy("app", "arn:aws:iam::123456789012:role/app-host", big)]).refused.map((r) => r.path)).toEqual(["policy"]);
    });

    test("an inline policy whose role is unknown is held alone to the limit", () => {
        const huge = doc(...manyStatements(70));
        const { refused } = checkStack([rolePolicy("a", UNKNOWN_SENTINEL, big), rolePolicy("b", UNKNOWN_SENTINEL, big), rolePolicy("c", UNKNOWN_SENTINEL, huge)]);
        expect(refused).toEqual([{
            resource: `urn:pulumi:dev::instagram::${ROLE_POLICY}::c`,
            path: "policy",
            rule: `must be at most 10,240 characters without whitespace, what all inline policies of one role may total (its role is unknown until apply; it has ${fmt(nonWhitespace(huge))})`,
        }]);
    });

    test("at most 10 managed policies per role; the same policy twice is one", () => {
        const arns = Array.from({ length: 11 }, (_, i) => `arn:aws:iam::aws:policy/Managed${i}`);
        const ten = arns.slice(0, 10).map((arn, i) => attachment(`a${i}`, "app-host", arn));
        expect(checkStack([...ten, attachment("again", "app-host", arns[0]), attachment("other", "worker-host", arns[10])]).refused).toEqual([]);
        expect(checkStack([...ten, attachment("eleventh", "app-host", arns[10])]).refused).toEqual([{
            resource: "urn:pulumi:dev::instagram::aws:iam/rolePolicyAttachment:RolePolicyAttachment::eleventh",
            path: "role",
            rule: "must leave role app-host with at most 10 managed policies attached (IAM's default quota; it would have 11)",
        }]);
    });
});

describe("the program's own documents", () => {
    test.each(["dev", "instagram-2011"])("stack %s: every IAM document is accepted", async (stack) => {
        const planned = plannedFromRun(await runMocked(stack));
        const ledger = new Ledger();
        for (const r of planned) for (const rule of iamDocumentRules[r.type] ?? []) await rule(r, ledger);
        for (const rule of iamStackRules) await rule(planned, ledger);
        expect(ledger.refusals).toEqual([]);
        // Every kind of document the program writes was read: trust, inline, bucket, topic and key policies.
        const read = new Set(planned.filter((r) => iamDocumentRules[r.type]).map((r) => r.type));
        expect([...read].sort()).toEqual([BUCKET, ROLE, ROLE_POLICY, KEY, TOPIC].sort());
        expect(ledger.counts.get("iam-catalogue")).toBeGreaterThan(100);
    });
});
