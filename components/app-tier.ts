/** The app servers: stateless hosts spread over the AZs, each registered in the load balancer's target group. */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { appRole, AppParams } from "../cloud-init/roles/app";
import { UbuntuHost } from "./host";
import { spreadAz } from "./network-plan";
import { TierContext, tierHost } from "./tier-context";

export interface AppTierArgs {
    readonly ctx: TierContext;
    readonly servers: number;
    readonly instanceType: string;
    readonly azCount: number;
    readonly targetGroupArn: pulumi.Input<string>;
    /** Everything the app needs to find the other tiers, once their addresses are known. */
    readonly appParams: pulumi.Input<AppParams>;
}

export class AppTier extends pulumi.ComponentResource {
    readonly hosts: UbuntuHost[];

    constructor(name: string, args: AppTierArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:app:AppTier", name, {}, opts);
        const roleSpec = pulumi.output(args.appParams).apply((p) => appRole(p as AppParams));
        this.hosts = Array.from({ length: args.servers }, (_, i) => {
            const host = tierHost(args.ctx, {
                role: "app",
                hostname: `${name}-${i}`,
                instanceType: args.instanceType,
                azIndex: spreadAz(i, args.azCount),
                roleSpec,
            }, this);
            new aws.lb.TargetGroupAttachment(`${name}-${i}`, { targetGroupArn: args.targetGroupArn, targetId: host.instance.id, port: 80 }, { parent: this });
            return host;
        });
        this.registerOutputs({ privateIps: this.hosts.map((h) => h.privateIp) });
    }
}
