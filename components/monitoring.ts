/** The Munin master, at a fixed address every munin-node allows, polling every host of the stack. */
import * as pulumi from "@pulumi/pulumi";
import { monitoringRole } from "../cloud-init/roles/monitoring";
import { MuninNode } from "../cloud-init/configs/munin-master";
import { TierPlacement, tierHost, UbuntuHost } from "./host";

export interface MonitoringArgs {
    /** Subnets, security group and identity of the monitoring tier; its muninMasterIp is this host's address. */
    readonly hosts: TierPlacement;
    /** The Munin master's type. */
    readonly instanceType: string;
    /** Every other host, as Munin should list it. */
    readonly nodes: pulumi.Output<MuninNode>[];
}

/** The Munin master, at the fixed address every munin-node admits, polling every host of the stack. */
export class Monitoring extends pulumi.ComponentResource {
    /** The Munin master. */
    readonly host: UbuntuHost;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:monitoring:Monitoring", name, {}, opts);
        const self: MuninNode = { name, group: "monitoring", address: "127.0.0.1" };
        this.host = tierHost(args.hosts, {
            hostname: name,
            instanceType: args.instanceType,
            azIndex: 0,
            privateIp: args.hosts.muninMasterIp,
            rootVolumeGiB: 50,
            roleSpec: pulumi.all(args.nodes).apply((nodes) => monitoringRole([self, ...nodes])),
        }, this);
        this.registerOutputs({ privateIp: this.host.privateIp });
    }
}
