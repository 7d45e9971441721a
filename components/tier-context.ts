/** What every tier component needs from the stack to make its hosts. */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { hostUserData } from "../cloud-init/host-user-data";
import { RoleSpec } from "../cloud-init/role";
import { HostIdentity, UbuntuHost } from "./host";
import { HostRole } from "../core/security-rules";

export interface TierContext {
    readonly stackName: string;
    /** The Ubuntu AMI for an instance type (by its CPU architecture). */
    readonly amiFor: (instanceType: string) => pulumi.Output<string>;
    readonly muninMasterIp: string;
    readonly privateSubnets: readonly aws.ec2.Subnet[];
    readonly securityGroups: Readonly<Record<HostRole, aws.ec2.SecurityGroup>>;
    readonly identities: Readonly<Record<HostRole, HostIdentity>>;
}

export interface TierHostArgs {
    readonly role: HostRole;
    readonly hostname: string;
    readonly instanceType: string;
    readonly azIndex: number;
    /** The tier's RoleSpec, once the addresses it needs are known. */
    readonly roleSpec: pulumi.Input<RoleSpec>;
    readonly rootVolumeGiB?: number;
    readonly privateIp?: string;
    readonly tags?: Record<string, string>;
    /** Resources the host waits for (a rollout's previous batch). */
    readonly dependsOn?: pulumi.Resource[];
}

/** A host of a tier: its role rendered with the common role into user data, in its AZ's private subnet. */
export function tierHost(ctx: TierContext, args: TierHostArgs, parent: pulumi.Resource): UbuntuHost {
    const identity = { stack: ctx.stackName, role: args.role, hostname: args.hostname, muninMasterIp: ctx.muninMasterIp };
    return new UbuntuHost(args.hostname, {
        role: args.role,
        hostname: args.hostname,
        ami: ctx.amiFor(args.instanceType),
        instanceType: args.instanceType,
        subnetId: ctx.privateSubnets[args.azIndex].id,
        securityGroupIds: [ctx.securityGroups[args.role].id],
        identity: ctx.identities[args.role],
        userData: pulumi.output(args.roleSpec).apply((spec) => hostUserData(identity, spec as RoleSpec)),
        rootVolumeGiB: args.rootVolumeGiB,
        privateIp: args.privateIp,
        tags: args.tags,
    }, { parent, dependsOn: args.dependsOn });
}
