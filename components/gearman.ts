/**
 * The Gearman job servers: independent gearmand hosts spread over the AZs. Clients (the app) submit each job
 * to one of them and workers register with all, so losing a server delays only the jobs queued on it, which
 * its SQLite queue keeps until it is back.
 */
import * as pulumi from "@pulumi/pulumi";
import { gearmanRole } from "../cloud-init/roles/gearman";
import { spreadHosts, TierPlacement, UbuntuHost } from "./host";

export interface GearmanServersArgs {
    /** Subnets, security group and identity of the gearman tier. */
    readonly hosts: TierPlacement;
    /** How many job servers. */
    readonly servers: number;
    /** The job servers' type (gearmand needs little: a queue of job references, not payloads). */
    readonly instanceType: string;
    /** Servers are spread round-robin over this many AZs. */
    readonly azCount: number;
}

/** The gearmand hosts, each with its own durable queue. */
export class GearmanServers extends pulumi.ComponentResource {
    readonly hosts: UbuntuHost[];

    constructor(name: string, args: GearmanServersArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:gearman:GearmanServers", name, {}, opts);
        const roleSpec = gearmanRole();
        this.hosts = spreadHosts(args.hosts, { name, count: args.servers, instanceType: args.instanceType, azCount: args.azCount, roleSpec }, this);
        this.registerOutputs({ privateIps: this.hosts.map((h) => h.privateIp) });
    }
}
