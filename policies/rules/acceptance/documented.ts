/**
 * What AWS refuses but its API models do not say: constraints AWS states in prose on its documentation pages
 * (and, where noted, the provider's own validators), one rule per constraint family, keyed by Pulumi type token.
 * Each rule cites the page it comes from, in a comment and in Source.ref. The API models' enums, lengths,
 * patterns, ranges and required members are checked by the engine beside this file, not here.
 *
 * The key "*" holds the rules that apply to every AWS resource type (tags): `documentedRulesFor(type)` merges
 * them with the type's own. Values that are unknown at preview (isKnown false) are never checked.
 */
import { isKnown, Ledger, PlannedResource, ResourceRule, Source } from "./types";

const doc = (ref: string): Source => ({ family: "documentation", ref });

/** Every page a rule here cites. */
export const SOURCES = {
    createSecurityGroup: doc("https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html"),
    ipRange: doc("https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html"),
    ec2Tags: doc("https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions"),
    bucketNames: doc("https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"),
    bucketPrefix: doc("https://www.pulumi.com/registry/packages/aws/api-docs/s3/bucket/#bucketprefix_nodejs"),
    lbName: doc("https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html"),
    lbNamePrefix: doc("https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service/elbv2/validate.go"),
    lbSubnets: doc("https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html#API_CreateLoadBalancer_RequestParameters"),
    targetGroupName: doc("https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html"),
    targetGroupNamePrefix: doc("https://www.pulumi.com/registry/packages/aws/api-docs/lb/targetgroup/#nameprefix_nodejs"),
    targetGroupHealthChecks: doc("https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html"),
    targetGroupAttributes: doc("https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html"),
    snsTopicName: doc("https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html"),
    ssmParameterNames: doc("https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html"),
    ssmPutParameter: doc("https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html"),
    ssmDocumentName: doc("https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html"),
    userData: doc("https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html"),
    createVolume: doc("https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVolume.html"),
    gp3Ratios: doc("https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html#gp3-ebs-volume-type"),
    deviceNames: doc("https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/device_naming.html"),
    putMetricAlarm: doc("https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"),
    putCompositeAlarm: doc("https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html"),
    metricDataQuery: doc("https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html"),
    metricStatPeriod: doc("https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-cloudwatch-alarm-metricstat.html"),
    alarmEvaluation: doc("https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html"),
    alarmNames: doc("https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html"),
    healthCheckConfig: doc("https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html"),
    healthCheckValues: doc("https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html"),
    healthCheckProvider: doc("https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service/route53/health_check.go"),
    domainNameFormat: doc("https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html"),
    cloudfrontComment: doc("https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionConfig.html"),
    cloudfrontViewerCertificate: doc("https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ViewerCertificate.html"),
    oacName: doc("https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_OriginAccessControlConfig.html"),
    createVpc: doc("https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpc.html"),
    createSubnet: doc("https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html"),
} as const;

// ---------------------------------------------------------------------------------------------------------
// Small helpers: a checker bound to one resource and one source, and reading inputs safely.

type Check = (ok: boolean, path: string, value: unknown, rule: string) => boolean;
const checker = (r: PlannedResource, ledger: Ledger, source: Source): Check => (ok, path, value, rule) =>
    ledger.check(ok, r, path, value, rule, source);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => isKnown(v) && typeof v === "object" && !Array.isArray(v);
const knownString = (v: unknown): v is string => isKnown(v) && typeof v === "string";
const knownNumber = (v: unknown): v is number => isKnown(v) && typeof v === "number" && Number.isFinite(v);
const knownArray = (v: unknown): v is unknown[] => isKnown(v) && Array.isArray(v);
const list = (v: unknown): unknown[] => (knownArray(v) ? v : []);

/** Length in characters (code points), as AWS counts "characters". */
const chars = (s: string): number => [...s].length;
const bytes = (s: string): number => Buffer.byteLength(s, "utf8");

/** The distinct characters of `s` that `allowed` (a one-character test) refuses, quoted for a rule sentence. */
function offending(s: string, allowed: RegExp): string {
    const bad = [...new Set([...s].filter((c) => !allowed.test(c)))];
    return bad.map((c) => JSON.stringify(c)).join(", ");
}

/** Checks `value` against an allowed one-character class; the rule names the characters found outside it. */
function checkCharset(check: Check, path: string, value: string, allowed: RegExp, described: string): boolean {
    const bad = offending(value, allowed);
    return check(bad === "", path, value, bad === "" ? `must contain only ${described}` : `must contain only ${described} (found ${bad})`);
}

// ---------------------------------------------------------------------------------------------------------
// EC2 security groups: names, descriptions and rule descriptions.

/** CreateSecurityGroup GroupName/GroupDescription and IpRange.Description: "a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*". */
const SG_CHAR = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]$/;
const SG_CHARSET = "a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*";

/** A security group text (name or description): up to 255 characters of the EC2 set. */
function checkSgText(check: Check, path: string, value: unknown): void {
    if (!knownString(value)) return;
    check(chars(value) <= 255, path, value, "must be at most 255 characters");
    checkCharset(check, path, value, SG_CHAR, SG_CHARSET);
}

/**
 * GroupName and Description of a security group: up to 255 characters, a-z A-Z 0-9 spaces and ._-:/()#,@[]+=&;{}!$*;
 * a name cannot start with "sg-".
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
 */
const securityGroupText: ResourceRule = (r, ledger) => {
    const check = checker(r, ledger, SOURCES.createSecurityGroup);
    for (const key of ["name", "namePrefix"]) {
        const value = r.inputs[key];
        if (!knownString(value)) continue;
        checkSgText(check, key, value);
        check(!value.startsWith("sg-"), key, value, 'cannot start with "sg-"');
    }
    checkSgText(check, "description", r.inputs.description);
};

/**
 * The description of every rule of a group (inline ingress/egress, standalone rules): up to 255 characters of the
 * same set. https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html (and Ipv6Range,
 * UserIdGroupPair, PrefixListId, which state the same constraint).
 */
