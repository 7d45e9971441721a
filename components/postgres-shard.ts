/**
 * One physical shard: a primary and (optionally) a streaming standby in another AZ, each with its own RAID
 * of encrypted gp3 volumes in its own AZ. Volumes live apart from instances, so a replaced host is handed
 * the same disks and assembles the existing array (the role never re-creates one).
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { shardRole } from "../cloud-init/roles/postgres";
import { RaidLevel } from "../core/config";
import { UbuntuRelease } from "../core/ubuntu";
import { TierPlacement, tierHost, UbuntuHost } from "./host";
import { shardAzs } from "../core/network-plan";
import { PostgresSizing } from "../core/sizing";
import { LogicalShardRange } from "../core/shard-directory";
import { attachDataVolumes, dataVolumes } from "./data-volumes";

export interface PostgresShardArgs {
    /** Subnets, security group and identity of the shard tier. */
    readonly hosts: TierPlacement;
    /** The physical shard's number. */
    readonly physicalShard: number;
    /** The logical shards (schemas) it holds, from the shard directory: none for a shard added for capacity. */
    readonly logicalShards: readonly LogicalShardRange[];
    /** The primary rotates over this many AZs; the standby is in the next one. */
    readonly azCount: number;
    /** Both members' type; PostgreSQL is sized from its memory. */
    readonly instanceType: string;
    /** Decides the PostgreSQL major version. */
    readonly ubuntuRelease: UbuntuRelease;
    /** PostgreSQL's and pgbouncer's memory and connection settings (core/sizing.ts). */
    readonly sizing: PostgresSizing;
    /** gp3 volumes per host, assembled into one array. */
    readonly volumes: number;
    /** Size of each volume. */
    readonly volumeGiB: number;
    /** RAID 0 (striped) or 10 (striped mirrors, an even count of at least 4). */
    readonly raidLevel: RaidLevel;
    /** A streaming standby in the next AZ, with its own volumes. */
    readonly standby: boolean;
    /** Protect data volumes from `pulumi destroy` and accidental replacement. */
    readonly protectData: boolean;
    /** Where standbys connect from for replication (the private subnets). */
    readonly replicationCidrs: readonly string[];
    /**
     * Tags that put a host's data volumes under the daily snapshot policy (components/shard-snapshots.ts):
     * given to the standby where there is one (a snapshot's freeze then never pauses the primary), else to
     * the primary.
     */
    readonly snapshotTags: Readonly<Record<string, string>>;
    /** The host tools tarball every member installs at boot (components/host-tools.ts). */
    readonly hostTools: { readonly url: pulumi.Input<string>; readonly sha256: string };
    /** pgBackRest: the stack's backup bucket (the shard's stanza under its own prefix), retention and schedule. */
    readonly backup: { readonly bucket: pulumi.Input<string>; readonly region: string; readonly retentionFull: number; readonly fullDay: string; readonly time: string };
}

/** One host of a shard with the data volumes attached to it. */
export interface ShardMember {
    readonly host: UbuntuHost;
    /** Its data volumes, in its own AZ, protected when args.protectData. */
    readonly volumes: aws.ebs.Volume[];
    readonly attachments: aws.ec2.VolumeAttachment[];
}


/** One physical shard: a primary on its own RAID of EBS volumes and, optionally, a streaming standby on its own. */
export class PostgresShard extends pulumi.ComponentResource {
    readonly primary: ShardMember;
    /** The standby, when args.standby. */
    readonly standby?: ShardMember;

    constructor(name: string, args: PostgresShardArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:postgres:PostgresShard", name, {}, opts);
        const azs = shardAzs(args.physicalShard, args.azCount);
        this.primary = this.member(name, args, "primary", azs.primary);
        if (args.standby) this.standby = this.member(name, args, "standby", azs.standby, this.primary.host.privateIp);
        this.registerOutputs({
            primaryIp: this.primary.host.privateIp,
            standbyIp: this.standby?.host.privateIp,
            volumeIds: this.primary.volumes.map((v) => v.id),
        });
    }

    private member(name: string, args: PostgresShardArgs, kind: "primary" | "standby", azIndex: number, primaryAddress?: pulumi.Output<string>): ShardMember {
        const memberName = `${name}-${kind}`;
        const subnet = args.hosts.subnets[azIndex];
        const volumes = dataVolumes(memberName, {
            availabilityZone: subnet.availabilityZone,
            count: args.volumes,
            sizeGiB: args.volumeGiB,
            protect: args.protectData,
            tags: { Role: "shard", Shard: String(args.physicalShard), Member: kind },
        }, this);

        const roleSpec = pulumi.all([pulumi.all(volumes.map((v) => v.id)), primaryAddress, args.hostTools.url, args.backup.bucket]).apply(([volumeIds, primary, toolsUrl, backupBucket]) => shardRole({
            shard: args.physicalShard,
            kind,
            hostname: memberName,
            hasStandby: args.standby,
            replicationCidrs: args.replicationCidrs,
            ubuntuRelease: args.ubuntuRelease,
            sizing: args.sizing,
            volumeIds,
            raidLevel: args.raidLevel,
            volumeGiB: args.volumeGiB,
            logicalShards: args.logicalShards,
            primaryAddress: primary,
            hostTools: { url: toolsUrl, sha256: args.hostTools.sha256 },
            backup: {
                repository: { kind: "s3", bucket: backupBucket, region: args.backup.region },
                retentionFull: args.backup.retentionFull,
                fullDay: args.backup.fullDay,
                time: args.backup.time,
            },
        }));
        const host = tierHost(args.hosts, {
            hostname: memberName,
            instanceType: args.instanceType,
            azIndex,
            roleSpec,
            // What the policy pack checks the attachments against (shard-raid-volume-count), known at preview.
            tags: {
                Shard: String(args.physicalShard), Member: kind, RaidVolumes: String(volumes.length), RaidLevel: String(args.raidLevel),
                ...(kind === (args.standby ? "standby" : "primary") ? args.snapshotTags : {}),
            },
        }, this);

        return { host, volumes, attachments: attachDataVolumes(memberName, host, volumes, this) };
    }
}
