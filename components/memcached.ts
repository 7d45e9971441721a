/** The memcached pool; the app spreads keys over it by consistent hashing, so nodes are independent. */
import * as pulumi from "@pulumi/pulumi";
import { memcachedRole } from "../cloud-init/roles/memcached";
import { spreadHosts, TierPlacement, UbuntuHost } from "./host";
import { MemcachedSizing } from "../core/sizing";

export interface MemcachedPoolArgs {
    /** Subnets, security group and identity of the memcached tier. */
    readonly hosts: TierPlacement;
    /** How many nodes; the app's ketama ring spans them all. */
    readonly nodes: number;
    /** The nodes' type; memcached's memory is sized from it. */
    readonly instanceType: string;
    /** Nodes are spread round-robin over this many AZs. */
    readonly azCount: number;
    /** Memory, threads and connections of each node (core/sizing.ts). */
    readonly sizing: MemcachedSizing;
}

/** The memcached pool: independent nodes spread over the AZs. */
export class MemcachedPool extends pulumi.ComponentResource {
    /** The nodes, in ring order. */
    readonly hosts: UbuntuHost[];

    constructor(name: string, args: MemcachedPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:memcached:MemcachedPool", name, {}, opts);
        const roleSpec = memcachedRole(args.sizing);
        this.hosts = spreadHosts(args.hosts, { name, count: args.nodes, instanceType: args.instanceType, azCount: args.azCount, roleSpec }, this);
        this.registerOutputs({ privateIps: this.hosts.map((h) => h.privateIp) });
    }
}
