/** The memcached pool; the app spreads keys over it by consistent hashing, so nodes are independent. */
import * as pulumi from "@pulumi/pulumi";
import { memcachedRole } from "../cloud-init/roles/memcached";
import { UbuntuHost } from "./host";
import { spreadAz } from "../core/network-plan";
import { MemcachedSizing } from "../core/sizing";
import { TierContext, tierHost } from "./tier-context";

export interface MemcachedPoolArgs {
    readonly ctx: TierContext;
    readonly nodes: number;
    readonly instanceType: string;
    readonly azCount: number;
    readonly sizing: MemcachedSizing;
}

export class MemcachedPool extends pulumi.ComponentResource {
    readonly hosts: UbuntuHost[];

    constructor(name: string, args: MemcachedPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:memcached:MemcachedPool", name, {}, opts);
        const roleSpec = memcachedRole(args.sizing);
        this.hosts = Array.from({ length: args.nodes }, (_, i) => tierHost(args.ctx, {
            role: "memcached",
            hostname: `${name}-${i}`,
            instanceType: args.instanceType,
            azIndex: spreadAz(i, args.azCount),
            roleSpec,
        }, this));
        this.registerOutputs({ privateIps: this.hosts.map((h) => h.privateIp) });
    }
}
