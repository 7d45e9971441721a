/**
 * The search tier: a PostGIS primary and, optionally, a streaming standby in another AZ, each on its own
 * striped array of encrypted gp3 volumes (components/data-volumes.ts), booted by the search role
 * (cloud-init/roles/search.ts). The app and the job workers reach the primary's pgbouncer.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { searchRole } from "../cloud-init/roles/search";
import { UbuntuRelease } from "../core/ubuntu";
import { PostgresSizing } from "../core/sizing";
import { TierPlacement, tierHost, UbuntuHost } from "./host";
import { attachDataVolumes, dataVolumes } from "./data-volumes";

export interface SearchTierArgs {
    /** Subnets, security group and identity of the search tier. */
    readonly hosts: TierPlacement;
    /** 1: a primary; 2: a primary and a standby in the next AZ. */
    readonly servers: 1 | 2;
    /** Both members' type; PostgreSQL is sized from its memory. */
    readonly instanceType: string;
    /** The standby goes to the next AZ of these. */
    readonly azCount: number;
    /** Decides the PostgreSQL major version and its PostGIS package. */
    readonly ubuntuRelease: UbuntuRelease;
    /** PostgreSQL's and pgbouncer's memory and connection settings, for every app and job-worker process as a client. */
    readonly sizing: PostgresSizing;
    /** gp3 volumes per host, striped into one array. */
    readonly volumes: number;
    /** Size of each volume. */
    readonly volumeGiB: number;
    /** Protect the data volumes from `pulumi destroy` and replacement (a lost index costs a reindex, not data). */
    readonly protectData: boolean;
    /** Where the standby connects from (the private subnets). */
    readonly replicationCidrs: readonly string[];
}

export interface SearchMember {
    readonly host: UbuntuHost;
    readonly volumes: aws.ebs.Volume[];
    readonly attachments: aws.ec2.VolumeAttachment[];
}

/** The search tier: its primary and, with two servers, a streaming standby, each on its own volumes. */
export class SearchTier extends pulumi.ComponentResource {
    readonly primary: SearchMember;
    readonly standby?: SearchMember;

    constructor(name: string, args: SearchTierArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:search:SearchTier", name, {}, opts);
        this.primary = this.member(name, args, "primary", 0);
        if (args.servers === 2) this.standby = this.member(name, args, "standby", 1 % args.azCount, this.primary.host.privateIp);
        this.registerOutputs({ primaryIp: this.primary.host.privateIp, standbyIp: this.standby?.host.privateIp });
    }

    private member(name: string, args: SearchTierArgs, kind: "primary" | "standby", azIndex: number, primaryAddress?: pulumi.Output<string>): SearchMember {
        const memberName = `${name}-${kind}`;
        const volumes = dataVolumes(memberName, {
            availabilityZone: args.hosts.subnets[azIndex].availabilityZone,
            count: args.volumes,
            sizeGiB: args.volumeGiB,
            protect: args.protectData,
            tags: { Role: "search", Member: kind },
        }, this);
        const roleSpec = pulumi.all([pulumi.all(volumes.map((v) => v.id)), primaryAddress]).apply(([volumeIds, primary]) => searchRole({
            kind,
            hostname: memberName,
            ubuntuRelease: args.ubuntuRelease,
            sizing: args.sizing,
            volumeIds,
            volumeGiB: args.volumeGiB,
            hasStandby: args.servers === 2,
            primaryAddress: primary,
            replicationCidrs: args.replicationCidrs,
        }));
        const host = tierHost(args.hosts, {
            hostname: memberName,
            instanceType: args.instanceType,
            azIndex,
            roleSpec,
            // What the policy pack checks the attachments against, as on the shards.
            tags: { Member: kind, RaidVolumes: String(volumes.length), RaidLevel: "0" },
        }, this);
        return { host, volumes, attachments: attachDataVolumes(memberName, host, volumes, this) };
    }
}
