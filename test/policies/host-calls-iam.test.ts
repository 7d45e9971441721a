/**
 * What each host tier's IAM role may and may not do, evaluated by a real IAM policy evaluator
 * (@cloud-copilot/iam-simulate, test/harness/iam-evaluate.ts) against the dev stack's rendered policies.
 *
 * Probes: calls on every secret, the shard directory, each bucket of the stack, the stack's metrics namespace
 * and some of another stack's, and a few that no host has any business making (passing or changing its own
 * role, deleting snapshots). Each tier is given a probe or not by the tables the program builds its statements
 * from (SECRET_READERS, METRICS_COLLECTORS) and by what components/stack.ts gives each tier of the buckets and
 * the directory (GIVEN below): what is given must be allowed by the tier's own (inline) policy, which also shows
 * the evaluator's refusals mean something; what is not must be denied by it, and also once the AWS-managed
 * policy attached to every host role by ARN (AmazonSSMManagedInstanceCore, its documented text in
 * test/fixtures/aws-managed-policies) is counted, since AWS evaluates both.
 *
 * The calls the tiers' scripts actually make are checked where those scripts run against the stand-ins:
 * test/scripts/{fetch-secrets,host-metrics,redis-dump,shard-postgres,shard-directory-sync}.test.ts,
 * test/delivery/s3-get.test.ts, test/api/media-store.test.ts and the boot suite (test/boot).
 */
import { beforeAll, describe, expect, test } from "vitest";
import { ProgramRun } from "../../tools/offline/runtime";
import { HOST_ROLES, HostRole } from "../../core/security-rules";
import { PROVIDED_SECRETS, SECRET_NAMES, SECRET_READERS, SecretName, secretParameterName } from "../../core/secrets";
import { shardDirectoryParameterName } from "../../core/shard-directory";
import { hostMetricsNamespace, METRICS_COLLECTORS } from "../../core/host-metrics";
import { ACCOUNT_ID } from "../../tools/offline/example-mocks";
import { AwsCall, bucketArn, describeCall, objectArn, parameterArn } from "../harness/aws-calls";
import { evaluateCall, hostRoleIdentity, renderedBucket, renderedStack } from "../harness/iam-evaluate";
import { runStack } from "../harness/run";

const STACK = "dev";
/** Another stack of this project (Pulumi.instagram-2011.yaml), as it would sit in the same account. */
const OTHER_STACK = "instagram-2011";

/** Whether a tier is given a probe: allowed, denied, or neither asserted (a credential dev does not set). */
type Expectation = "allowed" | "denied" | "unasserted";
interface Probe {
    readonly call: AwsCall;
    readonly expect: (role: HostRole) => Expectation;
}

/** What components/stack.ts gives each tier of the buckets and the shard directory (its tierStatements). */
const GIVEN = {
    photos: ["app"],
    shardDirectory: ["app", "worker"],
    releases: ["app", "worker"],
    hostTools: ["shard"],
    pgBackRestRepository: ["shard"],
    redisDumps: ["redis"],
} satisfies Record<string, HostRole[]>;

/** The identity a tier's hosts run with: each physical shard has its own; dev has shard 0 only. */
const identityOf = (role: HostRole): string => (role === "shard" ? "shard-0" : role);

const only = (roles: readonly HostRole[]) => (role: HostRole): Expectation => (roles.includes(role) ? "allowed" : "denied");
const nobody = (): Expectation => "denied";
const probe = (action: string, resource: string, expectation: Probe["expect"], context: Record<string, string> = {}): Probe => ({ call: { action, resource, context, request: "probe" }, expect: expectation });

let run: ProgramRun;
let probes: Probe[];