const inlineRuleDescriptions: ResourceRule = (r, ledger) => {
    const check = checker(r, ledger, SOURCES.ipRange);
    for (const direction of ["ingress", "egress"]) {
        list(r.inputs[direction]).forEach((rule, i) => {
            if (isObj(rule)) checkSgText(check, `${direction}[${i}].description`, rule.description);
        });
    }
};

const ruleDescription: ResourceRule = (r, ledger) => checkSgText(checker(r, ledger, SOURCES.ipRange), "description", r.inputs.description);

// ---------------------------------------------------------------------------------------------------------
// Tags, on every AWS resource.

/** Types whose tags EC2 stores: "Although EC2 allows for any character in its tags, other AWS services are more restrictive." */
const isEc2Type = (type: string): boolean => /^aws:(ec2|ebs|vpc)\//.test(type);
/** "letters, numbers, and spaces representable in UTF-8, and the following characters: + - = . _ : / @" */
const TAG_CHAR = /^[\p{L}\p{N}\p{Z}+\-=._:/@]$/u;
const TAG_CHARSET = "letters, numbers, spaces and + - = . _ : / @";
/** Instance tags in instance metadata: letters, numbers and + - = . , _ : @ (no spaces, no "/"). */
const IMDS_TAG_KEY_CHAR = /^[a-zA-Z0-9+\-=.,_:@]$/;

/**
 * One tag map: at most 50 tags, keys 1-128 and values 0-256 Unicode characters, the aws: prefix reserved, and
 * outside EC2 the characters every service accepts. https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions
 */
export function checkTagMap(check: Check, path: string, tags: unknown, anyCharacter: boolean): void {
    if (!isObj(tags)) return;
    const keys = Object.keys(tags);
    check(keys.length <= 50, path, keys.length, "must have at most 50 tags");
    for (const key of keys) {
        const value = tags[key];
        check(chars(key) >= 1 && chars(key) <= 128, path, key, "tag keys must be 1 to 128 characters");
        check(!key.toLowerCase().startsWith("aws:"), path, key, 'tag keys cannot start with "aws:" (reserved for AWS)');
        if (!anyCharacter) checkCharset(check, path, key, TAG_CHAR, `${TAG_CHARSET} in tag keys`);
        if (!knownString(value)) continue;
        check(chars(value) <= 256, `${path}.${key}`, value, "tag values must be at most 256 characters");
        if (!anyCharacter) checkCharset(check, `${path}.${key}`, value, TAG_CHAR, TAG_CHARSET);
    }
}

const tagsOfEveryResource: ResourceRule = (r, ledger) => {
    if (!r.type.startsWith("aws:")) return;
    const check = checker(r, ledger, SOURCES.ec2Tags);
    checkTagMap(check, "tags", r.inputs.tags, isEc2Type(r.type));
};

/**
 * The provider's default tags are merged into every taggable resource (the provider's defaultTags never appear
 * in a resource's inputs): they meet the same limits, and the characters every service accepts.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions
 */
const providerDefaultTags: ResourceRule = (r, ledger) => {
    const tags = defaultTagsOf(r);
    if (tags) checkTagMap(checker(r, ledger, SOURCES.ec2Tags), "defaultTags.tags", tags, false);
};

/** A provider's defaultTags.tags, whether given as an object or (as the engine records it) a JSON string. */
export function defaultTagsOf(provider: PlannedResource): Obj | undefined {
    let value: unknown = provider.inputs.defaultTags;
    if (knownString(value)) {
        try {
            value = JSON.parse(value);
        } catch {
            return undefined;
        }
    }
    return isObj(value) && isObj(value.tags) ? value.tags : undefined;
}

/** Volume tags set through an instance (EC2 volumes: any character), and instance tags exposed in instance metadata. */
const instanceTags: ResourceRule = (r, ledger) => {
    const check = checker(r, ledger, SOURCES.ec2Tags);
    checkTagMap(check, "volumeTags", r.inputs.volumeTags, true);
    if (isObj(r.inputs.rootBlockDevice)) checkTagMap(check, "rootBlockDevice.tags", r.inputs.rootBlockDevice.tags, true);
    list(r.inputs.ebsBlockDevices).forEach((d, i) => isObj(d) && checkTagMap(check, `ebsBlockDevices[${i}].tags`, d.tags, true));
    // "If you enable instance tags in instance metadata, instance tag keys can only use letters, numbers, and
    // + - = . , _ : @ ... can't contain spaces or /, and can't comprise only . (one period), .. (two periods), or _index."
    const metadata = r.inputs.metadataOptions;
    if (!isObj(metadata) || metadata.instanceMetadataTags !== "enabled" || !isObj(r.inputs.tags)) return;
    for (const key of Object.keys(r.inputs.tags)) {
        checkCharset(check, "tags", key, IMDS_TAG_KEY_CHAR, "letters, numbers and + - = . , _ : @ in tag keys when instance metadata tags are enabled");
        check(![".", "..", "_index"].includes(key), "tags", key, 'tag keys cannot be ".", ".." or "_index" when instance metadata tags are enabled');
    }
};

// ---------------------------------------------------------------------------------------------------------
// S3 bucket names.

const BUCKET_RESERVED_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"];
const BUCKET_RESERVED_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3"];

/**
 * General purpose bucket names: 3-63 characters; lowercase letters, numbers, dots and hyphens; begin and end with
 * a letter or number; no two adjacent periods; not an IP address; not starting with xn--, sthree- or
 * amzn-s3-demo-; not ending with -s3alias, --ol-s3, .mrap or --x-s3 (directory buckets).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 * A bucketPrefix (the provider appends a unique suffix) is at most 37 characters and lowercase:
 * https://www.pulumi.com/registry/packages/aws/api-docs/s3/bucket/
 */
