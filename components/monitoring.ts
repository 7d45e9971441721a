/** The Munin master, at a fixed address every munin-node allows, polling every host of the stack. */
import * as pulumi from "@pulumi/pulumi";
import { monitoringRole } from "../cloud-init/roles/monitoring";
import { MuninNode } from "../cloud-init/configs/munin-master";
import { UbuntuHost } from "./host";
import { TierContext, tierHost } from "./tier-context";

export interface MonitoringArgs {
    readonly ctx: TierContext;
    readonly instanceType: string;
    /** Every other host, as Munin should list it. */
    readonly nodes: pulumi.Input<MuninNode>[];
}

export class Monitoring extends pulumi.ComponentResource {
    readonly host: UbuntuHost;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:monitoring:Monitoring", name, {}, opts);
        const self: MuninNode = { name, group: "monitoring", address: "127.0.0.1" };
        this.host = tierHost(args.ctx, {
            role: "monitoring",
            hostname: name,
            instanceType: args.instanceType,
            azIndex: 0,
            privateIp: args.ctx.muninMasterIp,
            rootVolumeGiB: 50,
            roleSpec: pulumi.all(args.nodes).apply((nodes) => monitoringRole([self, ...(nodes as MuninNode[])])),
        }, this);
        this.registerOutputs({ privateIp: this.host.privateIp });
    }
}
