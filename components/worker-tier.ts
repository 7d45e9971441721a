/**
 * The job-worker tier: hosts that run the app release's `instagram-app work` (no nginx, no load balancer),
 * spread over the AZs. A new release replaces them as it replaces the app hosts; a worker stopped mid-job
 * leaves the job with gearmand, which gives it to another.
 */
import * as pulumi from "@pulumi/pulumi";
import { AppParams, workerRole } from "../cloud-init/roles/app";
import { spreadHosts, TierPlacement, UbuntuHost } from "./host";

export interface WorkerTierArgs {
    /** Subnets, security group and identity of the worker tier. */
    readonly hosts: TierPlacement;
    /** How many worker hosts. */
    readonly servers: number;
    /** The worker hosts' type (the job worker count follows from its vCPUs unless instagram:jobWorkers is set). */
    readonly instanceType: string;
    /** Hosts are spread round-robin over this many AZs. */
    readonly azCount: number;
    /** What the workers need to find the other tiers (the app's parameters, with the job worker count). */
    readonly params: pulumi.Output<AppParams>;
}

/** The job-worker hosts, running `instagram-app work` from the current release. */
export class WorkerTier extends pulumi.ComponentResource {
    readonly hosts: UbuntuHost[];

    constructor(name: string, args: WorkerTierArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:worker:WorkerTier", name, {}, opts);
        const roleSpec = args.params.apply(workerRole);
        this.hosts = spreadHosts(args.hosts, { name, count: args.servers, instanceType: args.instanceType, azCount: args.azCount, roleSpec }, this);
        this.registerOutputs({ privateIps: this.hosts.map((h) => h.privateIp) });
    }
}
