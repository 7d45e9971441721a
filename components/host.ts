/**
 * The one way this stack makes an EC2 host (UbuntuHost), and the IAM identity a tier's hosts share
 * (HostIdentity). Every host gets the same hardening: IMDSv2 only with a hop limit of 1, an encrypted gp3
 * root volume, detailed monitoring, no public IP, SSM access instead of SSH keys.
 */
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { RoleSpec, USER_DATA_LIMIT_BYTES } from "../cloud-init/role";
import { hostUserData } from "../cloud-init/host-user-data";
import { HostRole } from "../core/security-rules";
import { spreadAz } from "../core/network-plan";

export interface PolicyStatement {
    readonly Sid?: string;
    readonly Effect: "Allow" | "Deny";
    readonly Action: string | string[];
    readonly Resource?: pulumi.Input<string> | pulumi.Input<string>[];
    /** Everything but these (a Deny that fences a grant made elsewhere). */
    readonly NotResource?: pulumi.Input<string> | pulumi.Input<string>[];
    readonly Condition?: unknown;
}

/** The SSM reads of parameter values; AmazonSSMManagedInstanceCore allows the first two on every parameter. */
const PARAMETER_READS = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory"];

/**
 * A Deny that keeps a tier to the parameters its own statements name. The managed policy every host needs for
 * SSM (AmazonSSMManagedInstanceCore) allows ssm:GetParameter(s) on "*", and SecureStrings under the default
 * aws/ssm key decrypt for any caller in the account, so without this any host could read every tier's secrets
 * and every other stack's (test/policies/host-calls-iam.test.ts evaluates both with the managed policy).
 */
export function parameterReadFence(statements: readonly PolicyStatement[]): PolicyStatement {
    const own = statements
        .filter((s) => s.Effect === "Allow" && [s.Action].flat().some((a) => PARAMETER_READS.includes(a)))
        .flatMap((s) => [s.Resource ?? []].flat());
    return own.length > 0
        ? { Sid: "OnlyOwnParameters", Effect: "Deny", Action: PARAMETER_READS, NotResource: own }
        : { Sid: "NoParameters", Effect: "Deny", Action: PARAMETER_READS, Resource: "*" };
}

export interface HostIdentityArgs {
    /** The tier these hosts serve, e.g. "app". */
    readonly role: string;
    /** What the tier may do beyond SSM management; every statement names its resources. */
    readonly statements: PolicyStatement[];
}

/**
 * The IAM role and instance profile a tier's hosts share: SSM management plus that tier's own statements, and
 * a fence that keeps SSM management's parameter reads to the tier's own parameters.
 */
export class HostIdentity extends pulumi.ComponentResource {
    readonly role: aws.iam.Role;
    /** What the tier's instances are launched with. */
    readonly instanceProfile: aws.iam.InstanceProfile;

    constructor(name: string, args: HostIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:host:HostIdentity", name, {}, opts);
        const tags = { Role: args.role };
        this.role = new aws.iam.Role(
            name,
            {
                description: `Instance role of the ${args.role} hosts of stack ${pulumi.getStack()}`,
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
                }),
                tags,
            },
            { parent: this },
        );
        new aws.iam.RolePolicyAttachment(
            `${name}-ssm-core`,
            { role: this.role.name, policyArn: aws.iam.ManagedPolicy.AmazonSSMManagedInstanceCore },
            { parent: this },
        );
        new aws.iam.RolePolicy(
            `${name}-tier`,
            { role: this.role.id, policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: [...args.statements, parameterReadFence(args.statements)] }) },
            { parent: this },
        );
        this.instanceProfile = new aws.iam.InstanceProfile(name, { role: this.role.name, tags }, { parent: this });
        this.registerOutputs({ roleArn: this.role.arn, instanceProfile: this.instanceProfile.name });
    }
}

export interface UbuntuHostArgs {
    /** The tier, in the Role tag (the policy pack and security rules key on it). */
    readonly role: string;
    /** The host's name and Name tag. */
    readonly hostname: string;
    /** Canonical's Ubuntu AMI; a newer one applies only when the host is next replaced. */
    readonly ami: pulumi.Input<string>;
    /** A type of a family core/instance-types.ts knows. */
    readonly instanceType: string;
    /** A private subnet. */
    readonly subnetId: pulumi.Input<string>;
    /** The tier's security group(s). */
    readonly securityGroupIds: pulumi.Input<string>[];
    /** The tier's instance profile. */
    readonly identity: HostIdentity;
    /** #cloud-config text; gzipped into userDataBase64 when over EC2's 16 KiB limit. */
    readonly userData: pulumi.Input<string>;
    /** Size of the encrypted gp3 root volume; 30 GiB unless set. */
    readonly rootVolumeGiB?: number;
    /** A fixed private address, for the one host others must know before it exists (the Munin master). */
    readonly privateIp?: string;
    /** Tags beyond Name/Role/Stack (a shard host's Shard and Member, which policies read). */
    readonly tags?: Record<string, string>;
}

/** EC2 user data as the Instance resource takes it: plain when small enough, gzipped and base64 otherwise. */
export function encodeUserData(text: string): { userData?: string; userDataBase64?: string } {
    if (Buffer.byteLength(text, "utf8") <= USER_DATA_LIMIT_BYTES) return { userData: text };
    const gz = zlib.gzipSync(Buffer.from(text, "utf8"), { level: 9 });
    if (gz.length > USER_DATA_LIMIT_BYTES) {
        throw new Error(`user data is ${gz.length} bytes even gzipped; EC2 accepts at most ${USER_DATA_LIMIT_BYTES}`);
    }
    return { userDataBase64: gz.toString("base64") };
}

