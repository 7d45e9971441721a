/**
 * The app servers: stateless hosts spread over the AZs, each registered in the load balancer's target group.
 *
 * Rollout: a new app release changes every app host's user data, so Pulumi replaces the hosts, create
 * before delete. Each new host is registered and then waited on (a local.Command polling the target
 * group) until the load balancer calls it healthy; the old hosts are deregistered and terminated only after
 * every new host passed, because Pulumi deletes replaced resources at the end of the update. Deregistration
 * drains for the target group's delay before the instance goes. With rolloutBatch N > 0, the hosts of
 * batch k+1 are created only when batch k is healthy (fewer hosts booting at once); 0 replaces all at once.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import { appRole, AppParams } from "../cloud-init/roles/app";
import { TierPlacement, tierHost, UbuntuHost } from "./host";
import { spreadAz } from "../core/network-plan";
import { shellCommand } from "../core/shell-quote";

/** How long one new app host may take from registration to healthy: boot, packages, release, health checks. */
export const HOST_HEALTHY_TIMEOUT_S = 900;
export const APP_PORT = 80;

export interface AppTierArgs {
    /** Subnets, security group and identity of the app tier. */
    readonly hosts: TierPlacement;
    /** How many app hosts, spread round-robin over the AZs. */
    readonly servers: number;
    /** The app hosts' type (the worker count follows from its vCPUs unless instagram:appWorkers is set). */
    readonly instanceType: string;
    /** Hosts are spread round-robin over this many AZs. */
    readonly azCount: number;
    /** The load balancer's target group every host joins on port 80. */
    readonly targetGroupArn: pulumi.Input<string>;
    /** Where the deploy-time waits ask the load balancer about its targets. */
    readonly region: string;
    /** The AWS settings the deploy-time waits run with (core/config.ts awsCommandEnvironment): region, profile. */
    readonly awsEnvironment: Readonly<Record<string, string>>;
    /** The checkout the deploy-time waits run from (tools/wait-healthy.ts). */
    readonly projectRoot: string;
    /** Hosts replaced at a time; 0 means all at once. */
    readonly rolloutBatch: number;
    /** Everything the app needs to find the other tiers, once their addresses are known. */
    readonly appParams: pulumi.Output<AppParams>;
}

/** The app servers, registered in the load balancer, each waited on until the load balancer calls it healthy. */
export class AppTier extends pulumi.ComponentResource {
    /** The hosts, in creation order. */
    readonly hosts: UbuntuHost[];
    /** One per host: passes when that host is healthy in the target group. */
    readonly inService: command.local.Command[];

    constructor(name: string, args: AppTierArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:app:AppTier", name, {}, opts);
        const roleSpec = args.appParams.apply(appRole);
        this.hosts = [];
        this.inService = [];
        for (let i = 0; i < args.servers; i++) {
            const previousBatch = args.rolloutBatch > 0 && i >= args.rolloutBatch ? [this.inService[i - args.rolloutBatch]] : [];
            const host = tierHost(args.hosts, {
                hostname: `${name}-${i}`,
                instanceType: args.instanceType,
                azIndex: spreadAz(i, args.azCount),
                roleSpec,
                dependsOn: previousBatch,
            }, this);
            const attachment = new aws.lb.TargetGroupAttachment(`${name}-${i}`, { targetGroupArn: args.targetGroupArn, targetId: host.instance.id, port: APP_PORT }, { parent: this });
            this.hosts.push(host);
            this.inService.push(new command.local.Command(`${name}-${i}-in-service`, {
                create: pulumi.all([args.targetGroupArn, host.instance.id]).apply(([arn, id]) => shellCommand([
                    "node", "--import", "tsx", "tools/wait-healthy.ts", "target",
                    "--target-group", arn, "--target", id, "--port", String(APP_PORT), "--region", args.region,
                    "--timeout", String(HOST_HEALTHY_TIMEOUT_S),
                ])),
                dir: args.projectRoot,
                environment: { ...args.awsEnvironment },
                triggers: [host.instance.id],
                logging: "stdoutAndStderr",
            }, { parent: this, dependsOn: [attachment] }));
        }
        this.registerOutputs({ privateIps: this.hosts.map((h) => h.privateIp) });
    }
}
