/**
 * Photos: a private S3 bucket served only through CloudFront with Origin Access Control, at media.<domain>
 * over HTTPS (TLS 1.2+), with CloudFront and S3 access logs in a log bucket (CloudFront's in a bucket of their
 * own in us-east-1 when the stack's region is one CloudFront does not deliver standard logs to).
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { CLOUDFRONT_LOG_PREFIX, cloudfrontLogPlacement } from "../core/log-delivery";
import { HSTS_MAX_AGE_S, PHOTO_CSP } from "../core/tls-policy";
import { DnsValidatedCertificate } from "./certificate";
import { PrivateBucket } from "./private-bucket";

/** AWS's managed "CachingOptimized" cache policy. */
export const CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6";
export const CLOUDFRONT_MIN_TLS = "TLSv1.2_2021";

export interface MediaStoreArgs {
    /** The apex; photos are served from media.<domain>. */
    readonly domain: string;
    /** The domain's public hosted zone. */
    readonly zoneId: pulumi.Input<string>;
    /** The stack's region (the buckets'); it decides where CloudFront's standard logs can go (core/log-delivery.ts). */
    readonly region: string;
    /** A provider in us-east-1, where CloudFront looks for certificates (and its logs go when the stack's region cannot take them). */
    readonly usEast1: aws.Provider;
    /** Keep the buckets (and their photos) on destroy. */
    readonly deletionProtection: boolean;
}

/** Photos: a private S3 bucket read only by CloudFront (Origin Access Control) at media.<domain>. */
export class MediaStore extends pulumi.ComponentResource {
    /** The photo bucket (the app hosts write to it). */
    readonly bucket: aws.s3.Bucket;
    readonly distribution: aws.cloudfront.Distribution;
    /** media.<domain> */
    readonly mediaDomain: string;
    /** https://media.<domain> */
    readonly mediaUrl: pulumi.Output<string>;
    /** The bucket the media bucket's access logs go to (other private buckets may log here), and CloudFront's when it can. */
    readonly logsBucket: aws.s3.Bucket;
    /** Where CloudFront's standard logs go, and why there when it is not the stack's region. */
    readonly cloudfrontLogs: string;

