/**
 * The data volumes of a database host (a shard member or a search host): encrypted gp3 volumes in the host's
 * AZ, created apart from the instance so that a replaced host is handed the same disks, and attached once the
 * instance exists. The role assembles them into an array (cloud-init/scripts/shard-raid.sh).
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { UbuntuHost } from "./host";

/** Device names the volumes are attached as (/dev/sdf onwards); on Nitro they surface as NVMe in any order. */
export function attachmentDevice(index: number): string {
    return `/dev/sd${String.fromCharCode("f".charCodeAt(0) + index)}`;
}

export interface DataVolumeArgs {
    /** The host's AZ: a volume attaches only within its own. */
    readonly availabilityZone: pulumi.Input<string>;
    /** How many: the array's member count. */
    readonly count: number;
    /** Each volume's size. */
    readonly sizeGiB: number;
    /** Protect them from `pulumi destroy` and accidental replacement. */
    readonly protect: boolean;
    /** Told apart by these (Role, Shard, Member...), besides their Name. */
    readonly tags: Readonly<Record<string, string>>;
}

/** `<member>-data-<i>`: before the host, whose user data names their IDs. */
export function dataVolumes(memberName: string, args: DataVolumeArgs, parent: pulumi.Resource): aws.ebs.Volume[] {
    return Array.from({ length: args.count }, (_, v) => new aws.ebs.Volume(`${memberName}-data-${v}`, {
        availabilityZone: args.availabilityZone,
        size: args.sizeGiB,
        type: "gp3",
        encrypted: true,
        tags: { Name: `${memberName}-data-${v}`, ...args.tags },
    }, { parent, protect: args.protect }));
}

export function attachDataVolumes(memberName: string, host: UbuntuHost, volumes: readonly aws.ebs.Volume[], parent: pulumi.Resource): aws.ec2.VolumeAttachment[] {
    return volumes.map((volume, v) => new aws.ec2.VolumeAttachment(`${memberName}-data-${v}`, {
        instanceId: host.instance.id,
        volumeId: volume.id,
        deviceName: attachmentDevice(v),
        // On replacement, stop the old host (clean PostgreSQL shutdown) before its disks move to the new one.
        stopInstanceBeforeDetaching: true,
    }, { parent, deleteBeforeReplace: true }));
}