const bucketName: ResourceRule = (r, ledger) => {
    const check = checker(r, ledger, SOURCES.bucketNames);
    const name = r.inputs.bucket;
    if (knownString(name)) {
        check(name.length >= 3 && name.length <= 63, "bucket", name, "must be 3 to 63 characters");
        checkCharset(check, "bucket", name, /^[a-z0-9.-]$/, "lowercase letters, numbers, dots and hyphens");
        check(/^[a-z0-9]/.test(name) && /[a-z0-9]$/.test(name), "bucket", name, "must begin and end with a letter or number");
        check(!name.includes(".."), "bucket", name, "must not contain two adjacent periods");
        check(!/^\d{1,3}(\.\d{1,3}){3}$/.test(name), "bucket", name, "must not be formatted as an IP address");
        for (const p of BUCKET_RESERVED_PREFIXES) check(!name.startsWith(p), "bucket", name, `must not start with the reserved prefix "${p}"`);
        for (const s of BUCKET_RESERVED_SUFFIXES) check(!name.endsWith(s), "bucket", name, `must not end with the reserved suffix "${s}"`);
    }
    const prefix = r.inputs.bucketPrefix;
    if (knownString(prefix)) {
        checker(r, ledger, SOURCES.bucketPrefix)(prefix.length <= 37, "bucketPrefix", prefix, "must be at most 37 characters (the provider appends a unique suffix)");
        checkCharset(check, "bucketPrefix", prefix, /^[a-z0-9.-]$/, "lowercase letters, numbers, dots and hyphens");
        check(/^[a-z0-9]/.test(prefix), "bucketPrefix", prefix, "must begin with a letter or number");
        check(!prefix.includes(".."), "bucketPrefix", prefix, "must not contain two adjacent periods");
        for (const p of BUCKET_RESERVED_PREFIXES) check(!prefix.startsWith(p), "bucketPrefix", prefix, `must not start with the reserved prefix "${p}"`);
    }
};

// ---------------------------------------------------------------------------------------------------------
// Elastic Load Balancing: load balancer and target group names, health checks, attributes.

/** name: at most 32 alphanumerics or hyphens, not beginning or ending with a hyphen (and for load balancers, not "internal-"). */
function checkElbName(check: Check, value: string, loadBalancer: boolean): void {
    check(value.length <= 32, "name", value, "must be at most 32 characters");
    checkCharset(check, "name", value, /^[a-zA-Z0-9-]$/, "alphanumeric characters or hyphens");
    check(!value.startsWith("-") && !value.endsWith("-"), "name", value, "must not begin or end with a hyphen");
    if (loadBalancer) check(!value.startsWith("internal-"), "name", value, 'must not begin with "internal-"');
}

/** namePrefix: the provider appends a 26-character unique suffix, so at most 6 alphanumerics or hyphens, not starting with a hyphen. */
function checkElbNamePrefix(check: Check, value: string): void {
    check(value.length <= 6, "namePrefix", value, "must be at most 6 characters (the provider appends a 26-character suffix)");
    checkCharset(check, "namePrefix", value, /^[a-zA-Z0-9-]$/, "alphanumeric characters or hyphens");
    check(!value.startsWith("-"), "namePrefix", value, "must not begin with a hyphen");
}

/**
 * CreateLoadBalancer Name: "a maximum of 32 characters, must contain only alphanumeric characters or hyphens,
 * must not begin or end with a hyphen, and must not begin with "internal-"".
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
 * namePrefix: the provider's validator (validNamePrefix), at most 6 characters.
 * https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service/elbv2/validate.go
 * Subnets: "[Application Load Balancers] You must specify subnets from at least two Availability Zones."
 */
const loadBalancer: ResourceRule = (r, ledger) => {
    if (knownString(r.inputs.name)) checkElbName(checker(r, ledger, SOURCES.lbName), r.inputs.name, true);
    if (knownString(r.inputs.namePrefix)) checkElbNamePrefix(checker(r, ledger, SOURCES.lbNamePrefix), r.inputs.namePrefix);
    const type = r.inputs.loadBalancerType ?? "application";
    const subnets = r.inputs.subnets;
    const mappings = r.inputs.subnetMappings;
    if (type === "application" && knownArray(subnets) && !knownArray(mappings)) {
        checker(r, ledger, SOURCES.lbSubnets)(subnets.length >= 2, "subnets", subnets.length, "must list subnets from at least two Availability Zones for an Application Load Balancer");
    }
};

/** "You can specify values or ranges of values between 200 and 499" (HTTP matcher codes of an ALB target group). */
function httpCodesWithin(matcher: string, low: number, high: number): boolean {
    return matcher.split(",").every((part) => {
        const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
        if (!m) return false;
        const from = Number(m[1]);
        const to = m[2] === undefined ? from : Number(m[2]);
        return from >= low && to <= high && from <= to;
    });
}

/**
 * CreateTargetGroup Name: at most 32 alphanumerics or hyphens, not beginning or ending with a hyphen.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
 * namePrefix "Cannot be longer than 6 characters": https://www.pulumi.com/registry/packages/aws/api-docs/lb/targetgroup/
 * Health checks of an Application Load Balancer target group (HTTP/HTTPS): timeout 2-120 s, interval 5-300 s,
 * healthy and unhealthy thresholds 2-10, matcher codes between 200 and 499.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
 * deregistration_delay.timeout_seconds: "The range is 0-3600 seconds."
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html
 */
