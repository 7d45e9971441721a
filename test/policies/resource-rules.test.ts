/**
 * Each resource rule the way compliance-policies and Checkov test theirs: a compliant baseline per resource
 * type that passes every rule, and for each way a rule can fail, a one-property change of that baseline
 * that gives exactly that rule's violation, with the message expected.
 */
import { describe, expect, test } from "vitest";
import { ResourceValidationPolicy } from "@pulumi/policy";
import { policies } from "../../policies/rules";
import { checkResource } from "../harness/policy";
import * as zlib from "zlib";

// The AWS acceptance policy checks every input of every type against AWS's own rules; its baselines and
// variants are in acceptance-*.test.ts, and these baselines are minimal on purpose (one rule's inputs each).
const resourcePolicies = policies.filter((p): p is ResourceValidationPolicy => "validateResource" in p && p.name !== "aws-accepts-inputs");

const BASELINES: Record<string, Record<string, any>> = {
    "aws:ec2/instance:Instance": {
        metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
        rootBlockDevice: { encrypted: true, volumeType: "gp3" },
        ebsBlockDevices: [],
        associatePublicIpAddress: false,
        monitoring: true,
        iamInstanceProfile: "app-host-profile",
        userData: "#cloud-config\npackages: [nginx]\nwrite_files:\n- path: /etc/x\n  content: 'password_encryption = scram-sha-256'\n",
    },
    "aws:ebs/volume:Volume": { encrypted: true, type: "gp3", availabilityZone: "us-east-1a" },
    "aws:ec2/securityGroup:SecurityGroup": { description: "app hosts", ingress: [], egress: [] },
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": { securityGroupId: "sg-lb", cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 443, toPort: 443, description: "HTTPS from the internet" },
    "aws:ec2/securityGroupRule:SecurityGroupRule": { type: "ingress", securityGroupId: "sg-app", sourceSecurityGroupId: "sg-lb", protocol: "tcp", fromPort: 80, toPort: 80, description: "LB to nginx" },
    "aws:lb/listener:Listener": { protocol: "HTTPS", port: 443, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", certificateArn: "arn:cert", defaultActions: [{ type: "forward", targetGroupArn: "arn:tg" }] },
    "aws:lb/loadBalancer:LoadBalancer": { loadBalancerType: "application", dropInvalidHeaderFields: true, desyncMitigationMode: "defensive", accessLogs: { bucket: "logs", enabled: true }, enableDeletionProtection: true },
    "aws:lb/targetGroup:TargetGroup": { protocol: "HTTP", port: 80, healthCheck: { enabled: true, path: "/healthz", matcher: "200" } },
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": { bucket: "media", blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    "aws:s3/bucketPolicy:BucketPolicy": {
        bucket: "media",
        policy: JSON.stringify({ Version: "2012-10-17", Statement: [
            { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: "arn:aws:s3:::media/*", Condition: { Bool: { "aws:SecureTransport": "false" } } },
            { Effect: "Allow", Principal: { Service: "cloudfront.amazonaws.com" }, Action: "s3:GetObject", Resource: "arn:aws:s3:::media/*" },
        ] }),
    },
    "aws:cloudfront/distribution:Distribution": {
        defaultCacheBehavior: { viewerProtocolPolicy: "redirect-to-https" },
        orderedCacheBehaviors: [],
        viewerCertificate: { acmCertificateArn: "arn:cert", minimumProtocolVersion: "TLSv1.2_2021", sslSupportMethod: "sni-only" },
        origins: [{ originId: "s3", domainName: "media.s3.us-east-1.amazonaws.com", originAccessControlId: "oac-1" }],
        loggingConfig: { bucket: "logs.s3.amazonaws.com" },
    },
    "aws:iam/rolePolicy:RolePolicy": {
        role: "app-host",
        policy: JSON.stringify({ Version: "2012-10-17", Statement: [
            { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: ["arn:aws:ssm:us-east-1:1:parameter/instagram/dev/redis-auth"] },
            { Effect: "Allow", Action: ["ec2:DescribeInstances"], Resource: "*" },
        ] }),
    },
};

type Patch = (props: Record<string, any>) => void;
const policyDoc = (statement: object) => (p: Record<string, any>) => { p.policy = JSON.stringify({ Version: "2012-10-17", Statement: [statement] }); };

