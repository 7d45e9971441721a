/**
 * The stack in a region of 2011's kind (us-east-1) and in one opened after August 2022 (eu-south-2, opt-in):
 * the load balancer's log bucket admits ELB's log delivery service principal in both (no per-region ELB
 * account, which eu-south-2 does not have), and CloudFront's standard logs go where CloudFront delivers them.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { ProgramRun } from "../../tools/offline/runtime";
import { previewProgram } from "../../tools/offline/preview";
import { plannedFromRun } from "../../tools/offline/acceptance";
import { checkPlan } from "../../policies/rules/acceptance/check";
import { refusalLine } from "../../policies/rules/acceptance/types";
import { runStack } from "../harness/run";
import { checkAll } from "../harness/policy";
import { policies } from "../../policies/rules";
import { policyOf, T } from "../harness/queries";
import { ACCOUNT_ID } from "../../tools/offline/example-mocks";
import { CLOUDFRONT_LEGACY_LOGGING_DOC, ELB_LOG_DELIVERY_SERVICE } from "../../core/log-delivery";

const REGIONS = ["us-east-1", "eu-south-2"] as const;
const runs = new Map<string, ProgramRun>();
beforeAll(async () => {
    for (const region of REGIONS) runs.set(region, await runStack("dev", { "aws:region": region }));
});
const at = (region: string) => runs.get(region)!;
const forBucket = (run: ProgramRun, type: string, bucketId: string) => run.ofType(type).find((r) => r.inputs.bucket === bucketId)!;
const SERVICE_ACCOUNT_CALL = "aws:elb/getServiceAccount:getServiceAccount";

describe.each(REGIONS)("the load balancer's access logs in %s", (region) => {
    test("the log bucket admits ELB's log delivery service principal, under the load balancer's prefix and account only", () => {
        const run = at(region);
        expect(run.region).toBe(region);
        const logs = run.named(T.bucket, "edge-logs");
        const allows = policyOf(forBucket(run, T.bucketPolicy, logs.state.id)).Statement.filter((s) => s.Effect === "Allow");
        expect(allows).toEqual([{
            Sid: "AlbAccessLogDelivery",
            Effect: "Allow",
            Principal: { Service: ELB_LOG_DELIVERY_SERVICE },
            Action: "s3:PutObject",
            Resource: `${logs.state.arn}/alb/AWSLogs/${ACCOUNT_ID}/*`,
        }]);
        expect(ELB_LOG_DELIVERY_SERVICE).toBe("logdelivery.elasticloadbalancing.amazonaws.com");
        expect(run.named(T.loadBalancer, "edge").inputs.accessLogs).toEqual({ bucket: logs.state.bucket, prefix: "alb", enabled: true });
    });

    test("the provider's table of ELB accounts is never asked (it has no entry for eu-south-2)", () => {
        expect(at(region).calls.map((c) => c.token)).not.toContain(SERVICE_ACCOUNT_CALL);
    });
});

describe("CloudFront's standard logs", () => {
    test("us-east-1: in the media log bucket of the stack's region, which keeps the ACLs CloudFront delivers through", () => {
        const run = at("us-east-1");
        const logs = run.named(T.bucket, "media-logs");
        expect(run.named(T.distribution, "media").inputs.loggingConfig).toEqual({ bucket: logs.state.bucketDomainName, prefix: "cloudfront/", includeCookies: false });
        expect(forBucket(run, T.ownership, logs.state.id).inputs.rule.objectOwnership).toBe("BucketOwnerPreferred");
        expect(run.ofType(T.bucket).map((b) => b.name)).not.toContain("media-cdn-logs");
        expect(run.outputs.cloudfrontLogs).toBe("CloudFront standard logs go to the media log bucket in us-east-1 (prefix cloudfront/)");
    });

    test("eu-south-2 (opt-in): in a bucket of their own in us-east-1, with ACLs, and the output says why", () => {
        const run = at("eu-south-2");
        const cdnLogs = run.named(T.bucket, "media-cdn-logs");
        expect(cdnLogs.provider).toContain("pulumi:providers:aws::us-east-1");
        expect(cdnLogs.state.region).toBe("us-east-1");
        expect(run.named(T.bucket, "media-logs").state.region).toBe("eu-south-2");
        expect(run.named(T.distribution, "media").inputs.loggingConfig).toEqual({ bucket: cdnLogs.state.bucketDomainName, prefix: "cloudfront/", includeCookies: false });
        // Every companion of that bucket is managed in us-east-1 too, and it is as private as any other bucket.
        for (const type of [T.ownership, T.publicAccessBlock, T.encryption, T.versioning, T.bucketPolicy]) {
            expect(forBucket(run, type, cdnLogs.state.id).provider, type).toContain("pulumi:providers:aws::us-east-1");
        }
        expect(forBucket(run, T.ownership, cdnLogs.state.id).inputs.rule.objectOwnership).toBe("BucketOwnerPreferred");
        expect(forBucket(run, T.publicAccessBlock, cdnLogs.state.id).inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
        expect(policyOf(forBucket(run, T.bucketPolicy, cdnLogs.state.id)).Statement.map((s) => s.Sid)).toEqual(["DenyInsecureTransport"]);
        // The regional log bucket keeps the S3 access logs and no longer needs ACLs.
        const logs = run.named(T.bucket, "media-logs");
        expect(logs.provider).toContain("pulumi:providers:aws::aws::");
        expect(forBucket(run, T.ownership, logs.state.id).inputs.rule.objectOwnership).toBe("BucketOwnerEnforced");
        expect(run.ofType("aws:s3/bucketLogging:BucketLogging").every((l) => l.inputs.targetBucket === logs.state.id)).toBe(true);
        expect(run.outputs.cloudfrontLogs).toBe(
            "CloudFront standard logs go to a log bucket of their own in us-east-1 (prefix cloudfront/), not to eu-south-2: "
            + `CloudFront's standard logging (legacy) does not deliver to S3 buckets in opt-in regions (${CLOUDFRONT_LEGACY_LOGGING_DOC})`,
        );
    });
});

describe.each(REGIONS)("the policy pack in %s", (region) => {
    test("no mandatory violation (CloudFront logs somewhere, every bucket that is no log destination logs)", async () => {
        const violations = await checkAll(policies as never, at(region), { "alb-deletion-protection": { required: false }, "shard-raid-volume-count": { volumesPerShard: 2 } });
        expect(violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`)).toEqual([]);
    });
});

describe.each(REGIONS)("the offline plan (npm run plan) of dev in %s", (region) => {
    test("plans without asking for an ELB account, AWS would refuse none of its inputs, and it says where CloudFront's logs go", async () => {
        const run = await previewProgram("dev", { "aws:region": region });
        expect(run.calls.map((c) => c.token)).not.toContain(SERVICE_ACCOUNT_CALL);
        const ledger = await checkPlan(plannedFromRun(run));
        expect(ledger.refusals.map(refusalLine)).toEqual([]);
        expect(run.outputs.cloudfrontLogs).toContain(region === "eu-south-2" ? "in us-east-1 (prefix cloudfront/), not to eu-south-2" : "media log bucket in us-east-1");
    }, 60_000);
});