const targetGroup: ResourceRule = (r, ledger) => {
    if (knownString(r.inputs.name)) checkElbName(checker(r, ledger, SOURCES.targetGroupName), r.inputs.name, false);
    if (knownString(r.inputs.namePrefix)) checkElbNamePrefix(checker(r, ledger, SOURCES.targetGroupNamePrefix), r.inputs.namePrefix);

    const delay = r.inputs.deregistrationDelay;
    const delaySeconds = knownString(delay) && /^\d+$/.test(delay) ? Number(delay) : delay;
    if (knownNumber(delaySeconds)) {
        checker(r, ledger, SOURCES.targetGroupAttributes)(delaySeconds >= 0 && delaySeconds <= 3600, "deregistrationDelay", delay, "must be 0 to 3600 seconds");
    }

    const protocol = r.inputs.protocol;
    const hc = r.inputs.healthCheck;
    if (!isObj(hc) || !(protocol === "HTTP" || protocol === "HTTPS")) return;
    const check = checker(r, ledger, SOURCES.targetGroupHealthChecks);
    const range = (key: string, low: number, high: number, unit: string) => {
        const v = hc[key];
        if (knownNumber(v)) check(v >= low && v <= high, `healthCheck.${key}`, v, `must be ${low} to ${high}${unit}`);
    };
    range("timeout", 2, 120, " seconds");
    range("interval", 5, 300, " seconds");
    range("healthyThreshold", 2, 10, "");
    range("unhealthyThreshold", 2, 10, "");
    if (knownString(hc.matcher) && r.inputs.protocolVersion !== "GRPC") {
        check(httpCodesWithin(hc.matcher, 200, 499), "healthCheck.matcher", hc.matcher, "must list HTTP codes or ranges between 200 and 499");
    }
};

// ---------------------------------------------------------------------------------------------------------
// SNS topic names.

/**
 * "Topic names must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens,
 * and must be between 1 and 256 characters long. For a FIFO (first-in-first-out) topic, the name must end with the
 * .fifo suffix." https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
 */
const snsTopicName: ResourceRule = (r, ledger) => {
    const check = checker(r, ledger, SOURCES.snsTopicName);
    const fifo = r.inputs.fifoTopic === true;
    const name = r.inputs.name;
    if (knownString(name)) {
        const base = fifo && name.endsWith(".fifo") ? name.slice(0, -".fifo".length) : name;
        check(name.length >= 1 && name.length <= 256, "name", name, "must be 1 to 256 characters");
        checkCharset(check, "name", base, /^[A-Za-z0-9_-]$/, fifo ? "ASCII letters, numbers, underscores and hyphens before the .fifo suffix" : "ASCII letters, numbers, underscores and hyphens");
        if (fifo) check(name.endsWith(".fifo"), "name", name, 'must end with ".fifo" for a FIFO topic');
    }
    const prefix = r.inputs.namePrefix;
    if (knownString(prefix)) checkCharset(check, "namePrefix", prefix, /^[A-Za-z0-9_-]$/, "ASCII letters, numbers, underscores and hyphens");
};

// ---------------------------------------------------------------------------------------------------------
// Systems Manager: parameter names, values and documents.

/** The ARN prefix that counts toward the 1011 characters: "arn:aws:ssm:us-east-2:111122223333:parameter/" is 45. */
const ssmArnPrefixLength = (region: unknown): number => "arn:aws:ssm:".length + (knownString(region) ? region.length : "us-east-2".length) + ":111122223333:parameter/".length;

/**
 * Parameter names: case sensitive, only a-zA-Z0-9_.- and "/" between hierarchy levels; not prefixed with "aws"
 * or "ssm" in any case (also /aws/...); a name in a hierarchy starts with "/"; at most fifteen levels; the
 * fully qualified name, counted with the ARN before it, at most 1011 characters.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html and
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
 * Values: "Standard parameters have a value limit of 4 KB. Advanced parameters have a value limit of 8 KB."
 * (PutParameter Value; Intelligent-Tiering picks the tier the value needs, up to advanced.)
 */
const ssmParameter: ResourceRule = (r, ledger) => {
    const check = checker(r, ledger, SOURCES.ssmParameterNames);
    const name = r.inputs.name;
    if (knownString(name)) {
        checkCharset(check, "name", name, /^[a-zA-Z0-9_.\-/]$/, "a-z, A-Z, 0-9, _ . - and / between hierarchy levels");
        const bare = name.replace(/^\/+/, "");
        check(!/^(aws|ssm)/i.test(bare), "name", name, 'cannot be prefixed with "aws" or "ssm" (any case)');
        if (name.includes("/")) check(name.startsWith("/"), "name", name, 'must start with "/" when it is part of a hierarchy (fully qualified)');
        const levels = bare.split("/").filter((s) => s !== "").length;
        check(levels <= 15, "name", name, "must have at most 15 hierarchy levels");
        const total = ssmArnPrefixLength(r.inputs.region) + bare.length;
        checker(r, ledger, SOURCES.ssmPutParameter)(total <= 1011, "name", name, `must be at most 1011 characters counted with its ARN prefix (${total})`);
    }
    const tier = knownString(r.inputs.tier) ? r.inputs.tier : "Standard";
    const limit = tier === "Standard" ? 4096 : 8192;
    for (const key of ["value", "insecureValue"]) {
        const value = r.inputs[key];
        if (!knownString(value)) continue;
        checker(r, ledger, SOURCES.ssmPutParameter)(bytes(value) <= limit, key, value, `must be at most ${limit / 1024} KB (${bytes(value)} bytes) for a ${tier} parameter`);
    }
};

/**
 * CreateDocument Name: "You can't use the following strings as document name prefixes. These are reserved by AWS
 * for use as document name prefixes: aws, amazon, amzn, AWSEC2, AWSConfigRemediation, AWSSupport".
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html
 */
const SSM_DOCUMENT_RESERVED = ["aws", "amazon", "amzn", "AWSEC2", "AWSConfigRemediation", "AWSSupport"];
const ssmDocumentName: ResourceRule = (r, ledger) => {
    const name = r.inputs.name;
    if (!knownString(name)) return;
    const check = checker(r, ledger, SOURCES.ssmDocumentName);
    for (const p of SSM_DOCUMENT_RESERVED) check(!name.startsWith(p), "name", name, `cannot start with the reserved prefix "${p}"`);
};

// ---------------------------------------------------------------------------------------------------------
// EC2 instances: user data, block devices; EBS volumes; attachments.

/** User data, raw (decoded from base64 when given as userDataBase64). */
function rawUserData(inputs: Obj): { path: string; size: number } | undefined {
    if (knownString(inputs.userData)) return { path: "userData", size: bytes(inputs.userData) };
    if (knownString(inputs.userDataBase64)) return { path: "userDataBase64", size: Buffer.from(inputs.userDataBase64, "base64").length };
    return undefined;
}