beforeAll(async () => {
    run = await renderedStack();
    const region = run.region;
    const param = (name: string) => parameterArn(region, name);
    const secret = (stack: string, s: SecretName) => param(secretParameterName(stack, s));
    const readers = (s: SecretName) => (role: HostRole): Expectation => (SECRET_READERS[s].includes(role) ? "allowed" : "denied");
    const [media, backups, artifacts, edgeLogs, mediaLogs] = ["media", "backups", "app-artifacts", "edge-logs", "media-logs"].map((b) => renderedBucket(run, b));
    const directory = param(shardDirectoryParameterName(STACK));
    const pgbackrest = objectArn(backups, "pgbackrest/shard-0/backup/shard-0/backup.info");
    const redisLatest = objectArn(backups, "redis/latest");
    const photo = objectArn(media, "photos/1/0123456789abcdef.jpg");
    probes = [
        // The stack's generated secrets: each tier reads exactly its own (core/secrets.ts SECRET_READERS).
        ...SECRET_NAMES.flatMap((s) => [probe("ssm:GetParameter", secret(STACK, s), readers(s)), probe("ssm:GetParameters", secret(STACK, s), readers(s))]),
        // The user's credentials: dev sets none, so no tier is granted them; a tier that is not a reader is refused.
        ...PROVIDED_SECRETS.map((s) => probe("ssm:GetParameter", secret(STACK, s), (role) => (SECRET_READERS[s].includes(role) ? "unasserted" : "denied"))),
        // No host writes a secret, not even its own.
        ...SECRET_NAMES.map((s) => probe("ssm:PutParameter", secret(STACK, s), nobody)),
        // Nothing of another stack, secret or directory.
        ...[...SECRET_NAMES, ...PROVIDED_SECRETS].map((s) => probe("ssm:GetParameter", secret(OTHER_STACK, s), nobody)),
        probe("ssm:GetParameter", param(shardDirectoryParameterName(OTHER_STACK)), nobody),
        probe("ssm:GetParametersByPath", param(`/instagram/${STACK}`), nobody),
        // The shard directory: read by the hosts that route by it, written by no host (only `npm run ops` and the program).
        probe("ssm:GetParameter", directory, only(GIVEN.shardDirectory)),
        probe("ssm:PutParameter", directory, nobody, { "ssm:Overwrite": "true" }),
        probe("ssm:DeleteParameter", directory, nobody),
        // Commands on other hosts are the operators' (npm run ops), not a host's. (The AWS-owned document's ARN has
        // no account, which the evaluator's ARN patterns do not take: the instance is the probe.)
        probe("ssm:SendCommand", `arn:aws:ec2:${region}:${ACCOUNT_ID}:instance/i-0123456789abcdef0`, nobody),

        // Host metrics: the tiers with collectors publish into the stack's namespace, and nobody into another.
        probe("cloudwatch:PutMetricData", "*", (role) => (METRICS_COLLECTORS[role] ? "allowed" : "denied"), { "cloudwatch:namespace": hostMetricsNamespace(STACK) }),
        probe("cloudwatch:PutMetricData", "*", nobody, { "cloudwatch:namespace": hostMetricsNamespace(OTHER_STACK) }),
        probe("cloudwatch:PutMetricData", "*", nobody, { "cloudwatch:namespace": "AWS/EC2" }),

        // Photos: the app hosts read, write and delete them (a user deleting a photo); job workers never touch them.
        ...["s3:GetObject", "s3:PutObject", "s3:DeleteObject"].map((a) => probe(a, photo, only(GIVEN.photos))),
        probe("s3:DeleteObjectVersion", photo, nobody),
        probe("s3:ListBucket", bucketArn(media), nobody, { "s3:prefix": "photos/" }),
        probe("s3:PutBucketPolicy", bucketArn(media), nobody),

        // The backup repository: pgBackRest on the shard hosts under pgbackrest/, Redis dumps under redis/ (no delete).
        ...["s3:GetObject", "s3:PutObject", "s3:DeleteObject"].map((a) => probe(a, pgbackrest, only(GIVEN.pgBackRestRepository))),
        probe("s3:ListBucket", bucketArn(backups), only(GIVEN.pgBackRestRepository), { "s3:prefix": "pgbackrest/shard-0/", "s3:delimiter": "/" }),
        ...["s3:GetObject", "s3:PutObject"].map((a) => probe(a, redisLatest, only(GIVEN.redisDumps))),
        probe("s3:DeleteObject", redisLatest, nobody),
        probe("s3:ListBucket", bucketArn(backups), nobody, { "s3:prefix": "redis/" }),
        probe("s3:ListBucket", bucketArn(backups), nobody, { "s3:prefix": "" }),
        probe("s3:ListBucket", bucketArn(backups), nobody),
        // A deleted backup stays recoverable as a version: no host removes versions or changes how the bucket keeps them.
        probe("s3:DeleteObjectVersion", pgbackrest, nobody),
        probe("s3:DeleteObjectVersion", redisLatest, nobody),
        ...["s3:PutBucketPolicy", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration", "s3:DeleteBucket"].map((a) => probe(a, bucketArn(backups), nobody)),

        // Artifacts: releases read by the hosts that run them, host tools by the shard hosts; written by no host.
        probe("s3:GetObject", objectArn(artifacts, "releases/0123abcd.tar.gz"), only(GIVEN.releases)),
        probe("s3:GetObject", objectArn(artifacts, "tools/0123abcd.tar.gz"), only(GIVEN.hostTools)),
        probe("s3:PutObject", objectArn(artifacts, "releases/0123abcd.tar.gz"), nobody),
        probe("s3:PutObject", objectArn(artifacts, "tools/0123abcd.tar.gz"), nobody),

        // Access logs (who read or deleted what) are no host's.
        ...[edgeLogs, mediaLogs].flatMap((b) => [probe("s3:GetObject", objectArn(b, "logs/x"), nobody), probe("s3:DeleteObject", objectArn(b, "logs/x"), nobody)]),
        probe("s3:ListAllMyBuckets", "*", nobody),

        // EC2 and snapshots belong to the program and DLM.
        probe("ec2:DeleteSnapshot", `arn:aws:ec2:${region}::snapshot/snap-0123456789abcdef0`, nobody),
        probe("ec2:TerminateInstances", `arn:aws:ec2:${region}:${ACCOUNT_ID}:instance/i-0123456789abcdef0`, nobody),
    ];
});

/** The role's own probes of one expectation. */
function probesOf(role: HostRole, expectation: Expectation): AwsCall[] {
    const own = hostRoleIdentity(run, identityOf(role));
    // Probes on the role itself: passing it to an instance, or changing what it may do.
    const self = [
        probe("iam:PassRole", own.roleArn, nobody, { "iam:PassedToService": "ec2.amazonaws.com" }),
        probe("iam:PutRolePolicy", own.roleArn, nobody),
        probe("iam:AttachRolePolicy", own.roleArn, nobody),
    ];
    return [...probes, ...self].filter((p) => p.expect(role) === expectation).map((p) => p.call);
}

/** The calls whose verdict is not `want`, each with the evaluator's reason. */
async function unexpected(role: HostRole, calls: AwsCall[], want: boolean, policies: "inline" | "attached"): Promise<string[]> {
    const identity = hostRoleIdentity(run, identityOf(role));
    const wrong: string[] = [];
    for (const call of calls) {
        const verdict = await evaluateCall(identity, call, policies);
        if (verdict.allowed !== want) wrong.push(`${describeCall(call)}: ${verdict.reason}`);
    }
    return wrong;
}

describe("the host roles as rendered", () => {
    test("every tier has its role, its inline policy (memcached's only fences the SSM agent's reads) and AmazonSSMManagedInstanceCore, nothing else", () => {
        for (const role of HOST_ROLES) {
            const identity = hostRoleIdentity(run, identityOf(role));
            expect(identity.inline.map((p) => p.name), role).toEqual([`${identityOf(role)}-host-tier`]);
            expect(identity.managed.map((p) => p.name), role).toEqual(["AmazonSSMManagedInstanceCore"]);
        }
    });
});

describe.each(HOST_ROLES)("%s hosts", (role) => {
    test("what the tier is given is allowed by its own policy", async () => {
        const given = probesOf(role, "allowed");
        expect(await unexpected(role, given, true, "inline")).toEqual([]);
    });

    test("what it is not given is denied by its own policy", async () => {
        const refused = probesOf(role, "denied");
        expect(refused.length).toBeGreaterThan(40);
        expect(await unexpected(role, refused, false, "inline")).toEqual([]);
    });

    test("what it is not given is still denied with the AWS-managed policy attached to every host role", async () => {
        expect(await unexpected(role, probesOf(role, "denied"), false, "attached")).toEqual([]);
    });
});

describe("each physical shard's hosts and the backup repository", () => {
    // Two physical shards: each one's role reaches its own stanza's prefix and not the other's, even with the
    // AWS-managed policy counted (a shard host that could delete another shard's backups could lose both).
    let two: ProgramRun;
    beforeAll(async () => {
        two = await runStack("dev", { "instagram:physicalShards": 2 });
    });

    test.each([0, 1])("shard %i may list, read, write and delete its own backups, and none of the other shard's", async (shard) => {
        const backups = renderedBucket(two, "backups");
        const other = 1 - shard;
        const onPrefix = (s: number) => [
            ...["s3:GetObject", "s3:PutObject", "s3:DeleteObject"].map((a) => probe(a, objectArn(backups, `pgbackrest/shard-${s}/backup/shard-${s}/backup.info`), nobody).call),
            probe("s3:ListBucket", bucketArn(backups), nobody, { "s3:prefix": `pgbackrest/shard-${s}/`, "s3:delimiter": "/" }).call,
        ];
        const identity = hostRoleIdentity(two, `shard-${shard}`);
        for (const call of onPrefix(shard)) expect((await evaluateCall(identity, call, "inline")).allowed, describeCall(call)).toBe(true);
        const parent = probe("s3:ListBucket", bucketArn(backups), nobody, { "s3:prefix": "pgbackrest/" }).call;
        for (const call of [...onPrefix(other), parent]) {
            for (const policies of ["inline", "attached"] as const) expect((await evaluateCall(identity, call, policies)).allowed, `${describeCall(call)} (${policies})`).toBe(false);
        }
    });
});
