/** Rules for CloudFront distributions. */
import * as aws from "@pulumi/aws";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { problem } from "./common";

const SECURE_VIEWER_POLICIES = ["redirect-to-https", "https-only"];
const TLS12_MINIMUMS = /^TLSv1\.2_\d{4}$|^TLSv1\.3/;

export const cloudfrontHttpsOnly: ResourceValidationPolicy = {
    name: "cloudfront-https-only",
    description: "Viewers reach CloudFront over HTTPS only (Checkov CKV_AWS_34; Trivy aws-cloudfront-enforce-https).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.cloudfront.Distribution, (d, args, report) => {
        const behaviors: [string, { viewerProtocolPolicy: string } | undefined][] = [
            ["defaultCacheBehavior", d.defaultCacheBehavior],
            ...(d.orderedCacheBehaviors ?? []).map((b, i): [string, { viewerProtocolPolicy: string }] => [`orderedCacheBehaviors[${i}]`, b]),
        ];
        for (const [where, b] of behaviors) {
            if (b && !SECURE_VIEWER_POLICIES.includes(b.viewerProtocolPolicy)) {
                report(problem(args.name, `${where}.viewerProtocolPolicy`, `is ${JSON.stringify(b.viewerProtocolPolicy)}`, 'use "redirect-to-https" or "https-only"'));
            }
        }
    }),
};

export const cloudfrontTls12: ResourceValidationPolicy = {
    name: "cloudfront-tls12",
    description: "CloudFront serves a custom certificate with TLS 1.2 minimum (Checkov CKV_AWS_174; Trivy aws-cloudfront-use-secure-tls-policy).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.cloudfront.Distribution, (d, args, report) => {
        const cert = d.viewerCertificate;
        if (cert?.cloudfrontDefaultCertificate || !TLS12_MINIMUMS.test(cert?.minimumProtocolVersion ?? "")) {
            report(problem(args.name, "viewerCertificate.minimumProtocolVersion", `is ${JSON.stringify(cert?.minimumProtocolVersion ?? (cert?.cloudfrontDefaultCertificate ? "the default certificate's TLSv1" : "unset"))}`, 'use an ACM certificate with "TLSv1.2_2021"'));
        }
    }),
};

export const cloudfrontOriginAccessControl: ResourceValidationPolicy = {
    name: "cloudfront-origin-access-control",
    description: "S3 origins are read through Origin Access Control, so the bucket stays private (Checkov CKV2_AWS_46).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.cloudfront.Distribution, (d, args, report) => {
        (d.origins ?? []).forEach((o, i) => {
            if (/\.s3[.-]([a-z0-9-]+\.)?amazonaws\.com$/.test(o.domainName ?? "") && !o.originAccessControlId) {
                report(problem(args.name, `origins[${i}].originAccessControlId`, "is not set for an S3 origin", "create an aws.cloudfront.OriginAccessControl and a bucket policy that admits only this distribution"));
            }
        });
    }),
};

export const cloudfrontLogging: ResourceValidationPolicy = {
    name: "cloudfront-access-logging",
    description: "CloudFront writes access logs (Checkov CKV_AWS_86; Trivy aws-cloudfront-enable-logging).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.cloudfront.Distribution, (d, args, report) => {
        if (!d.loggingConfig?.bucket) report(problem(args.name, "loggingConfig.bucket", "is not set", "log to a bucket with ACLs enabled (BucketOwnerPreferred)"));
    }),
};

export const cloudfrontPolicies = [cloudfrontHttpsOnly, cloudfrontTls12, cloudfrontOriginAccessControl, cloudfrontLogging];
