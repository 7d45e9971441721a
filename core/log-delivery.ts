/**
 * Where AWS services may deliver the stack's logs, by region: the load balancer's access logs (the bucket
 * policy's principal) and CloudFront's standard logs (which bucket region CloudFront delivers to). Pure: the
 * Edge and MediaStore components wire what these return.
 */
import { isOptInRegion } from "./regions";

/**
 * The principal Elastic Load Balancing writes access logs as, in every region.
 *
 * ELB's guide gives one bucket policy: `s3:PutObject` for the service principal
 * logdelivery.elasticloadbalancing.amazonaws.com on `<bucket>/<prefix>/AWSLogs/<account>/*`
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html#attach-bucket-policy;
 * the same text in the connection-log and Classic Load Balancer pages). The per-region ELB account IDs (the
 * provider's `aws.elb.getServiceAccount`) are a legacy policy: "Previously, for Regions available before August
 * 2022, we required a policy that granted permissions to an Elastic Load Balancing account that was specific to
 * the Region. This legacy policy is still supported, but we recommend that you replace it with the newer policy
 * above", and "Regions that are not in this list do not support the legacy policy". That list: us-east-1,
 * us-east-2, us-west-1, us-west-2, af-south-1, ap-east-1, ap-southeast-3, ap-south-1, ap-northeast-3,
 * ap-northeast-2, ap-southeast-1, ap-southeast-2, ap-northeast-1, ca-central-1, eu-central-1, eu-west-1,
 * eu-west-2, eu-south-1, eu-west-3, eu-north-1, me-south-1, sa-east-1 (and both GovCloud regions). Regions
 * opened since (eu-south-2, eu-central-2, ap-south-2, ap-southeast-4/5/6/7, me-central-1, il-central-1,
 * ca-west-1, mx-central-1, ap-east-2, ...) have no ELB account, and the data source fails there. So the stack
 * uses the service principal everywhere and needs no table and no lookup.
 */
export const ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com";

/** The prefix the load balancer's access logs go under in their bucket. */
export const ALB_LOG_PREFIX = "alb";

/** The log bucket's policy statement that lets the load balancers of account `accountId` write access logs under `prefix`. */
export function albAccessLogStatement(bucketArn: string, accountId: string, prefix: string = ALB_LOG_PREFIX) {
    return {
        Sid: "AlbAccessLogDelivery",
        Effect: "Allow",
        Principal: { Service: ELB_LOG_DELIVERY_SERVICE },
        Action: "s3:PutObject",
        Resource: `${bucketArn}/${prefix}/AWSLogs/${accountId}/*`,
    };
}

/**
 * CloudFront's standard logging (legacy, the distribution's `loggingConfig`) does not deliver to buckets in
 * opt-in regions: "Legacy logging does not support Amazon S3 buckets in opt-in regions. Please choose a region
 * that is enabled by default or use Standard Logging V2" (CloudFront Developer Guide, "Configure standard
 * logging (legacy)", Choose an Amazon S3 bucket for standard logs). An earlier version of the page named the
 * regions, the opt-in regions of its day: af-south-1, ap-east-1, eu-south-1, me-south-1. The opt-in regions
 * are core/regions.ts OPT_IN_REGIONS.
 */
export const CLOUDFRONT_LEGACY_LOGGING_DOC = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html#access-logs-choosing-s3-bucket";

/** Where CloudFront's standard logs go when the stack's region cannot take them: enabled by default, and CloudFront's own home (its certificates live there too). */
export const CLOUDFRONT_LOG_FALLBACK_REGION = "us-east-1";

/** The prefix CloudFront's standard logs go under in their bucket. */
export const CLOUDFRONT_LOG_PREFIX = "cloudfront/";

export interface CloudFrontLogPlacement {
    /** The region of the bucket CloudFront delivers standard logs to. */
    readonly region: string;
    /** Whether that is the stack's own region (the media log bucket) or the fallback (a bucket of its own). */
    readonly inStackRegion: boolean;
    /** What the stack outputs about it, with the reason when the logs leave the stack's region. */
    readonly summary: string;
}

/** The bucket region for CloudFront's standard logs of a stack in `stackRegion`. */
export function cloudfrontLogPlacement(stackRegion: string): CloudFrontLogPlacement {
    if (!isOptInRegion(stackRegion)) {
        return { region: stackRegion, inStackRegion: true, summary: `CloudFront standard logs go to the media log bucket in ${stackRegion} (prefix ${CLOUDFRONT_LOG_PREFIX})` };
    }
    return {
        region: CLOUDFRONT_LOG_FALLBACK_REGION,
        inStackRegion: false,
        summary: `CloudFront standard logs go to a log bucket of their own in ${CLOUDFRONT_LOG_FALLBACK_REGION} (prefix ${CLOUDFRONT_LOG_PREFIX}), `
            + `not to ${stackRegion}: CloudFront's standard logging (legacy) does not deliver to S3 buckets in opt-in regions (${CLOUDFRONT_LEGACY_LOGGING_DOC})`,
    };
}