/** "User data is limited to 16 KB, in raw form, before it is base64-encoded." https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html */
const userDataSize: ResourceRule = (r, ledger) => {
    const data = rawUserData(r.inputs);
    if (data) checker(r, ledger, SOURCES.userData)(data.size <= 16384, data.path, data.size, "must be at most 16 KB (16384 bytes) raw, before base64 encoding");
};

interface VolumeSpec {
    readonly type: unknown;
    readonly size: unknown;
    readonly iops: unknown;
    readonly throughput: unknown;
}

/** CreateVolume: supported sizes (GiB) per volume type. */
const VOLUME_SIZES: Record<string, [number, number]> = {
    gp2: [1, 16384],
    gp3: [1, 65536],
    io1: [4, 16384],
    io2: [4, 65536],
    st1: [125, 16384],
    sc1: [125, 16384],
    standard: [1, 1024],
};
/** CreateVolume Iops: "gp3: 3,000 - 80,000 IOPS, io1: 100 - 64,000 IOPS, io2: 100 - 256,000 IOPS". */
const VOLUME_IOPS: Record<string, [number, number]> = { gp3: [3000, 80000], io1: [100, 64000], io2: [100, 256000] };

/**
 * Size, IOPS and throughput of one EBS volume by its type.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVolume.html (sizes: gp2 1-16,384, gp3
 * 1-65,536, io1 4-16,384, io2 4-65,536, st1/sc1 125-16,384, standard 1-1,024 GiB; Iops only for gp3/io1/io2 and
 * required for io1/io2; Throughput only for gp3, 125-2,000 MiB/s) and, for gp3, "The maximum ratio of provisioned
 * IOPS to provisioned volume size is 500 IOPS per GiB. The maximum ratio of provisioned throughput to provisioned
 * IOPS is .25 MiB/s per IOPS." https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html
 */
function checkVolumeSpec(r: PlannedResource, ledger: Ledger, paths: Record<keyof VolumeSpec, string>, spec: VolumeSpec): void {
    if (!knownString(spec.type)) return;
    const type = spec.type;
    const check = checker(r, ledger, SOURCES.createVolume);
    const sizes = VOLUME_SIZES[type];
    if (sizes && knownNumber(spec.size)) check(spec.size >= sizes[0] && spec.size <= sizes[1], paths.size, spec.size, `must be ${sizes[0]} to ${sizes[1]} GiB for a ${type} volume`);
    const iopsRange = VOLUME_IOPS[type];
    if (knownNumber(spec.iops)) {
        if (check(iopsRange !== undefined, paths.iops, spec.iops, `can be set only for gp3, io1 and io2 volumes, not ${type}`) && iopsRange) {
            check(spec.iops >= iopsRange[0] && spec.iops <= iopsRange[1], paths.iops, spec.iops, `must be ${iopsRange[0]} to ${iopsRange[1]} for a ${type} volume`);
        }
    } else if ((type === "io1" || type === "io2") && spec.iops === undefined) {
        check(false, paths.iops, spec.iops, `is required for a ${type} volume`);
    }
    if (knownNumber(spec.throughput)) {
        if (check(type === "gp3", paths.throughput, spec.throughput, `can be set only for gp3 volumes, not ${type}`)) {
            check(spec.throughput >= 125 && spec.throughput <= 2000, paths.throughput, spec.throughput, "must be 125 to 2000 MiB/s");
        }
    }
    if (type !== "gp3") return;
    const ratio = checker(r, ledger, SOURCES.gp3Ratios);
    if (knownNumber(spec.iops) && spec.iops > 3000 && knownNumber(spec.size)) {
        ratio(spec.iops <= 500 * spec.size, paths.iops, spec.iops, `must be at most 500 IOPS per GiB (${500 * spec.size} for ${spec.size} GiB)`);
    }
    if (knownNumber(spec.throughput) && spec.throughput > 125) {
        // Without provisioned IOPS a gp3 volume has its baseline 3,000.
        const iops = knownNumber(spec.iops) ? spec.iops : spec.iops === undefined ? 3000 : undefined;
        if (iops !== undefined) ratio(spec.throughput <= 0.25 * iops, paths.throughput, spec.throughput, `must be at most 0.25 MiB/s per provisioned IOPS (${0.25 * iops} for ${iops} IOPS)`);
    }
}

const ebsVolume: ResourceRule = (r, ledger) =>
    checkVolumeSpec(r, ledger, { type: "type", size: "size", iops: "iops", throughput: "throughput" }, {
        type: r.inputs.type,
        size: r.inputs.size,
        iops: r.inputs.iops,
        throughput: r.inputs.throughput,
    });

const instanceVolumes: ResourceRule = (r, ledger) => {
    const devices: [string, unknown][] = [["rootBlockDevice", r.inputs.rootBlockDevice], ...list(r.inputs.ebsBlockDevices).map((d, i): [string, unknown] => [`ebsBlockDevices[${i}]`, d])];
    for (const [base, d] of devices) {
        if (!isObj(d)) continue;
        checkVolumeSpec(r, ledger, { type: `${base}.volumeType`, size: `${base}.volumeSize`, iops: `${base}.iops`, throughput: `${base}.throughput` }, {
            type: d.volumeType,
            size: d.volumeSize,
            iops: d.iops,
            throughput: d.throughput,
        });
    }
    list(r.inputs.ebsBlockDevices).forEach((d, i) => isObj(d) && checkDeviceName(checker(r, ledger, SOURCES.deviceNames), `ebsBlockDevices[${i}].deviceName`, d.deviceName));
};

/**
 * Device names for EBS volumes on HVM Linux instances: available /dev/sd[a-z], /dev/xvd[a-d][a-z] and
 * /dev/xvd[e-z]; /dev/sda1 and /dev/xvda are reserved for the root volume.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/device_naming.html
 */
