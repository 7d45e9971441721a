import { describe, expect, test } from "vitest";
import { isOptInRegion, OPT_IN_REGIONS } from "../../core/regions";
import { albAccessLogStatement, CLOUDFRONT_LEGACY_LOGGING_DOC, cloudfrontLogPlacement, ELB_LOG_DELIVERY_SERVICE } from "../../core/log-delivery";

/** The 17 regions every account has without enabling anything. */
const DEFAULT_REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
];
/** Opened after August 2022: no ELB account of their own for access logs. */
const SINCE_AUGUST_2022 = ["eu-south-2", "eu-central-2", "ap-south-2", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "me-central-1", "il-central-1", "ca-west-1", "mx-central-1", "ap-east-2", "ap-southeast-6"];

describe("opt-in regions", () => {
    test("every region opened after March 2019 is opt-in, none of the default ones", () => {
        expect(OPT_IN_REGIONS).toHaveLength(17);
        expect(new Set(OPT_IN_REGIONS).size).toBe(17);
        for (const r of [...SINCE_AUGUST_2022, "af-south-1", "ap-east-1", "eu-south-1", "me-south-1", "ap-southeast-3"]) expect(isOptInRegion(r), r).toBe(true);
        for (const r of DEFAULT_REGIONS) expect(isOptInRegion(r), r).toBe(false);
    });
});

describe("the load balancer's access-log statement", () => {
    test("ELB's log delivery service principal may put objects under <bucket>/<prefix>/AWSLogs/<account>/ only", () => {
        expect(albAccessLogStatement("arn:aws:s3:::edge-logs-1", "123456789012")).toEqual({
            Sid: "AlbAccessLogDelivery",
            Effect: "Allow",
            Principal: { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: "arn:aws:s3:::edge-logs-1/alb/AWSLogs/123456789012/*",
        });
        expect(albAccessLogStatement("arn:aws:s3:::b", "111122223333", "lb").Resource).toBe("arn:aws:s3:::b/lb/AWSLogs/111122223333/*");
        expect(ELB_LOG_DELIVERY_SERVICE).toBe("logdelivery.elasticloadbalancing.amazonaws.com");
    });
});

describe("where CloudFront's standard logs go", () => {
    test("a default region keeps them in the stack's own region", () => {
        for (const r of DEFAULT_REGIONS) {
            const p = cloudfrontLogPlacement(r);
            expect(p, r).toMatchObject({ region: r, inStackRegion: true });
            expect(p.summary).toBe(`CloudFront standard logs go to the media log bucket in ${r} (prefix cloudfront/)`);
        }
    });

    test("an opt-in region sends them to us-east-1, and the summary says why with AWS's page", () => {
        for (const r of OPT_IN_REGIONS) {
            const p = cloudfrontLogPlacement(r);
            expect(p, r).toMatchObject({ region: "us-east-1", inStackRegion: false });
            expect(p.summary).toContain(`not to ${r}: CloudFront's standard logging (legacy) does not deliver to S3 buckets in opt-in regions`);
            expect(p.summary).toContain(CLOUDFRONT_LEGACY_LOGGING_DOC);
        }
        expect(CLOUDFRONT_LEGACY_LOGGING_DOC).toMatch(/^https:\/\/docs\.aws\.amazon\.com\/AmazonCloudFront\/latest\/DeveloperGuide\/standard-logging-legacy-s3\.html#/);
    });
});
