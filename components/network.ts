/**
 * The VPC: public subnets for the load balancer and NAT, private subnets for every host, and one security
 * group per role whose rules come from security-rules.ts and reference other groups, never CIDRs.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { privateSubnetCidr, publicSubnetCidr } from "../core/network-plan";
import { GroupRole, groupRules, HOST_ROLES, hostEgressPorts, internetRules } from "../core/security-rules";

export interface NetworkArgs {
    /** The VPC's block (core/network-plan.ts cuts it into the subnets). */
    readonly vpcCidr: string;
    /** How many availability zones to span (the first azCount the region offers without opt-in). */
    readonly azCount: number;
    /** One NAT gateway per AZ (no cross-AZ dependency) or a single one (cheaper, for dev). */
    readonly natPerAz: boolean;
    /** Networks allowed to SSH to hosts; empty means no SSH at all. */
    readonly adminCidrs: readonly string[];
    /** The stack's region: its S3 gateway endpoint is `com.amazonaws.<region>.s3`. */
    readonly region: string;
}

/** The VPC: public and private subnets per AZ, internet and NAT gateways, and one security group per role. */
export class Network extends pulumi.ComponentResource {
    readonly vpc: aws.ec2.Vpc;
    /** The AZs used, by AZ index. */
    readonly azNames: pulumi.Output<string>[];
    /** For the load balancer and NAT gateways, by AZ index. */
    readonly publicSubnets: aws.ec2.Subnet[];
    /** For every host, by AZ index. */
    readonly privateSubnets: aws.ec2.Subnet[];
    /** One group per role; their rules come from core/security-rules.ts and name groups, never CIDRs. */
    readonly securityGroups: Record<GroupRole, aws.ec2.SecurityGroup>;
    /** S3 from the private subnets without the NAT gateways. */
    readonly s3Endpoint: aws.ec2.VpcEndpoint;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:network:Network", name, {}, opts);
        const { vpcCidr, azCount, natPerAz, adminCidrs, region } = args;
        const parent = { parent: this };

        const zones = aws.getAvailabilityZonesOutput(
            { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
            parent,
        ).names.apply((names) => {
            if (names.length < azCount) {
                throw new Error(`instagram:azCount = ${azCount}, but this region offers only ${names.length} availability zones without opt-in`);
            }
            return names.slice(0, azCount);
        });
        this.azNames = Array.from({ length: azCount }, (_, i) => zones.apply((z) => z[i]));

        this.vpc = new aws.ec2.Vpc(name, { cidrBlock: vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: name } }, parent);
        // The default group admits all traffic between its members; nothing here uses it, so it gets no rules.
        new aws.ec2.DefaultSecurityGroup(`${name}-default`, { vpcId: this.vpc.id, tags: { Name: `${name}-default-unused` } }, parent);

        const igw = new aws.ec2.InternetGateway(name, { vpcId: this.vpc.id, tags: { Name: name } }, parent);
        const publicRoutes = new aws.ec2.RouteTable(`${name}-public`, {
            vpcId: this.vpc.id,
            routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
            tags: { Name: `${name}-public` },
        }, parent);