function checkDeviceName(check: Check, path: string, value: unknown): void {
    if (!knownString(value)) return;
    const bare = value.replace(/^\/dev\//, "");
    const rule = ["sda1", "xvda"].includes(bare)
        ? "must not be /dev/sda1 or /dev/xvda (reserved for the root volume)"
        : "must be an available device name: /dev/sd[a-z], /dev/xvd[a-d][a-z] or /dev/xvd[e-z]";
    check(/^(sd[a-z]|xvd[a-d][a-z]|xvd[e-z])$/.test(bare), path, value, rule);
}

const volumeAttachment: ResourceRule = (r, ledger) => checkDeviceName(checker(r, ledger, SOURCES.deviceNames), "deviceName", r.inputs.deviceName);

// ---------------------------------------------------------------------------------------------------------
// CloudWatch metric alarms.

/** A UTF-16 surrogate without its pair: a string that has one cannot be encoded as UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const ALARM_PERIOD_OK = (p: number) => p === 10 || p === 20 || p === 30 || (p > 0 && p % 60 === 0);
const QUERY_PERIOD_OK = (p: number) => [1, 5, 10, 20, 30].includes(p) || (p > 0 && p % 60 === 0);

/**
 * PutMetricAlarm: the alarm name contains no ASCII control characters (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html);
 * Period is 10, 20, 30 or a multiple of 60; Period x EvaluationPeriods is at most 604,800 s, and at most 86,400 s
 * for periods under an hour; with MetricName, exactly one of Statistic and ExtendedStatistic; an alarm on a
 * math expression (Metrics) takes none of MetricName, Namespace, Dimensions, Period, Unit, Statistic,
 * ExtendedStatistic; at most 5 actions per state.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
 * DatapointsToAlarm is the M of "M out of N", EvaluationPeriods the N:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html
 * Metrics: at most 20 MetricDataQuery, at most 10 retrieving a metric and 10 expressions, exactly one with
 * ReturnData true; each Id of letters, numbers and underscores starting with a lowercase letter, unique.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html
 * The period of a metric in a query: 1, 5, 10, 20, 30, 60 or any multiple of 60.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-cloudwatch-alarm-metricstat.html
 */
const metricAlarm: ResourceRule = (r, ledger) => {
    const i = r.inputs;
    const put = checker(r, ledger, SOURCES.putMetricAlarm);

    if (knownString(i.name)) {
        checker(r, ledger, SOURCES.alarmNames)(!/[\u0000-\u001f\u007f]/.test(i.name), "name", i.name, "must not contain ASCII control characters");
        checker(r, ledger, SOURCES.alarmNames)(!LONE_SURROGATE.test(i.name), "name", i.name, "must contain only UTF-8 characters (no lone surrogates)");
    }
    for (const key of ["alarmActions", "okActions", "insufficientDataActions"]) {
        if (knownArray(i[key])) put((i[key] as unknown[]).length <= 5, key, (i[key] as unknown[]).length, "must have at most 5 actions");
    }

    const queries = knownArray(i.metricQueries) ? i.metricQueries.filter(isObj) : [];
    if (queries.length > 0) {
        for (const key of ["metricName", "namespace", "dimensions", "period", "unit", "statistic", "extendedStatistic"]) {
            if (i[key] !== undefined && i[key] !== null) put(false, key, i[key], "cannot be set on an alarm based on metricQueries (set it in the queries)");
        }
        const mdq = checker(r, ledger, SOURCES.metricDataQuery);
        mdq(queries.length <= 20, "metricQueries", queries.length, "must have at most 20 queries");
        const withMetric = queries.filter((q) => q.metric !== undefined && q.metric !== null).length;
        const withExpression = queries.filter((q) => q.expression !== undefined && q.expression !== null).length;
        mdq(withMetric <= 10, "metricQueries", withMetric, "must have at most 10 queries that retrieve a metric");
        mdq(withExpression <= 10, "metricQueries", withExpression, "must have at most 10 expression queries");
        if (queries.every((q) => q.returnData === undefined || isKnown(q.returnData))) {
            const returning = queries.filter((q) => q.returnData === true).length;
            mdq(returning === 1, "metricQueries", returning, "must have exactly one query with returnData true");
        }
        const seen = new Set<string>();
        queries.forEach((q, n) => {
            if (!knownString(q.id)) return;
            mdq(/^[a-z][A-Za-z0-9_]*$/.test(q.id), `metricQueries[${n}].id`, q.id, "must be letters, numbers and underscores, starting with a lowercase letter");
            mdq(!seen.has(q.id), `metricQueries[${n}].id`, q.id, "must be unique among the queries");
            seen.add(q.id);
        });
        const periodCheck = checker(r, ledger, SOURCES.metricStatPeriod);
        queries.forEach((q, n) => {
            const metric = q.metric;
            if (isObj(metric) && knownNumber(metric.period)) periodCheck(QUERY_PERIOD_OK(metric.period), `metricQueries[${n}].metric.period`, metric.period, "must be 1, 5, 10, 20, 30, 60 or a multiple of 60");
            if (knownNumber(q.period)) periodCheck(QUERY_PERIOD_OK(q.period), `metricQueries[${n}].period`, q.period, "must be 1, 5, 10, 20, 30, 60 or a multiple of 60");
        });
    } else if (i.metricName !== undefined) {
        const hasStatistic = i.statistic !== undefined && i.statistic !== null;
        const hasExtended = i.extendedStatistic !== undefined && i.extendedStatistic !== null;
        put(hasStatistic !== hasExtended, hasStatistic ? "extendedStatistic" : "statistic", hasStatistic ? i.extendedStatistic : i.statistic, "exactly one of statistic and extendedStatistic must be set for an alarm on metricName");
        if (knownNumber(i.period)) put(ALARM_PERIOD_OK(i.period), "period", i.period, "must be 10, 20, 30 or a multiple of 60");
    }

    // The evaluation range: the alarm's period (or its queries' longest) times the evaluation periods.
    const periods = queries.length > 0
        ? queries.flatMap((q) => [isObj(q.metric) ? q.metric.period : undefined, q.period]).filter(knownNumber)
        : [i.period].filter(knownNumber);
    const period = periods.length > 0 ? Math.max(...periods) : undefined;
    if (period !== undefined && knownNumber(i.evaluationPeriods)) {
        const range = period * i.evaluationPeriods;
        const limit = period < 3600 ? 86400 : 604800;
        put(range <= limit, "evaluationPeriods", i.evaluationPeriods, `times the period (${period} s) must be at most ${limit} s (${limit === 86400 ? "one day for periods under an hour" : "seven days"}), is ${range} s`);
    }
    if (knownNumber(i.datapointsToAlarm) && knownNumber(i.evaluationPeriods)) {
        checker(r, ledger, SOURCES.alarmEvaluation)(i.datapointsToAlarm <= i.evaluationPeriods, "datapointsToAlarm", i.datapointsToAlarm, `must be at most evaluationPeriods (${i.evaluationPeriods}): it is the M of M out of N`);
    }
};

/**
 * PutCompositeAlarm: the alarm name as a metric alarm's (no ASCII control characters,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html); at most 5 actions
 * per state, each an SNS topic, a Systems Manager OpsItem or an incident response plan: no EC2 action (stop,
 * terminate, reboot, recover), which only a metric alarm takes.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
 */
const compositeAlarm: ResourceRule = (r, ledger) => {
    const i = r.inputs;
    const put = checker(r, ledger, SOURCES.putCompositeAlarm);
    if (knownString(i.alarmName)) {
        checker(r, ledger, SOURCES.alarmNames)(!/[\u0000-\u001f\u007f]/.test(i.alarmName), "alarmName", i.alarmName, "must not contain ASCII control characters");
        checker(r, ledger, SOURCES.alarmNames)(!LONE_SURROGATE.test(i.alarmName), "alarmName", i.alarmName, "must contain only UTF-8 characters (no lone surrogates)");
    }
    for (const key of ["alarmActions", "okActions", "insufficientDataActions"]) {
        if (!knownArray(i[key])) continue;
        const actions = i[key] as unknown[];
        put(actions.length <= 5, key, actions.length, "must have at most 5 actions");
        actions.forEach((a, n) => {
            if (knownString(a)) put(/^arn:[^:]+:(sns|ssm|ssm-incidents):/.test(a), `${key}[${n}]`, a, "must be an SNS topic, a Systems Manager OpsItem or an incident response plan (a composite alarm takes no EC2 action)");
        });
    }
};

// ---------------------------------------------------------------------------------------------------------
// Route 53: health checks and record names.

const HEALTH_CHECK_REGIONS = ["us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"];
const ENDPOINT_TYPES = ["HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP"];

/**
 * HealthCheckConfig: FailureThreshold 1-10; Regions, when given, at least 3 of us-east-1, us-west-1, us-west-2,
 * eu-west-1, ap-southeast-1, ap-southeast-2, ap-northeast-1, sa-east-1; SearchString is what the *_STR_MATCH types
 * search for; no Port and no IPAddress for CALCULATED and CLOUDWATCH_METRIC checks.
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html
 * Request interval: standard (30 seconds) or fast (10 seconds); an endpoint is given by IP address or domain name.
 * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html and the provider's
 * validators (request_interval 10 or 30; fqdn, resource_path and search_string at most 255 characters):
 * https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service/route53/health_check.go
 */
const healthCheck: ResourceRule = (r, ledger) => {
    const i = r.inputs;
    const api = checker(r, ledger, SOURCES.healthCheckConfig);
    const guide = checker(r, ledger, SOURCES.healthCheckValues);
    const provider = checker(r, ledger, SOURCES.healthCheckProvider);
    if (knownNumber(i.requestInterval)) guide(i.requestInterval === 10 || i.requestInterval === 30, "requestInterval", i.requestInterval, "must be 10 (fast) or 30 (standard) seconds");
    if (knownNumber(i.failureThreshold)) api(i.failureThreshold >= 1 && i.failureThreshold <= 10, "failureThreshold", i.failureThreshold, "must be 1 to 10");
    if (knownArray(i.regions)) {
        api(i.regions.length >= 3, "regions", i.regions.length, "must list at least 3 regions when given");
        i.regions.forEach((region, n) => {
            if (knownString(region)) api(HEALTH_CHECK_REGIONS.includes(region), `regions[${n}]`, region, `must be one of ${HEALTH_CHECK_REGIONS.join(", ")}`);
        });
    }
    for (const key of ["fqdn", "resourcePath", "searchString"]) {
        const v = i[key];
        if (knownString(v)) provider(v.length <= 255, key, v, "must be at most 255 characters");
    }
    if (!knownString(i.type)) return;
    if (i.type === "HTTP_STR_MATCH" || i.type === "HTTPS_STR_MATCH") {
        if (i.searchString === undefined) api(false, "searchString", i.searchString, `is required for a ${i.type} health check`);
    } else if (i.searchString !== undefined && i.searchString !== null) {
        api(false, "searchString", i.searchString, "can be set only for HTTP_STR_MATCH and HTTPS_STR_MATCH health checks");
    }
    if (i.type === "CALCULATED" || i.type === "CLOUDWATCH_METRIC") {
        for (const key of ["port", "ipAddress"]) {
            if (i[key] !== undefined && i[key] !== null) api(false, key, i[key], `must not be set for a ${i.type} health check`);
        }
    }
    if (ENDPOINT_TYPES.includes(i.type) && i.fqdn === undefined && i.ipAddress === undefined) {
        guide(false, "fqdn", i.fqdn, "an endpoint health check needs fqdn or ipAddress");
    }
};

/**
 * Record names: labels of at most 63 bytes, the whole name at most 255 bytes with the dots; printable ASCII
 * without spaces (other characters as escape codes). https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html
 */
const recordName: ResourceRule = (r, ledger) => {
    const name = r.inputs.name;
    if (!knownString(name)) return;
    const check = checker(r, ledger, SOURCES.domainNameFormat);
    check(bytes(name) <= 255, "name", name, "must be at most 255 bytes");
    const long = name.replace(/\.$/, "").split(".").find((label) => bytes(label) > 63);
    check(long === undefined, "name", name, long === undefined ? "labels must be at most 63 bytes" : `labels must be at most 63 bytes ("${long}" is ${bytes(long)})`);
    checkCharset(check, "name", name, /^[\x21-\x7e]$/, "printable ASCII characters without spaces");
};

// ---------------------------------------------------------------------------------------------------------
// CloudFront.

/**
 * DistributionConfig Comment: "The comment cannot be longer than 128 characters."
 * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionConfig.html
 * ViewerCertificate: "If you specify an ACM certificate ARN, you must also specify values for MinimumProtocolVersion
 * and SSLSupportMethod"; "CloudFront only supports ACM certificates in the US East (N. Virginia) Region (us-east-1)."
 * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ViewerCertificate.html
 */
const distribution: ResourceRule = (r, ledger) => {
    if (knownString(r.inputs.comment)) checker(r, ledger, SOURCES.cloudfrontComment)(chars(r.inputs.comment) <= 128, "comment", r.inputs.comment, "must be at most 128 characters");
    const cert = r.inputs.viewerCertificate;
    if (!isObj(cert) || cert.acmCertificateArn === undefined || cert.acmCertificateArn === null) return;
    const check = checker(r, ledger, SOURCES.cloudfrontViewerCertificate);
    check(cert.minimumProtocolVersion !== undefined, "viewerCertificate.minimumProtocolVersion", cert.minimumProtocolVersion, "is required with acmCertificateArn");
    check(cert.sslSupportMethod !== undefined, "viewerCertificate.sslSupportMethod", cert.sslSupportMethod, "is required with acmCertificateArn");
    if (knownString(cert.acmCertificateArn) && cert.acmCertificateArn.startsWith("arn:")) {
        const region = cert.acmCertificateArn.split(":")[3];
        check(region === "us-east-1", "viewerCertificate.acmCertificateArn", cert.acmCertificateArn, "must be an ACM certificate in us-east-1");
    }
};

/** OriginAccessControlConfig Name: "You can specify up to 64 characters." https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_OriginAccessControlConfig.html */
const originAccessControl: ResourceRule = (r, ledger) => {
    if (knownString(r.inputs.name)) checker(r, ledger, SOURCES.oacName)(chars(r.inputs.name) <= 64, "name", r.inputs.name, "must be at most 64 characters");
};

// ---------------------------------------------------------------------------------------------------------
// VPC and subnet sizes.

/** The prefix length of an IPv4 CIDR, or undefined when it is not one. */
export function ipv4Prefix(cidr: string): number | undefined {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    return m ? Number(m[5]) : undefined;
}

/** CreateVpc: "The allowed block size is between a /16 netmask (65,536 IP addresses) and /28 netmask (16 IP addresses)." https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpc.html */
const vpcSize: ResourceRule = (r, ledger) => {
    const cidr = r.inputs.cidrBlock;
    const prefix = knownString(cidr) ? ipv4Prefix(cidr) : undefined;
    if (prefix !== undefined) checker(r, ledger, SOURCES.createVpc)(prefix >= 16 && prefix <= 28, "cidrBlock", cidr, "must be between /16 and /28");
};

/** CreateSubnet: "The allowed size for an IPv4 subnet is between a /28 netmask (16 IP addresses) and a /16 netmask." https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html */
const subnetSize: ResourceRule = (r, ledger) => {
    const cidr = r.inputs.cidrBlock;
    const prefix = knownString(cidr) ? ipv4Prefix(cidr) : undefined;
    if (prefix !== undefined) checker(r, ledger, SOURCES.createSubnet)(prefix >= 16 && prefix <= 28, "cidrBlock", cidr, "must be between /16 and /28");
};

// ---------------------------------------------------------------------------------------------------------

/** The rules, by Pulumi type token; "*" applies to every AWS type (see documentedRulesFor). */
export const documentedRules: Record<string, ResourceRule[]> = {
    "*": [tagsOfEveryResource],
    "pulumi:providers:aws": [providerDefaultTags],
    "aws:ec2/securityGroup:SecurityGroup": [securityGroupText, inlineRuleDescriptions],
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": [inlineRuleDescriptions],
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": [ruleDescription],
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": [ruleDescription],
    "aws:ec2/securityGroupRule:SecurityGroupRule": [ruleDescription],
    "aws:s3/bucket:Bucket": [bucketName],
    "aws:lb/loadBalancer:LoadBalancer": [loadBalancer],
    "aws:lb/targetGroup:TargetGroup": [targetGroup],
    "aws:sns/topic:Topic": [snsTopicName],
    "aws:ssm/parameter:Parameter": [ssmParameter],
    "aws:ssm/document:Document": [ssmDocumentName],
    "aws:ec2/instance:Instance": [userDataSize, instanceVolumes, instanceTags],
    "aws:ebs/volume:Volume": [ebsVolume],
    "aws:ec2/volumeAttachment:VolumeAttachment": [volumeAttachment],
    "aws:cloudwatch/metricAlarm:MetricAlarm": [metricAlarm],
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": [compositeAlarm],
    "aws:route53/healthCheck:HealthCheck": [healthCheck],
    "aws:route53/record:Record": [recordName],
    "aws:cloudfront/distribution:Distribution": [distribution],
    "aws:cloudfront/originAccessControl:OriginAccessControl": [originAccessControl],
    "aws:ec2/vpc:Vpc": [vpcSize],
    "aws:ec2/subnet:Subnet": [subnetSize],
};

/** The rules for one type: its own, and (for AWS types) those of every AWS resource. */
export function documentedRulesFor(type: string): ResourceRule[] {
    return [...(type.startsWith("aws:") ? documentedRules["*"] : []), ...(documentedRules[type] ?? [])];
}
