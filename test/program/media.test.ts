import { beforeAll, describe, expect, test } from "vitest";
import { ProgramRun } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { policyOf, T } from "../harness/queries";
import { CLOUDFRONT_ZONE_ID } from "../../tools/offline/example-mocks";

let run: ProgramRun;
beforeAll(async () => {
    run = await runStack("dev");
});

const forBucket = (type: string, bucketId: string) => run.ofType(type).find((r) => r.inputs.bucket === bucketId)!;

describe("media store", () => {
    test("every bucket blocks public access four ways, encrypts, versions and refuses plain HTTP", () => {
        const buckets = run.ofType(T.bucket);
        expect(buckets.map((b) => b.name).sort()).toEqual(["app-artifacts", "backups", "edge-logs", "media", "media-logs"]);
        for (const b of buckets) {
            const id = b.state.id;
            expect(forBucket(T.publicAccessBlock, id).inputs, b.name).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
            expect(forBucket(T.encryption, id).inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, b.name).toBe("AES256");
            expect(forBucket(T.versioning, id).inputs.versioningConfiguration.status, b.name).toBe("Enabled");
            const statements = policyOf(forBucket(T.bucketPolicy, id)).Statement;
            expect(statements[0]).toMatchObject({ Sid: "DenyInsecureTransport", Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
            // "*" appears only as the principal of that Deny.
            expect(statements.filter((s) => s.Effect === "Allow" && JSON.stringify(s.Principal).includes("*"))).toEqual([]);
        }
        expect(forBucket(T.ownership, run.named(T.bucket, "media").state.id).inputs.rule.objectOwnership).toBe("BucketOwnerEnforced");
    });

    test("only the distribution may read photos, through Origin Access Control", () => {
        const media = run.named(T.bucket, "media");
        const distribution = run.named(T.distribution, "media");
        const statements = policyOf(forBucket(T.bucketPolicy, media.state.id)).Statement.filter((s) => s.Effect === "Allow");
        expect(statements).toEqual([{
            Sid: "CloudFrontReadsThroughOAC",
            Effect: "Allow",
            Principal: { Service: "cloudfront.amazonaws.com" },
            Action: "s3:GetObject",
            Resource: `${media.state.arn}/*`,
            Condition: { StringEquals: { "AWS:SourceArn": distribution.state.arn } },
        }]);
        const oac = run.named(T.oac, "media");
        expect(oac.inputs).toMatchObject({ originAccessControlOriginType: "s3", signingBehavior: "always", signingProtocol: "sigv4" });
        expect(distribution.inputs.origins).toEqual([expect.objectContaining({ domainName: media.state.bucketRegionalDomainName, originAccessControlId: oac.state.id })]);
    });

    test("CloudFront serves media.<domain> over HTTPS only with TLS 1.2+, and logs", () => {
        const d = run.named(T.distribution, "media").inputs;
        expect(d.aliases).toEqual(["media.dev.example.com"]);
        expect(d.defaultCacheBehavior.viewerProtocolPolicy).toBe("redirect-to-https");
        expect(d.defaultCacheBehavior.allowedMethods).toEqual(["GET", "HEAD"]);
        expect(d.viewerCertificate).toMatchObject({ sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" });
        expect(d.loggingConfig.bucket).toBe(run.named(T.bucket, "media-logs").state.bucketDomainName);
        const alias = run.named(T.record, "media-alias").inputs;
        expect(alias).toMatchObject({ name: "media.dev.example.com", type: "A" });
        expect(alias.aliases[0]).toMatchObject({ zoneId: CLOUDFRONT_ZONE_ID, name: run.named(T.distribution, "media").state.domainName });
    });

    test("every photo is served with nosniff, a sandbox CSP and HSTS (a response headers policy overriding the origin's)", () => {
        const policy = run.named("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "media");
        expect(run.named(T.distribution, "media").inputs.defaultCacheBehavior.responseHeadersPolicyId).toBe(policy.state.id);
        expect(policy.inputs.securityHeadersConfig).toEqual({
            contentTypeOptions: { override: true },
            contentSecurityPolicy: { contentSecurityPolicy: "default-src 'none'; sandbox", override: true },
            strictTransportSecurity: { accessControlMaxAgeSec: 31536000, includeSubdomains: true, override: true },
        });
    });

    test("the media certificate is issued in us-east-1 through a second provider, as CloudFront requires", () => {
        const provider = run.named(T.provider, "us-east-1");
        expect(provider.inputs.region).toBe("us-east-1");
        const cert = run.named(T.certificate, "media-cert");
        expect(cert.inputs.domainName).toBe("media.dev.example.com");
        expect(cert.provider).toContain("pulumi:providers:aws::us-east-1");
        expect(run.named(T.certificateValidation, "media-cert").provider).toContain("us-east-1");
        expect(run.named(T.certificate, "edge-cert").provider).toContain("pulumi:providers:aws::aws::");
        expect(run.named(T.distribution, "media").inputs.viewerCertificate.acmCertificateArn).toBe(run.named(T.certificateValidation, "media-cert").state.certificateArn);
    });

    test("the media, artifacts and backup buckets' access logs go to the log bucket, under the prefix its policy admits", () => {
        const logging = run.ofType("aws:s3/bucketLogging:BucketLogging");
        const logs = run.named(T.bucket, "media-logs").state.id;
        expect(logging.map((l) => l.inputs).sort((a, b) => a.targetPrefix.localeCompare(b.targetPrefix))).toEqual([
            expect.objectContaining({ bucket: run.named(T.bucket, "media").state.id, targetBucket: logs, targetPrefix: "s3/" }),
            expect.objectContaining({ bucket: run.named(T.bucket, "app-artifacts").state.id, targetBucket: logs, targetPrefix: "s3/artifacts/" }),
            expect.objectContaining({ bucket: run.named(T.bucket, "backups").state.id, targetBucket: logs, targetPrefix: "s3/backups/" }),
        ]);
    });
});