        // No subnet hands out public IPs: the load balancer and NAT gateways bring their own.
        const subnet = (tier: "public" | "private", cidrBlock: string, availabilityZone: pulumi.Output<string>, i: number) =>
            new aws.ec2.Subnet(`${name}-${tier}-${i}`, {
                vpcId: this.vpc.id,
                cidrBlock,
                availabilityZone,
                mapPublicIpOnLaunch: false,
                tags: { Name: `${name}-${tier}-${i}`, Tier: tier },
            }, parent);
        this.publicSubnets = [];
        this.privateSubnets = [];
        const privateRouteTables: aws.ec2.RouteTable[] = [];
        const natGateways: aws.ec2.NatGateway[] = [];
        for (let i = 0; i < azCount; i++) {
            const az = this.azNames[i];
            const pub = subnet("public", publicSubnetCidr(vpcCidr, i), az, i);
            new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: pub.id, routeTableId: publicRoutes.id }, parent);
            this.publicSubnets.push(pub);

            if (natPerAz || i === 0) {
                const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: "vpc", tags: { Name: `${name}-nat-${i}` } }, parent);
                natGateways.push(new aws.ec2.NatGateway(`${name}-nat-${i}`, {
                    allocationId: eip.id,
                    subnetId: pub.id,
                    tags: { Name: `${name}-nat-${i}` },
                }, { parent: this, dependsOn: [igw] }));
            }

            const priv = subnet("private", privateSubnetCidr(vpcCidr, i), az, i);
            const privateRoutes = new aws.ec2.RouteTable(`${name}-private-${i}`, {
                vpcId: this.vpc.id,
                routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: natGateways[natPerAz ? i : 0].id }],
                tags: { Name: `${name}-private-${i}` },
            }, parent);
            new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: priv.id, routeTableId: privateRoutes.id }, parent);
            privateRouteTables.push(privateRoutes);
            this.privateSubnets.push(priv);
        }
        // The hosts' S3 traffic (WAL and backups, Redis dumps, releases, host tools) stays off the NAT gateways,
        // which bill each GB they process; a gateway endpoint has no charge. Its routes (to S3's prefix list) are
        // its own: the route tables' inline routes leave them alone (the provider skips vpce- routes). Its
        // policy is AWS's default (any S3 call the host's role allows): the roles, not the endpoint, confine
        // each host, and a narrower endpoint policy would also cut off AWS's own buckets (SSM agent updates).
        this.s3Endpoint = new aws.ec2.VpcEndpoint(`${name}-s3`, {
            vpcId: this.vpc.id,
            serviceName: `com.amazonaws.${region}.s3`,
            vpcEndpointType: "Gateway",
            routeTableIds: privateRouteTables.map((t) => t.id),
            tags: { Name: `${name}-s3` },
        }, parent);

        const roles: GroupRole[] = ["lb", ...HOST_ROLES];
        this.securityGroups = Object.fromEntries(
            roles.map((role) => [
                role,
                new aws.ec2.SecurityGroup(`${name}-${role}`, {
                    vpcId: this.vpc.id,
                    description: role === "lb" ? "Application load balancer" : `${role} hosts`,
                    revokeRulesOnDelete: true,
                    tags: { Name: `${name}-${role}`, Role: role },
                }, parent),
            ]),
        ) as Record<GroupRole, aws.ec2.SecurityGroup>;
        const sg = this.securityGroups;

        for (const rule of groupRules()) {
            const id = `${name}-${rule.from}-to-${rule.to}-${rule.port}`;
            new aws.vpc.SecurityGroupIngressRule(id, {
                securityGroupId: sg[rule.to].id,
                referencedSecurityGroupId: sg[rule.from].id,
                ipProtocol: "tcp",
                fromPort: rule.port,
                toPort: rule.port,
                description: rule.description,
            }, parent);
            new aws.vpc.SecurityGroupEgressRule(`${id}-out`, {
                securityGroupId: sg[rule.from].id,
                referencedSecurityGroupId: sg[rule.to].id,
                ipProtocol: "tcp",
                fromPort: rule.port,
                toPort: rule.port,
                description: rule.description,
            }, parent);
        }
        internetRules(adminCidrs).forEach((rule, i) => {
            new aws.vpc.SecurityGroupIngressRule(`${name}-internet-to-${rule.to}-${rule.port}-${i}`, {
                securityGroupId: sg[rule.to].id,
                cidrIpv4: rule.cidr,
                ipProtocol: "tcp",
                fromPort: rule.port,
                toPort: rule.port,
                description: rule.description,
            }, parent);
        });
        for (const role of HOST_ROLES) {
            for (const { port, description } of hostEgressPorts()) {
                new aws.vpc.SecurityGroupEgressRule(`${name}-${role}-to-internet-${port}`, {
                    securityGroupId: sg[role].id,
                    cidrIpv4: "0.0.0.0/0",
                    ipProtocol: "tcp",
                    fromPort: port,
                    toPort: port,
                    description,
                }, parent);
            }
        }

        this.registerOutputs({
            vpcId: this.vpc.id,
            publicSubnetIds: this.publicSubnets.map((s) => s.id),
            privateSubnetIds: this.privateSubnets.map((s) => s.id),
        });
    }
}