/** One hardened EC2 host that configures itself from its user data at first boot (IMDSv2 only, encrypted root, no public IP). */
export class UbuntuHost extends pulumi.ComponentResource {
    readonly instance: aws.ec2.Instance;
    /** Its name, tier and type, as given (the alarms of core/alerting.ts are made from them). */
    readonly hostname: string;
    readonly role: string;
    readonly instanceType: string;
    /** The address other tiers reach it at. */
    readonly privateIp: pulumi.Output<string>;
    readonly availabilityZone: pulumi.Output<string>;

    constructor(name: string, args: UbuntuHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:host:UbuntuHost", name, {}, opts);
        this.hostname = args.hostname;
        this.role = args.role;
        this.instanceType = args.instanceType;
        const encoded = pulumi.output(args.userData).apply(encodeUserData);
        this.instance = new aws.ec2.Instance(
            name,
            {
                ami: args.ami,
                instanceType: args.instanceType,
                subnetId: args.subnetId,
                vpcSecurityGroupIds: args.securityGroupIds,
                iamInstanceProfile: args.identity.instanceProfile.name,
                associatePublicIpAddress: false,
                privateIp: args.privateIp,
                monitoring: true,
                ebsOptimized: true,
                metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
                rootBlockDevice: {
                    volumeType: "gp3",
                    volumeSize: args.rootVolumeGiB ?? 30,
                    encrypted: true,
                    deleteOnTermination: true,
                    tags: { Name: `${args.hostname}-root`, Role: args.role },
                },
                userData: encoded.apply((e) => e.userData),
                userDataBase64: encoded.apply((e) => e.userDataBase64),
                // A host is only ever configured at first boot, so new user data means a new host.
                userDataReplaceOnChange: true,
                tags: { ...args.tags, Name: args.hostname, Role: args.role },
            },
            {
                parent: this,
                // Children do not inherit a component's dependsOn; the instance is what must wait.
                dependsOn: opts?.dependsOn,
                // A newer Ubuntu AMI applies when a host is next replaced, not by replacing every host at once.
                ignoreChanges: ["ami"],
                // A fixed address cannot be held by the old and new instance at once.
                deleteBeforeReplace: args.privateIp !== undefined,
            },
        );
        this.privateIp = this.instance.privateIp;
        this.availabilityZone = this.instance.availabilityZone;
        this.registerOutputs({ instanceId: this.instance.id, privateIp: this.privateIp });
    }
}

/** Where a tier's hosts go and what they run as: what the stack hands each tier component. */
export interface TierPlacement {
    /** The tier, as in its hosts' Role tag, security group and IAM role. */
    readonly role: HostRole;
    /** The private subnet of each AZ, by AZ index. */
    readonly subnets: readonly aws.ec2.Subnet[];
    /** The tier's security group (its rules come from core/security-rules.ts). */
    readonly securityGroup: aws.ec2.SecurityGroup;
    /** The tier's instance profile: SSM plus only this tier's secrets and buckets. */
    readonly identity: HostIdentity;
    /** The Ubuntu AMI for an instance type (by its CPU architecture). */
    readonly amiFor: (instanceType: string) => pulumi.Output<string>;
    /** The Munin master's fixed address, which every host's munin-node admits. */
    readonly muninMasterIp: string;
}

/** One host of a tier, as its component describes it. */
export interface TierHostArgs {
    /** The host's name, e.g. shard-0-primary. */
    readonly hostname: string;
    /** A type of a family core/instance-types.ts knows. */
    readonly instanceType: string;
    /** Index into the placement's subnets. */
    readonly azIndex: number;
    /** The tier's RoleSpec, or its Output once the addresses it needs are known. */
    readonly roleSpec: RoleSpec | pulumi.Output<RoleSpec>;
    /** Size of the root volume; 30 GiB unless set. */
    readonly rootVolumeGiB?: number;
    /** A fixed private address (the Munin master). */
    readonly privateIp?: string;
    /** Tags beyond Name and Role. */
    readonly tags?: Record<string, string>;
    /** Resources the host waits for (a rollout's previous batch). */
    readonly dependsOn?: pulumi.Resource[];
}

/** A host of a tier: its role rendered with the common role into user data, in its AZ's private subnet. */
export function tierHost(placement: TierPlacement, args: TierHostArgs, parent: pulumi.Resource): UbuntuHost {
    const identity = { stack: pulumi.getStack(), role: placement.role, hostname: args.hostname, muninMasterIp: placement.muninMasterIp };
    const render = (spec: RoleSpec) => hostUserData(identity, spec);
    return new UbuntuHost(args.hostname, {
        role: placement.role,
        hostname: args.hostname,
        ami: placement.amiFor(args.instanceType),
        instanceType: args.instanceType,
        subnetId: placement.subnets[args.azIndex].id,
        securityGroupIds: [placement.securityGroup.id],
        identity: placement.identity,
        userData: pulumi.Output.isInstance(args.roleSpec) ? args.roleSpec.apply(render) : render(args.roleSpec),
        rootVolumeGiB: args.rootVolumeGiB,
        privateIp: args.privateIp,
        tags: args.tags,
    }, { parent, dependsOn: args.dependsOn });
}

/** `count` interchangeable hosts of one tier, named `<name>-<i>`, spread round-robin over `azCount` AZs. */
export function spreadHosts(placement: TierPlacement, tier: { name: string; count: number; instanceType: string; azCount: number; roleSpec: TierHostArgs["roleSpec"] }, parent: pulumi.Resource): UbuntuHost[] {
    return Array.from({ length: tier.count }, (_, i) => tierHost(placement, {
        hostname: `${tier.name}-${i}`,
        instanceType: tier.instanceType,
        azIndex: spreadAz(i, tier.azCount),
        roleSpec: tier.roleSpec,
    }, parent));
}
