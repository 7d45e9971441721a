/**
 * Knowing when it breaks: one encrypted SNS topic per stack that every alarm sends ALARM and OK to, the
 * subscriptions the config names (PagerDuty through its CloudWatch integration, e-mail), Route53's external
 * check of https://<domain>/readyz from several regions (Pingdom's role), and the CloudWatch alarms of
 * core/alerting.ts for the edge and every host (EC2 auto-recovery for the data tiers; a composite alarm per
 * host for one that stops reporting, silent for one that has not reported yet). Route53 publishes its
 * health-check metrics in us-east-1 only, and an alarm acts only on a topic in its own region: in another
 * region the stack has a second topic there, with the same subscriptions, for that one alarm.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as pagerduty from "@pulumi/pagerduty";
import { AlarmSpec, AlarmThresholds, CompositeAlarmSpec, compositeRule, edgeAlarms, externalCheckAlarm, HEALTH_CHECK_PATH, HEALTH_CHECK_REGIONS, hostAlarms, hostMetricAlarms, hostReportingAlarms } from "../core/alerting";
import { UbuntuHost } from "./host";

export interface AlertingArgs {
    /** The site's apex: the external check asks https://<domain>/readyz. */
    readonly domain: string;
    /** The stack's region (the alarms' and the main topic's). */
    readonly region: string;
    /** A provider for us-east-1: the external check's alarm and, elsewhere, its topic. */
    readonly usEast1: aws.Provider;
    /** The load balancer (its CloudWatch dimension: 5xx rate, p99). */
    readonly loadBalancer: aws.lb.LoadBalancer;
    /** The app hosts' target group (unhealthy targets). */
    readonly targetGroup: aws.lb.TargetGroup;
    /** Every host of the stack: each gets its status-check alarms, the not-reporting pair (and CPU credits when burstable). */
    readonly hosts: readonly UbuntuHost[];
    /** From the stack config (instagram:alarm*). */
    readonly thresholds: AlarmThresholds;
    /** Where the hosts publish their own metrics (core/host-metrics.ts). */
    readonly metricsNamespace: string;
    /** E-mail subscriptions (instagram:alertEmails). */
    readonly emails: readonly string[];
    /** A PagerDuty escalation policy: a service with a CloudWatch integration is made and subscribed. */
    readonly pagerdutyEscalationPolicy?: string;
    /**
     * The deploy's health gate (the site answers /readyz): the external check starts after it, so a first
     * deploy's checkers do not find a site that is still booting.
     */
    readonly siteReady?: pulumi.Resource;
}

/** PagerDuty's events endpoint for an Amazon CloudWatch integration's key (what its SNS subscription posts to). */
export function pagerdutyCloudWatchUrl(integrationKey: string): string {
    return `https://events.pagerduty.com/integration/${integrationKey}/enqueue`;
}

/** The alert topic(s), their subscriptions, the external check and every alarm of the stack. */
export class Alerting extends pulumi.ComponentResource {
    /** The topic every alarm in the stack's region sends to. */
    readonly topic: aws.sns.Topic;
    /** Route53's external check of the site. */
    readonly healthCheck: aws.route53.HealthCheck;
    readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
    /** One per host: it reported its status checks and has stopped (core/alerting.ts hostReportingAlarms). */
    readonly compositeAlarms: aws.cloudwatch.CompositeAlarm[] = [];

