/**
 * Rules for S3 buckets. In @pulumi/aws v7 a bucket's public access block, encryption, versioning and
 * logging are separate resources, so most checks are stack rules that look for the bucket's companions.
 */
import * as aws from "@pulumi/aws";
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { problem, statementsOf } from "./common";
import { ofType, refersTo, TYPES } from "./graph";

const FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

function companions(resources: PolicyResource[], type: string, bucket: PolicyResource): PolicyResource[] {
    return ofType(resources, type).filter((r) => refersTo(r, "bucket", bucket));
}

/** A stack rule: for every bucket, `check` returns a problem or undefined. */
function perBucket(name: string, description: string, check: (bucket: PolicyResource, resources: PolicyResource[]) => string | undefined): StackValidationPolicy {
    return {
        name,
        description,
        enforcementLevel: "mandatory",
        validateStack: (args, report) => {
            for (const bucket of ofType(args.resources, TYPES.bucket)) {
                const why = check(bucket, args.resources);
                if (why) report(why, bucket.urn);
            }
        },
    };
}

export const s3PublicAccessBlock = perBucket(
    "s3-public-access-block",
    "Every bucket has a public access block with all four flags (Checkov CKV2_AWS_6, CKV_AWS_53-56; Trivy aws-s3-block-public-acls, -block-public-policy, -ignore-public-acls, -no-public-buckets).",
    (bucket, resources) => {
        const blocks = companions(resources, TYPES.publicAccessBlock, bucket);
        if (blocks.length === 0) return problem(bucket.name, "public access block", "is missing", "add an aws.s3.BucketPublicAccessBlock with all four flags true");
        const off = FLAGS.filter((f) => !blocks.some((b) => b.props[f] === true));
        return off.length ? problem(bucket.name, `public access block ${off.join(", ")}`, "is not true", "set all four flags") : undefined;
    },
);

export const s3Encryption = perBucket(
    "s3-encryption",
    "Every bucket encrypts at rest by default (Checkov CKV_AWS_19; Trivy aws-s3-enable-bucket-encryption).",
    (bucket, resources) => {
        const sse = companions(resources, TYPES.encryption, bucket);
        const ok = sse.some((s) => (s.props.rules ?? []).some((r: { applyServerSideEncryptionByDefault?: { sseAlgorithm?: string } }) => !!r.applyServerSideEncryptionByDefault?.sseAlgorithm));
        return ok ? undefined : problem(bucket.name, "server-side encryption", "is not configured", "add an aws.s3.BucketServerSideEncryptionConfiguration (AES256 or aws:kms)");
    },
);

export const s3Versioning = perBucket(
    "s3-versioning",
    "Every bucket keeps object versions (Checkov CKV_AWS_21; Trivy aws-s3-enable-versioning).",
    (bucket, resources) => {
        const ok = companions(resources, TYPES.versioning, bucket).some((v) => v.props.versioningConfiguration?.status === "Enabled");
        return ok ? undefined : problem(bucket.name, "versioning", "is not Enabled", 'add an aws.s3.BucketVersioning with status "Enabled"');
    },
);

/** Buckets that receive logs (S3 access logs, ALB logs, CloudFront logs) are not asked to log themselves. */
function isLogDestination(bucket: PolicyResource, resources: PolicyResource[]): boolean {
    if (ofType(resources, TYPES.logging).some((l) => refersTo(l, "targetBucket", bucket))) return true;
    for (const lb of ofType(resources, TYPES.loadBalancer)) {
        if ((lb.propertyDependencies?.accessLogs ?? []).some((d) => d.urn === bucket.urn) || (lb.props.accessLogs?.bucket && lb.props.accessLogs.bucket === bucket.props.bucket)) return true;
    }
    for (const d of ofType(resources, TYPES.distribution)) {
        if ((d.propertyDependencies?.loggingConfig ?? []).some((x) => x.urn === bucket.urn) || (d.props.loggingConfig?.bucket && d.props.loggingConfig.bucket === bucket.props.bucketDomainName)) return true;
    }
    return false;
}

export const s3AccessLogging = perBucket(
    "s3-access-logging",
    "Every bucket that is not itself a log destination writes server access logs (Checkov CKV_AWS_18; Trivy aws-s3-enable-bucket-logging). Unlike AWSGuard's rule, log buckets are recognised and not asked to log to themselves.",
    (bucket, resources) => {
        if (isLogDestination(bucket, resources)) return undefined;
        return companions(resources, TYPES.logging, bucket).length > 0 ? undefined : problem(bucket.name, "access logging", "is not configured", "add an aws.s3.BucketLogging to a log bucket");
    },
);

export const s3PublicAccessBlockFlags: ResourceValidationPolicy = {
    name: "s3-public-access-block-flags",
    description: "A public access block sets all four flags (Checkov CKV_AWS_53, CKV_AWS_54, CKV_AWS_55, CKV_AWS_56).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.s3.BucketPublicAccessBlock, (block, args, report) => {
        const off = FLAGS.filter((f) => block[f] !== true);
        if (off.length) report(problem(args.name, off.join(", "), "is not true", "set all four flags to true"));
    }),
};

function isWildcardPrincipal(principal: unknown): boolean {
    if (principal === "*") return true;
    if (principal && typeof principal === "object") {
        return Object.values(principal as Record<string, unknown>).some((v) => v === "*" || (Array.isArray(v) && v.includes("*")));
    }
    return false;
}

export const s3NoWildcardPrincipal: ResourceValidationPolicy = {
    name: "s3-no-wildcard-principal",
    description: 'Bucket policies allow nothing to Principal "*" (Checkov CKV_AWS_70); a Deny for "*" (such as refusing plain HTTP) is fine.',
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.s3.BucketPolicy, (policy, args, report) => {
        statementsOf(policy.policy).forEach((s, i) => {
            if (s.Effect === "Allow" && isWildcardPrincipal(s.Principal)) {
                report(problem(args.name, `policy Statement[${i}].Principal`, 'allows "*"', "name the principal (a service with an aws:SourceArn condition, or an account)"));
            }
        });
    }),
};

export const s3Policies = [s3PublicAccessBlock, s3Encryption, s3Versioning, s3AccessLogging, s3PublicAccessBlockFlags, s3NoWildcardPrincipal];
