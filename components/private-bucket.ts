/**
 * An S3 bucket that cannot be made public by accident: all four public-access-block flags, owner-enforced
 * (or, for log buckets that need ACL delivery, owner-preferred) ownership, SSE, versioning, and a policy
 * that refuses plain-HTTP requests. Callers add their own policy statements.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export interface PrivateBucketArgs {
    /** What the bucket holds, in its Purpose tag. */
    readonly purpose: string;
    /** "BucketOwnerPreferred" only for buckets that receive logs through ACLs (CloudFront standard logs). */
    readonly objectOwnership?: "BucketOwnerEnforced" | "BucketOwnerPreferred";
    /** Expire objects (and old versions) after this many days: for log buckets. */
    readonly expireAfterDays?: number;
    /**
     * Keep a deleted or overwritten object's old version this many days, then let S3 delete it: for buckets
     * whose writer expires its own files (the backup repository), so a mistaken delete can be undone.
     */
    readonly deletedVersionDays?: number;
    /** Statements added to the bucket policy, given the bucket's ARN. */
    readonly policyStatements?: (bucketArn: pulumi.Output<string>) => pulumi.Input<unknown>[];
    /**
     * The caller attaches the policy itself with attachPolicy(), once, when a statement needs a resource
     * that itself needs this bucket (a CloudFront distribution reading it).
     */
    readonly policyAttachedLater?: boolean;
    /** Send this bucket's server access logs there. */
    readonly accessLogs?: { bucket: pulumi.Input<string>; prefix: string };
    /** Let `pulumi destroy` delete the bucket with its objects (throwaway stacks only). */
    readonly forceDestroy?: boolean;
}

/** An S3 bucket that is private in every way the policy pack checks: public access blocked, SSE, versioning, TLS only. */
export class PrivateBucket extends pulumi.ComponentResource {
    readonly bucket: aws.s3.Bucket;
    /** Ownership, public access block and (once attached) the policy: depend on them before anything writes here. */
    readonly ready: pulumi.Resource[] = [];
    private readonly publicAccess: aws.s3.BucketPublicAccessBlock;
    private policy?: aws.s3.BucketPolicy;
    private readonly baseName: string;

    constructor(name: string, args: PrivateBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:storage:PrivateBucket", name, {}, opts);
        this.baseName = name;
        const parent = { parent: this };
        this.bucket = new aws.s3.Bucket(name, { forceDestroy: args.forceDestroy ?? false, tags: { Purpose: args.purpose } }, parent);
        const bucket = this.bucket.id;

        const ownership = new aws.s3.BucketOwnershipControls(name, {
            bucket,
            rule: { objectOwnership: args.objectOwnership ?? "BucketOwnerEnforced" },
        }, parent);
        const publicAccess = (this.publicAccess = new aws.s3.BucketPublicAccessBlock(name, {
            bucket,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        }, parent));
        new aws.s3.BucketServerSideEncryptionConfiguration(name, {
            bucket,
            // SSE-S3: the only encryption ALB access logs and CloudFront logs can be delivered into.
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
        }, parent);
        new aws.s3.BucketVersioning(name, { bucket, versioningConfiguration: { status: "Enabled" } }, parent);
        if (args.expireAfterDays !== undefined && args.deletedVersionDays !== undefined) {
            throw new Error(`bucket ${name}: expireAfterDays and deletedVersionDays are two lifecycles; give one`);
        }
        if (args.deletedVersionDays !== undefined) {
            new aws.s3.BucketLifecycleConfiguration(name, {
                bucket,
                rules: [{
                    id: "expire-deleted-versions",
                    status: "Enabled",
                    filter: {},
                    noncurrentVersionExpiration: { noncurrentDays: args.deletedVersionDays },
                    expiration: { expiredObjectDeleteMarker: true },
                    abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                }],
            }, parent);
        }
        if (args.expireAfterDays !== undefined) {
            new aws.s3.BucketLifecycleConfiguration(name, {
                bucket,
                rules: [{
                    id: "expire-logs",
                    status: "Enabled",
                    filter: {},
                    expiration: { days: args.expireAfterDays },
                    noncurrentVersionExpiration: { noncurrentDays: 7 },
                    abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                }],
            }, parent);
        }
        if (args.accessLogs) {
            new aws.s3.BucketLogging(name, { bucket, targetBucket: args.accessLogs.bucket, targetPrefix: args.accessLogs.prefix }, parent);
        }
        this.ready.push(publicAccess, ownership);
        if (!args.policyAttachedLater) this.attachPolicy(args.policyStatements?.(this.bucket.arn) ?? []);
        this.registerOutputs({ bucket: this.bucket.bucket, arn: this.bucket.arn });
    }

    /** The bucket policy: always refuse plain HTTP, then the given statements. */
    attachPolicy(statements: pulumi.Input<unknown>[]): aws.s3.BucketPolicy {
        if (this.policy) throw new Error(`the policy of bucket ${this.baseName} is already attached`);
        const arn = this.bucket.arn;
        this.policy = new aws.s3.BucketPolicy(this.baseName, {
            bucket: this.bucket.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "DenyInsecureTransport",
                        Effect: "Deny",
                        Principal: "*",
                        Action: "s3:*",
                        Resource: [arn, pulumi.interpolate`${arn}/*`],
                        Condition: { Bool: { "aws:SecureTransport": "false" } },
                    },
                    ...statements,
                ],
            }),
        }, { parent: this, dependsOn: [this.publicAccess] });
        this.ready.push(this.policy);
        return this.policy;
    }
}