    constructor(name: string, args: MediaStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:media:MediaStore", name, {}, opts);
        const { domain, zoneId, deletionProtection } = args;
        const parent = { parent: this };
        this.mediaDomain = `media.${domain}`;
        const caller = aws.getCallerIdentityOutput({}, parent);
        const cdnLogs = cloudfrontLogPlacement(args.region);
        this.cloudfrontLogs = cdnLogs.summary;

        const logs = new PrivateBucket(`${name}-logs`, {
            purpose: cdnLogs.inStackRegion ? "CloudFront and S3 access logs of the media store" : "S3 access logs of the media store",
            // CloudFront standard logs are delivered through an ACL grant, which owner-enforced buckets refuse;
            // without them (they go to us-east-1) the bucket needs no ACLs.
            objectOwnership: cdnLogs.inStackRegion ? "BucketOwnerPreferred" : "BucketOwnerEnforced",
            expireAfterDays: 90,
            forceDestroy: !deletionProtection,
            policyStatements: (arn) => [{
                Sid: "S3ServerAccessLogDelivery",
                Effect: "Allow",
                Principal: { Service: "logging.s3.amazonaws.com" },
                Action: "s3:PutObject",
                Resource: pulumi.interpolate`${arn}/s3/*`,
                Condition: { StringEquals: { "aws:SourceAccount": caller.accountId } },
            }],
        }, parent);
        this.logsBucket = logs.bucket;
        // Elsewhere CloudFront's logs go to CLOUDFRONT_LOG_FALLBACK_REGION, us-east-1: the usEast1 provider's.
        const cdnLogBucket = cdnLogs.inStackRegion ? logs : new PrivateBucket(`${name}-cdn-logs`, {
            purpose: `CloudFront standard logs of the media store in ${cdnLogs.region}: CloudFront does not deliver them to ${args.region}`,
            objectOwnership: "BucketOwnerPreferred",
            expireAfterDays: 90,
            forceDestroy: !deletionProtection,
        }, { parent: this, providers: { aws: args.usEast1 } });

        const media = new PrivateBucket(name, {
            purpose: "photos",
            forceDestroy: !deletionProtection,
            accessLogs: { bucket: logs.bucket.id, prefix: "s3/" },
            policyAttachedLater: true,
        }, parent);
        this.bucket = media.bucket;

        const oac = new aws.cloudfront.OriginAccessControl(name, {
            description: `Media bucket of ${pulumi.getStack()}`,
            originAccessControlOriginType: "s3",
            signingBehavior: "always",
            signingProtocol: "sigv4",
        }, parent);

        const certificate = new DnsValidatedCertificate(`${name}-cert`, { domainName: this.mediaDomain, zoneId, provider: args.usEast1 }, parent);

        // Photos are the users' bytes: never sniffed into another type, nothing run when one is opened directly.
        const headers = new aws.cloudfront.ResponseHeadersPolicy(name, {
            comment: `Photos of ${pulumi.getStack()}: nosniff, a sandbox CSP, HSTS`,
            securityHeadersConfig: {
                contentTypeOptions: { override: true },
                contentSecurityPolicy: { contentSecurityPolicy: PHOTO_CSP, override: true },
                strictTransportSecurity: { accessControlMaxAgeSec: HSTS_MAX_AGE_S, includeSubdomains: true, override: true },
            },
        }, parent);

        const originId = "media-s3";
        this.distribution = new aws.cloudfront.Distribution(name, {
            enabled: true,
            isIpv6Enabled: true,
            httpVersion: "http2and3",
            comment: `Photos of ${pulumi.getStack()}`,
            aliases: [this.mediaDomain],
            priceClass: "PriceClass_100",
            origins: [{ originId, domainName: this.bucket.bucketRegionalDomainName, originAccessControlId: oac.id }],
            defaultCacheBehavior: {
                targetOriginId: originId,
                viewerProtocolPolicy: "redirect-to-https",
                allowedMethods: ["GET", "HEAD"],
                cachedMethods: ["GET", "HEAD"],
                cachePolicyId: CACHING_OPTIMIZED_POLICY_ID,
                responseHeadersPolicyId: headers.id,
                compress: true,
            },
            restrictions: { geoRestriction: { restrictionType: "none" } },
            viewerCertificate: { acmCertificateArn: certificate.arn, sslSupportMethod: "sni-only", minimumProtocolVersion: CLOUDFRONT_MIN_TLS },
            loggingConfig: { bucket: cdnLogBucket.bucket.bucketDomainName, prefix: CLOUDFRONT_LOG_PREFIX, includeCookies: false },
            tags: { Name: this.mediaDomain },
        }, { parent: this, dependsOn: cdnLogBucket.ready });
        media.attachPolicy([{
            Sid: "CloudFrontReadsThroughOAC",
            Effect: "Allow",
            Principal: { Service: "cloudfront.amazonaws.com" },
            Action: "s3:GetObject",
            Resource: pulumi.interpolate`${this.bucket.arn}/*`,
            Condition: { StringEquals: { "AWS:SourceArn": this.distribution.arn } },
        }]);

        new aws.route53.Record(`${name}-alias`, {
            zoneId,
            name: this.mediaDomain,
            type: "A",
            aliases: [{ name: this.distribution.domainName, zoneId: this.distribution.hostedZoneId, evaluateTargetHealth: false }],
        }, parent);

        this.mediaUrl = pulumi.output(`https://${this.mediaDomain}`);
        this.registerOutputs({ bucket: this.bucket.bucket, mediaUrl: this.mediaUrl, cloudfrontLogs: this.cloudfrontLogs });
    }
}