    constructor(name: string, args: AlertingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:alerting:Alerting", name, {}, opts);
        const pagerdutyUrl = args.pagerdutyEscalationPolicy ? this.pagerdutyIntegration(name, args.pagerdutyEscalationPolicy) : undefined;
        const topicIn = (suffix: string, provider?: aws.Provider) => {
            const o = { parent: this, ...(provider ? { provider } : {}) };
            const key = new aws.kms.Key(`${name}${suffix}`, {
                description: `Encrypts stack ${pulumi.getStack()}'s alert topic; CloudWatch may use it to publish`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                policy: aws.getCallerIdentityOutput({}, o).accountId.apply((account) => JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Sid: "AccountAdministers", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
                        // An alarm's action publishes to an encrypted topic only when CloudWatch may use its key.
                        { Sid: "CloudWatchPublishes", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["kms:Decrypt", "kms:GenerateDataKey*"], Resource: "*", Condition: { StringEquals: { "aws:SourceAccount": account } } },
                    ],
                })),
            }, o);
            const topic = new aws.sns.Topic(`${name}${suffix}`, { kmsMasterKeyId: key.arn, displayName: `instagram ${pulumi.getStack()} alerts` }, o);
            new aws.sns.TopicPolicy(`${name}${suffix}`, {
                arn: topic.arn,
                policy: pulumi.all([topic.arn, aws.getCallerIdentityOutput({}, o).accountId]).apply(([arn, account]) => JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Sid: "CloudWatchAlarmsOfThisAccount", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish", Resource: arn, Condition: { StringEquals: { "aws:SourceAccount": account } } },
                        { Sid: "TlsOnly", Effect: "Deny", Principal: "*", Action: "sns:Publish", Resource: arn, Condition: { Bool: { "aws:SecureTransport": "false" } } },
                    ],
                })),
            }, o);
            args.emails.forEach((email, i) => new aws.sns.TopicSubscription(`${name}${suffix}-email-${i}`, { topic: topic.arn, protocol: "email", endpoint: email }, o));
            if (pagerdutyUrl) new aws.sns.TopicSubscription(`${name}${suffix}-pagerduty`, { topic: topic.arn, protocol: "https", endpoint: pagerdutyUrl, endpointAutoConfirms: true }, o);
            return topic;
        };
        this.topic = topicIn("");
        const usEast1Topic = args.region === "us-east-1" ? this.topic : topicIn("-us-east-1", args.usEast1);

        this.healthCheck = new aws.route53.HealthCheck(`${name}-site`, {
            type: "HTTPS",
            fqdn: args.domain,
            port: 443,
            resourcePath: HEALTH_CHECK_PATH,
            enableSni: true,
            requestInterval: 30,
            failureThreshold: 3,
            measureLatency: true,
            regions: [...HEALTH_CHECK_REGIONS],
            tags: { Name: `${args.domain}${HEALTH_CHECK_PATH}` },
        }, { parent: this, dependsOn: args.siteReady ? [args.siteReady] : [] });
        this.alarm(externalCheckAlarm(args.domain, this.healthCheck.id), usEast1Topic, args.usEast1);

        for (const spec of edgeAlarms({ loadBalancer: args.loadBalancer.arnSuffix, targetGroup: args.targetGroup.arnSuffix }, args.thresholds)) this.alarm(spec, this.topic);
        for (const host of args.hosts) {
            const instanceId = host.instance.id;
            const reporting = hostReportingAlarms({ name: host.hostname, role: host.role, instanceId });
            const specs = [
                ...hostAlarms({ name: host.hostname, role: host.role, instanceType: host.instanceType, instanceId }, args.thresholds),
                reporting.latch,
                ...hostMetricAlarms<pulumi.Input<string>>({ name: host.hostname, role: host.role }, args.metricsNamespace, args.thresholds),
            ];
            const byName = new Map<string, aws.cloudwatch.MetricAlarm>();
            for (const spec of specs) {
                // EC2's recover action: the host's own region (the stack's).
                byName.set(spec.name, this.alarm(spec, this.topic, undefined, spec.recover ? `arn:aws:automate:${args.region}:ec2:recover` : undefined, instanceId));
            }
            this.composite(reporting.composite, byName, this.topic);
        }
        this.registerOutputs({ topicArn: this.topic.arn, healthCheckId: this.healthCheck.id });
    }

    private pagerdutyIntegration(name: string, escalationPolicy: string): pulumi.Output<string> {
        const service = new pagerduty.Service(`${name}-service`, {
            name: `instagram ${pulumi.getStack()}`,
            description: `CloudWatch alarms of the instagram stack ${pulumi.getStack()}`,
            escalationPolicy,
            alertCreation: "create_alerts_and_incidents",
        }, { parent: this });
        const vendor = pagerduty.getVendorOutput({ name: "Amazon CloudWatch" }, { parent: this });
        const integration = new pagerduty.ServiceIntegration(`${name}-cloudwatch`, { service: service.id, vendor: vendor.id }, { parent: this });
        return integration.integrationKey.apply(pagerdutyCloudWatchUrl);
    }

    /**
     * One alarm: ALARM and OK to the topic (and EC2's recover action when the spec says so), or no action when
     * the spec says notify: false. A perInstance spec's name ends with `instanceId`.
     */
    private alarm(spec: AlarmSpec<pulumi.Input<string>>, topic: aws.sns.Topic, provider?: aws.Provider, recoverAction?: string, instanceId?: pulumi.Input<string>): aws.cloudwatch.MetricAlarm {
        if (spec.perInstance && instanceId === undefined) throw new Error(`alarm ${spec.name} is per instance: its instance ID is needed`);
        const notify = spec.notify ?? true;
        const alarm = new aws.cloudwatch.MetricAlarm(`alarm-${spec.name}`, {
            name: spec.perInstance
                ? pulumi.interpolate`instagram-${pulumi.getStack()}-${spec.name}-${instanceId}`
                : pulumi.interpolate`instagram-${pulumi.getStack()}-${spec.name}`,
            alarmDescription: spec.description,
            comparisonOperator: spec.comparison,
            threshold: spec.threshold,
            evaluationPeriods: spec.evaluationPeriods,
            datapointsToAlarm: spec.datapointsToAlarm,
            treatMissingData: spec.treatMissingData,
            ...(spec.metric
                ? {
                      namespace: spec.metric.namespace,
                      metricName: spec.metric.metricName,
                      period: spec.periodSeconds,
                      dimensions: spec.metric.dimensions,
                      ...(spec.metric.extendedStatistic ? { extendedStatistic: spec.metric.extendedStatistic } : { statistic: spec.metric.statistic }),
                  }
                : {
                      metricQueries: spec.queries!.map((q) => ({
                          id: q.id,
                          expression: q.expression,
                          returnData: q.returnData ?? false,
                          metric: q.metric && { namespace: q.metric.namespace, metricName: q.metric.metricName, stat: q.metric.stat, period: spec.periodSeconds, dimensions: q.metric.dimensions },
                      })),
                  }),
            alarmActions: notify ? [topic.arn, ...(recoverAction ? [recoverAction] : [])] : [],
            okActions: notify ? [topic.arn] : [],
        }, { parent: this, ...(provider ? { provider } : {}) });
        this.alarms.push(alarm);
        return alarm;
    }

    /** A composite alarm over two of the host's alarms, by their names: ALARM and OK to the topic. */
    private composite(spec: CompositeAlarmSpec, alarms: ReadonlyMap<string, aws.cloudwatch.MetricAlarm>, topic: aws.sns.Topic): void {
        const named = (specName: string) => {
            const a = alarms.get(specName);
            if (!a) throw new Error(`composite alarm ${spec.name} reads alarm ${specName}, which this host does not have`);
            return a.name;
        };
        this.compositeAlarms.push(new aws.cloudwatch.CompositeAlarm(`alarm-${spec.name}`, {
            alarmName: pulumi.interpolate`instagram-${pulumi.getStack()}-${spec.name}`,
            alarmDescription: spec.description,
            alarmRule: pulumi.all([named(spec.whenInsufficientData), named(spec.unlessInsufficientData)]).apply(([a, b]) => compositeRule(a, b)),
            alarmActions: [topic.arn],
            okActions: [topic.arn],
        }, { parent: this }));
    }
}