/** [type, rule, what changes, the change, the expected message]. */
const FAILURES: [string, string, string, Patch, RegExp][] = [
    ["aws:ec2/instance:Instance", "ec2-imdsv2-required", "IMDSv1 allowed", (p) => (p.metadataOptions.httpTokens = "optional"), /^subject: metadataOptions.httpTokens is "optional". Fix: set it to "required"/],
    ["aws:ec2/instance:Instance", "ec2-imdsv2-required", "no metadata options", (p) => delete p.metadataOptions, /metadataOptions.httpTokens is "optional"/],
    ["aws:ec2/instance:Instance", "ec2-volumes-encrypted", "plain root volume", (p) => (p.rootBlockDevice.encrypted = false), /^subject: rootBlockDevice.encrypted is not true/],
    ["aws:ec2/instance:Instance", "ec2-volumes-encrypted", "plain extra device", (p) => (p.ebsBlockDevices = [{ deviceName: "/dev/sdf", encrypted: false }]), /ebsBlockDevices\[0\].encrypted is not true/],
    ["aws:ebs/volume:Volume", "ebs-volume-encrypted", "plain volume", (p) => (p.encrypted = false), /^subject: encrypted is not true/],
    ["aws:ec2/instance:Instance", "ec2-no-public-ip", "public IP", (p) => (p.associatePublicIpAddress = true), /^subject: associatePublicIpAddress is true/],
    ["aws:ec2/instance:Instance", "ec2-detailed-monitoring", "basic monitoring", (p) => (p.monitoring = false), /^subject: monitoring is not true/],
    ["aws:ec2/instance:Instance", "ec2-instance-profile", "no profile", (p) => delete p.iamInstanceProfile, /^subject: iamInstanceProfile is not set/],
    ["aws:ec2/instance:Instance", "ec2-no-secrets-in-user-data", "an access key", (p) => (p.userData += "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"), /userData contains an AWS access key ID \(line 6\)/],
    ["aws:ec2/instance:Instance", "ec2-no-secrets-in-user-data", "a password", (p) => (p.userData += "  DB_PASSWORD: hunter2hunter2x9\n".replace("DB_PASSWORD", "password")), /userData contains a literal password or token/],
    ["aws:ec2/instance:Instance", "ec2-no-secrets-in-user-data", "a private key in gzipped user data", (p) => { p.userDataBase64 = zlib.gzipSync(`${p.userData}-----BEGIN RSA PRIVATE KEY-----\n`).toString("base64"); delete p.userData; }, /userData contains a private key/],
    ["aws:ec2/securityGroup:SecurityGroup", "security-group-descriptions", "default description", (p) => (p.description = "Managed by Pulumi"), /^subject: description is missing or the provider's default/],
    ["aws:ec2/securityGroup:SecurityGroup", "security-group-descriptions", "undescribed inline rule", (p) => (p.egress = [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/8"] }]), /inline rule 0 description is missing/],
    ["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "security-group-descriptions", "undescribed rule", (p) => delete p.description, /^subject: description is missing/],
    ["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "no-public-ingress", "SSH from the world", (p) => { p.fromPort = 22; p.toPort = 22; }, /opens tcp port 22 \(SSH 22\) to 0.0.0.0\/0/],
    ["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "no-public-ingress", "RDP from IPv6 world", (p) => { delete p.cidrIpv4; p.cidrIpv6 = "::/0"; p.fromPort = 3389; p.toPort = 3389; }, /opens tcp port 3389 \(RDP 3389\) to ::\/0/],
    ["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "no-public-ingress", "all traffic", (p) => { p.ipProtocol = "-1"; delete p.fromPort; delete p.toPort; }, /opens every port to 0.0.0.0\/0/],
    ["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "no-public-ingress", "a range over the data ports", (p) => { p.fromPort = 5000; p.toPort = 7000; }, /ports 5000-7000 \(PostgreSQL 5432, Redis 6379, pgbouncer 6432\)/],
    ["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "no-public-ingress", "memcached", (p) => { p.fromPort = 11211; p.toPort = 11211; }, /memcached 11211/],
    ["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "no-public-ingress", "munin-node", (p) => { p.fromPort = 4949; p.toPort = 4949; }, /munin-node 4949/],
    ["aws:ec2/securityGroupRule:SecurityGroupRule", "no-public-ingress", "legacy rule from the world", (p) => { delete p.sourceSecurityGroupId; p.cidrBlocks = ["0.0.0.0/0"]; p.fromPort = 6379; p.toPort = 6379; }, /cidrBlocks opens tcp port 6379 \(Redis 6379\)/],
    ["aws:ec2/securityGroup:SecurityGroup", "no-public-ingress", "inline world ingress", (p) => (p.ingress = [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["0.0.0.0/0"], description: "x" }]), /ingress\[0\] opens tcp port 5432 \(PostgreSQL 5432\)/],
    ["aws:lb/listener:Listener", "alb-https-tls12", "TLS 1.0 policy", (p) => (p.sslPolicy = "ELBSecurityPolicy-2016-08"), /sslPolicy is "ELBSecurityPolicy-2016-08", which allows TLS below 1.2/],
    ["aws:lb/listener:Listener", "alb-https-tls12", "default policy", (p) => delete p.sslPolicy, /sslPolicy is "the default"/],
    ["aws:lb/listener:Listener", "alb-http-redirects-to-https", "plain HTTP forward", (p) => { p.protocol = "HTTP"; p.port = 80; delete p.sslPolicy; delete p.certificateArn; }, /defaultActions serve plain HTTP/],
    ["aws:lb/loadBalancer:LoadBalancer", "alb-drop-invalid-headers", "headers kept", (p) => (p.dropInvalidHeaderFields = false), /dropInvalidHeaderFields is not true/],
    ["aws:lb/loadBalancer:LoadBalancer", "alb-desync-mitigation", "monitor mode", (p) => (p.desyncMitigationMode = "monitor"), /desyncMitigationMode is "monitor"/],
    ["aws:lb/loadBalancer:LoadBalancer", "alb-desync-mitigation", "left implicit", (p) => delete p.desyncMitigationMode, /desyncMitigationMode is "unset"/],
    ["aws:lb/loadBalancer:LoadBalancer", "alb-access-logs", "no logs", (p) => (p.accessLogs = { bucket: "logs", enabled: false }), /accessLogs are not enabled/],
    ["aws:lb/loadBalancer:LoadBalancer", "alb-deletion-protection", "unprotected", (p) => (p.enableDeletionProtection = false), /enableDeletionProtection is not true/],
    ["aws:lb/targetGroup:TargetGroup", "target-group-health-check", "disabled check", (p) => (p.healthCheck.enabled = false), /healthCheck is missing or disabled/],
    ["aws:lb/targetGroup:TargetGroup", "target-group-health-check", "no path", (p) => delete p.healthCheck.path, /healthCheck.path is not set/],
    ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "s3-public-access-block-flags", "public policies allowed", (p) => (p.blockPublicPolicy = false), /^subject: blockPublicPolicy is not true/],
    ["aws:s3/bucketPolicy:BucketPolicy", "s3-no-wildcard-principal", "public read", policyDoc({ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::media/*" }), /policy Statement\[0\].Principal allows "\*"/],
    ["aws:s3/bucketPolicy:BucketPolicy", "s3-no-wildcard-principal", "AWS * principal", policyDoc({ Effect: "Allow", Principal: { AWS: ["*"] }, Action: "s3:GetObject", Resource: "arn:aws:s3:::media/*" }), /Principal allows "\*"/],
    ["aws:cloudfront/distribution:Distribution", "cloudfront-https-only", "HTTP allowed", (p) => (p.defaultCacheBehavior.viewerProtocolPolicy = "allow-all"), /defaultCacheBehavior.viewerProtocolPolicy is "allow-all"/],
    ["aws:cloudfront/distribution:Distribution", "cloudfront-https-only", "an ordered behavior allows HTTP", (p) => (p.orderedCacheBehaviors = [{ pathPattern: "/x", viewerProtocolPolicy: "allow-all" }]), /orderedCacheBehaviors\[0\].viewerProtocolPolicy/],
    ["aws:cloudfront/distribution:Distribution", "cloudfront-tls12", "TLS 1.1", (p) => (p.viewerCertificate.minimumProtocolVersion = "TLSv1.1_2016"), /minimumProtocolVersion is "TLSv1.1_2016"/],
    ["aws:cloudfront/distribution:Distribution", "cloudfront-tls12", "default certificate", (p) => (p.viewerCertificate = { cloudfrontDefaultCertificate: true }), /the default certificate's TLSv1/],
    ["aws:cloudfront/distribution:Distribution", "cloudfront-origin-access-control", "S3 origin without OAC", (p) => delete p.origins[0].originAccessControlId, /origins\[0\].originAccessControlId is not set for an S3 origin/],
    ["aws:cloudfront/distribution:Distribution", "cloudfront-access-logging", "no logs", (p) => delete p.loggingConfig, /loggingConfig.bucket is not set/],
    ["aws:iam/rolePolicy:RolePolicy", "iam-no-wildcard-actions", "Action *", policyDoc({ Effect: "Allow", Action: "*", Resource: "arn:aws:s3:::media/*" }), /Statement\[0\].Action allows \*/],
    ["aws:iam/rolePolicy:RolePolicy", "iam-no-wildcard-actions", "a whole service", policyDoc({ Effect: "Allow", Action: ["s3:*"], Resource: "arn:aws:s3:::media/*" }), /allows s3:\*/],
    ["aws:iam/rolePolicy:RolePolicy", "iam-no-wildcard-write-resources", "write on *", policyDoc({ Effect: "Allow", Action: ["s3:PutObject"], Resource: "*" }), /Statement\[0\].Resource is "\*" for s3:PutObject/],
    // PutMetricData takes only "*": allowed with the namespace condition that narrows it, refused without.
    ["aws:iam/rolePolicy:RolePolicy", "iam-no-wildcard-write-resources", "PutMetricData without its namespace condition", policyDoc({ Effect: "Allow", Action: ["cloudwatch:PutMetricData"], Resource: "*" }), /Resource is "\*" for cloudwatch:PutMetricData/],
];

async function violationsOf(type: string, props: Record<string, any>) {
    const found: { policy: string; message: string }[] = [];
    for (const policy of resourcePolicies) {
        for (const message of await checkResource(policy, type, props)) found.push({ policy: policy.name, message });
    }
    return found;
}

describe("resource rules", () => {
    test("PutMetricData on * held to one namespace by its condition passes", async () => {
        const props = structuredClone(BASELINES["aws:iam/rolePolicy:RolePolicy"]);
        policyDoc({ Effect: "Allow", Action: ["cloudwatch:PutMetricData"], Resource: "*", Condition: { StringEquals: { "cloudwatch:namespace": "Instagram/dev" } } })(props);
        expect(await violationsOf("aws:iam/rolePolicy:RolePolicy", props)).toEqual([]);
    });

    test.each(Object.keys(BASELINES))("the %s baseline passes every rule", async (type) => {
        expect(await violationsOf(type, structuredClone(BASELINES[type]))).toEqual([]);
    });

    test.each(FAILURES)("%s / %s: %s", async (type, rule, _what, patch, message) => {
        const props = structuredClone(BASELINES[type]);
        patch(props);
        const found = await violationsOf(type, props);
        expect(found.map((f) => f.policy)).toEqual([rule]);
        expect(found[0].message).toMatch(message);
        expect(found[0].message).toMatch(/Fix: /);
    });

    test("every resource rule has at least one failing case here", () => {
        const covered = new Set(FAILURES.map(([, rule]) => rule));
        expect(resourcePolicies.map((p) => p.name).filter((n) => !covered.has(n))).toEqual([]);
    });

    test("deletion protection can be relaxed by config for a throwaway stack", async () => {
        const policy = resourcePolicies.find((p) => p.name === "alb-deletion-protection")!;
        const props = { ...BASELINES["aws:lb/loadBalancer:LoadBalancer"], enableDeletionProtection: false };
        expect(await checkResource(policy, "aws:lb/loadBalancer:LoadBalancer", props, "edge", { required: false })).toEqual([]);
    });

    test("HTTP 80 and HTTPS 443 from the world pass the resource rule (the stack rule checks they are the load balancer's)", async () => {
        const props = { ...BASELINES["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"], fromPort: 80, toPort: 80 };
        expect(await violationsOf("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", props)).toEqual([]);
    });
});
