/**
 * The front door, as in 2011 an Elastic Load Balancer terminating TLS: an Application Load Balancer with an
 * ACM certificate, HTTPS only (HTTP redirects), invalid headers dropped, desync protection, access logs,
 * and a target group health-checking nginx on the app hosts. Route53 aliases the apex and www to it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ALB_LOG_PREFIX, albAccessLogStatement } from "../core/log-delivery";
import { HSTS_HEADER } from "../core/tls-policy";
import { DnsValidatedCertificate } from "./certificate";
import { PrivateBucket } from "./private-bucket";

/**
 * TLS 1.3 with 1.2 for older clients, forward secrecy and AEAD ciphers only: the "Res" policy drops the CBC
 * suites (ECDHE-*-AES*-SHA256/384) that ELBSecurityPolicy-TLS13-1-2-2021-06 still offers.
 */
export const ALB_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06";

export const HEALTH_CHECK_PATH = "/healthz";

export interface EdgeArgs {
    /** The apex; www.<domain> is an alias too, and both are on the certificate. */
    readonly domain: string;
    /** The domain's public hosted zone (records and certificate validation). */
    readonly zoneId: pulumi.Input<string>;
    /** The VPC the target group's instances are in. */
    readonly vpcId: pulumi.Input<string>;
    /** The load balancer's subnets, one per AZ. */
    readonly publicSubnetIds: pulumi.Input<string>[];
    /** The load balancer's group (the only one that admits the internet). */
    readonly securityGroupId: pulumi.Input<string>;
    /** The load balancer cannot be deleted, and its log bucket is kept. */
    readonly deletionProtection: boolean;
}

/** Where users arrive: the ALB terminating TLS with an ACM certificate, HTTP redirected, the apex and www in Route53. */
export class Edge extends pulumi.ComponentResource {
    readonly loadBalancer: aws.lb.LoadBalancer;
    /** The app hosts' target group (port 80, health-checked on /healthz). */
    readonly targetGroup: aws.lb.TargetGroup;
    /** https://<domain> */
    readonly siteUrl: pulumi.Output<string>;

    constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:edge:Edge", name, {}, opts);
        const { domain, zoneId, deletionProtection } = args;
        const parent = { parent: this };

        const caller = aws.getCallerIdentityOutput({}, parent);
        const logs = new PrivateBucket(`${name}-logs`, {
            purpose: "load balancer access logs",
            expireAfterDays: 90,
            forceDestroy: !deletionProtection,
            // ELB's log delivery service principal, in every region (no per-region ELB account: core/log-delivery.ts).
            policyStatements: (arn) => [pulumi.all([arn, caller.accountId]).apply(([bucketArn, accountId]) => albAccessLogStatement(bucketArn, accountId))],
        }, parent);

        const certificate = new DnsValidatedCertificate(`${name}-cert`, { domainName: domain, alternativeNames: [`www.${domain}`], zoneId }, parent);

        this.loadBalancer = new aws.lb.LoadBalancer(name, {
            loadBalancerType: "application",
            internal: false,
            securityGroups: [args.securityGroupId],
            subnets: args.publicSubnetIds,
            dropInvalidHeaderFields: true,
            desyncMitigationMode: "defensive",
            enableDeletionProtection: deletionProtection,
            idleTimeout: 60,
            accessLogs: { bucket: logs.bucket.bucket, prefix: ALB_LOG_PREFIX, enabled: true },
            tags: { Name: name },
        }, { parent: this, dependsOn: logs.ready });

        this.targetGroup = new aws.lb.TargetGroup(name, {
            vpcId: args.vpcId,
            port: 80,
            protocol: "HTTP",
            targetType: "instance",
            // Long enough for a worker's in-flight uploads to finish, short enough that a deploy is not slow.
            deregistrationDelay: 30,
            healthCheck: {
                enabled: true,
                path: HEALTH_CHECK_PATH,
                protocol: "HTTP",
                matcher: "200",
                interval: 10,
                timeout: 5,
                healthyThreshold: 2,
                unhealthyThreshold: 3,
            },
            tags: { Name: name },
        }, parent);

        new aws.lb.Listener(`${name}-https`, {
            loadBalancerArn: this.loadBalancer.arn,
            port: 443,
            protocol: "HTTPS",
            sslPolicy: ALB_SSL_POLICY,
            certificateArn: certificate.arn,
            defaultActions: [{ type: "forward", targetGroupArn: this.targetGroup.arn }],
            // Set by the load balancer on every response, the app's and its own errors alike; and no Server header.
            routingHttpResponseStrictTransportSecurityHeaderValue: HSTS_HEADER,
            routingHttpResponseServerEnabled: false,
        }, parent);
        new aws.lb.Listener(`${name}-http`, {
            loadBalancerArn: this.loadBalancer.arn,
            port: 80,
            protocol: "HTTP",
            // To the site's own name, not the request's Host header (which the client chooses).
            defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", host: domain, statusCode: "HTTP_301" } }],
        }, parent);

        for (const [suffix, recordName] of [["apex", domain], ["www", `www.${domain}`]] as const) {
            new aws.route53.Record(`${name}-${suffix}`, {
                zoneId,
                name: recordName,
                type: "A",
                aliases: [{ name: this.loadBalancer.dnsName, zoneId: this.loadBalancer.zoneId, evaluateTargetHealth: true }],
            }, parent);
        }

        this.siteUrl = pulumi.output(`https://${domain}`);
        this.registerOutputs({ siteUrl: this.siteUrl, loadBalancerDns: this.loadBalancer.dnsName });
    }
}
