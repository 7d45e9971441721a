/**
 * What AWS refuses across resources, as its documentation states it: security group rule and interface quotas,
 * subnets inside their VPC, one route table per subnet, tags together with the provider's default tags, ACM
 * certificates in the region their user needs, an Application Load Balancer's subnets in distinct zones.
 *
 * Resources are linked by value (an input equal to another resource's known id or ARN) or, when the plan carries
 * them, by the engine's property dependencies: at preview every ID is unknown, and only the dependencies say
 * which VPC a subnet's vpcId names (PlannedResource's optional fields, which the plan, `pulumi preview --json`
 * and CrossGuard's stack policies carry). What cannot be linked or is unknown is left unchecked: a rule refuses
 * only what it can show.
 */
import { isKnown, Ledger, PlannedResource, Source, StackRule } from "./types";
import { defaultTagsOf, ipv4Prefix, SOURCES as DOCUMENTED } from "./documented";

/** A planned resource with the links a plan carries (the optional fields of PlannedResource). */
export type LinkedResource = PlannedResource;

const doc = (ref: string): Source => ({ family: "documentation", ref });

export const CROSS_SOURCES = {
    vpcQuotas: doc("https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups"),
    createSubnet: DOCUMENTED.createSubnet,
    routeTables: doc("https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html"),
    tags: DOCUMENTED.ec2Tags,
    cloudfrontCertificate: DOCUMENTED.cloudfrontViewerCertificate,
    acmRegions: doc("https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html"),
    lbSubnets: DOCUMENTED.lbSubnets,
} as const;

const T = {
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    defaultSecurityGroup: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    legacyRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    instance: "aws:ec2/instance:Instance",
    networkInterface: "aws:ec2/networkInterface:NetworkInterface",
    vpc: "aws:ec2/vpc:Vpc",
    vpcCidr: "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation",
    subnet: "aws:ec2/subnet:Subnet",
    routeTableAssociation: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    provider: "pulumi:providers:aws",
    certificate: "aws:acm/certificate:Certificate",
    certificateValidation: "aws:acm/certificateValidation:CertificateValidation",
    distribution: "aws:cloudfront/distribution:Distribution",
    listener: "aws:lb/listener:Listener",
    listenerCertificate: "aws:lb/listenerCertificate:ListenerCertificate",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
} as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => isKnown(v) && typeof v === "object" && !Array.isArray(v);
const knownString = (v: unknown): v is string => isKnown(v) && typeof v === "string";
const list = (v: unknown): unknown[] => (isKnown(v) && Array.isArray(v) ? v : []);
const ofType = (resources: readonly PlannedResource[], ...types: string[]) => resources.filter((r) => types.includes(r.type));

/** The known id and ARN of a resource (never its inputs: at preview they are not there). */
function identities(target: PlannedResource): string[] {
    const t = target as LinkedResource;
    return [t.id, t.outputs?.id, t.outputs?.arn].filter(knownString);
}

/** Does input `prop` of `from` (or `value`, a part of it) name `target`: by the property dependencies, or by value? */
export function refersTo(from: PlannedResource, prop: string, target: PlannedResource, value: unknown = from.inputs[prop]): boolean {
    const deps = (from as LinkedResource).propertyDependencies?.[prop];
    if (target.urn !== undefined && deps?.includes(target.urn)) return true;
    const ids = identities(target);
    return [value].flat().filter(knownString).some((v) => ids.includes(v));
}

/** The provider resource a resource names, if the plan says which one. */
function providerOf(r: PlannedResource, resources: readonly PlannedResource[]): PlannedResource | undefined {
    const ref = (r as LinkedResource).provider;
    if (!knownString(ref)) return undefined;
    const urn = ref.slice(0, ref.lastIndexOf("::"));
    return resources.find((p) => p.type === T.provider && p.urn === urn);
}

/** The region a resource is managed in: its own region input, else its provider's. */
function regionOf(r: PlannedResource, resources: readonly PlannedResource[]): string | undefined {
    if (knownString(r.inputs.region)) return r.inputs.region;
    const provider = providerOf(r, resources);
    return provider && knownString(provider.inputs.region) ? provider.inputs.region : undefined;
}

// ---------------------------------------------------------------------------------------------------------

interface RuleCount {
    ipv4: number;
    ipv6: number;
}
const count = (v: unknown): number => list(v).length;

/** What one inline rule of aws.ec2.SecurityGroup adds; a referenced group or prefix list counts in both families. */
function inlineCount(rule: unknown): RuleCount {
    if (!isObj(rule)) return { ipv4: 0, ipv6: 0 };
    const both = count(rule.securityGroups) + count(rule.prefixListIds) + (rule.self === true ? 1 : 0);
    return { ipv4: count(rule.cidrBlocks) + both, ipv6: count(rule.ipv6CidrBlocks) + both };
}

/** What one standalone rule resource adds, and in which direction. */
function standaloneCount(r: PlannedResource): { direction: "ingress" | "egress"; n: RuleCount } | undefined {
    const i = r.inputs;
    if (r.type === T.ingressRule || r.type === T.egressRule) {
        const both = (i.referencedSecurityGroupId !== undefined ? 1 : 0) + (i.prefixListId !== undefined ? 1 : 0);
        return {
            direction: r.type === T.ingressRule ? "ingress" : "egress",
            n: { ipv4: (i.cidrIpv4 !== undefined ? 1 : 0) + both, ipv6: (i.cidrIpv6 !== undefined ? 1 : 0) + both },
        };
    }
    if (r.type === T.legacyRule && (i.type === "ingress" || i.type === "egress")) {
        const both = count(i.prefixListIds) + (i.sourceSecurityGroupId !== undefined ? 1 : 0) + (i.self === true ? 1 : 0);
        return { direction: i.type, n: { ipv4: count(i.cidrBlocks) + both, ipv6: count(i.ipv6CidrBlocks) + both } };
    }
    return undefined;
}

/**
 * "Inbound or outbound rules per security group: 60 ... enforced separately for inbound and outbound rules ...
 * and separately for IPv4 rules and IPv6 rules" (the default quota); a rule that references a security group or
 * a prefix list counts as one rule for IPv4 and one for IPv6. Inline rules and standalone rule resources together.
 * https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups
 */
export const securityGroupRuleQuota: StackRule = (resources, ledger) => {
    const standalone = ofType(resources, T.ingressRule, T.egressRule, T.legacyRule);
    for (const group of ofType(resources, T.securityGroup, T.defaultSecurityGroup)) {
        const totals = { ingress: { ipv4: 0, ipv6: 0 }, egress: { ipv4: 0, ipv6: 0 } };
        for (const direction of ["ingress", "egress"] as const) {
            for (const rule of list(group.inputs[direction])) {
                const n = inlineCount(rule);
                totals[direction].ipv4 += n.ipv4;
                totals[direction].ipv6 += n.ipv6;
            }
        }
        for (const rule of standalone.filter((s) => refersTo(s, "securityGroupId", group))) {
            const c = standaloneCount(rule);
            if (!c) continue;
            totals[c.direction].ipv4 += c.n.ipv4;
            totals[c.direction].ipv6 += c.n.ipv6;
        }
        for (const direction of ["ingress", "egress"] as const) {
            for (const family of ["ipv4", "ipv6"] as const) {
                const n = totals[direction][family];
                const words = `${direction === "ingress" ? "inbound" : "outbound"} ${family === "ipv4" ? "IPv4" : "IPv6"}`;
                ledger.check(n <= 60, group, direction, n, `must have at most 60 ${words} rules (the default quota), inline and standalone together`, CROSS_SOURCES.vpcQuotas);
            }
        }
    }
};

/**
 * "Security groups per network interface: 5" (the default quota). An instance's groups go on its primary
 * network interface. https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups
 */
export const securityGroupsPerInterface: StackRule = (resources, ledger) => {
    for (const r of ofType(resources, T.instance, T.networkInterface)) {
        const keys = r.type === T.instance ? ["vpcSecurityGroupIds", "securityGroups"] : ["securityGroups"];
        const groups = keys.flatMap((k) => list(r.inputs[k]));
        if (groups.length === 0) continue;
        const distinct = new Set(groups.filter(knownString)).size + groups.filter((g) => !knownString(g)).length;
        ledger.check(distinct <= 5, r, keys[0], distinct, "must name at most 5 security groups per network interface (the default quota)", CROSS_SOURCES.vpcQuotas);
    }
};

// ---------------------------------------------------------------------------------------------------------

/** An IPv4 CIDR as [first, last] addresses (as numbers), or undefined. */
function range(cidr: unknown): [number, number] | undefined {
    if (!knownString(cidr)) return undefined;
    const prefix = ipv4Prefix(cidr);
    if (prefix === undefined || prefix > 32) return undefined;
    const octets = cidr.split("/")[0].split(".").map(Number);
    if (octets.some((o) => o > 255)) return undefined;
    const base = ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
    const size = 2 ** (32 - prefix);
    const first = base - (base % size);
    return [first, first + size - 1];
}
const within = (inner: [number, number], outer: [number, number]) => inner[0] >= outer[0] && inner[1] <= outer[1];
const overlaps = (a: [number, number], b: [number, number]) => a[0] <= b[1] && b[0] <= a[1];

/**
 * A subnet's CIDR block is the VPC's or a subset of one of its CIDR blocks, and "A subnet CIDR block must not
 * overlap the CIDR block of an existing subnet in the VPC."
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html
 */
export const subnetsWithinVpc: StackRule = (resources, ledger) => {
    const subnets = ofType(resources, T.subnet);
    for (const vpc of ofType(resources, T.vpc)) {
        const blocks = [vpc.inputs.cidrBlock, ...ofType(resources, T.vpcCidr).filter((a) => refersTo(a, "vpcId", vpc)).map((a) => a.inputs.cidrBlock)];
        const vpcRanges = blocks.map(range);
        const mine = subnets.filter((s) => refersTo(s, "vpcId", vpc));
        for (const subnet of mine) {
            const r = range(subnet.inputs.cidrBlock);
            if (!r) continue;
            // Every VPC block known: the subnet must sit in one of them.
            if (vpcRanges.every((v) => v !== undefined)) {
                ledger.check(vpcRanges.some((v) => within(r, v as [number, number])), subnet, "cidrBlock", subnet.inputs.cidrBlock, `must lie within its VPC's CIDR block${blocks.length > 1 ? "s" : ""} (${blocks.join(", ")})`, CROSS_SOURCES.createSubnet);
            }
            const clash = mine.find((other) => other !== subnet && range(other.inputs.cidrBlock) && overlaps(r, range(other.inputs.cidrBlock) as [number, number]));
            ledger.check(clash === undefined, subnet, "cidrBlock", subnet.inputs.cidrBlock, clash ? `must not overlap another subnet of the VPC (${clash.name} ${String(clash.inputs.cidrBlock)})` : "must not overlap another subnet of the VPC", CROSS_SOURCES.createSubnet);
        }
    }
};

/**
 * "A subnet can be associated with only one route table at a time."
 * https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html
 */
export const oneRouteTablePerSubnet: StackRule = (resources, ledger) => {
    const associations = ofType(resources, T.routeTableAssociation).filter((a) => a.inputs.subnetId !== undefined);
    const seen = new Set<PlannedResource>();
    for (const subnet of ofType(resources, T.subnet)) {
        const mine = associations.filter((a) => refersTo(a, "subnetId", subnet));
        mine.forEach((a) => seen.add(a));
        if (mine.length === 0) continue;
        ledger.check(mine.length <= 1, mine[mine.length - 1], "subnetId", mine.length, `names a subnet (${subnet.name}) that ${mine.length} route table associations name: a subnet has only one route table at a time`, CROSS_SOURCES.routeTables);
    }
    // Subnets outside the stack, named by a known ID.
    const byId = new Map<string, PlannedResource[]>();
    for (const a of associations.filter((x) => !seen.has(x) && knownString(x.inputs.subnetId))) {
        const id = a.inputs.subnetId as string;
        byId.set(id, [...(byId.get(id) ?? []), a]);
    }
    for (const [id, mine] of byId) {
        ledger.check(mine.length <= 1, mine[mine.length - 1], "subnetId", id, `names a subnet that ${mine.length} route table associations name: a subnet has only one route table at a time`, CROSS_SOURCES.routeTables);
    }
};

// ---------------------------------------------------------------------------------------------------------

/**
 * At most 50 user tags per resource, counting the provider's default tags merged into the resource's own (the
 * same key counted once). https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions
 */
export const tagsWithDefaultTags: StackRule = (resources, ledger) => {
    for (const r of resources) {
        if (!r.type.startsWith("aws:") || !isObj(r.inputs.tags)) continue;
        const provider = providerOf(r, resources);
        const defaults = provider ? defaultTagsOf(provider) : undefined;
        if (!defaults) continue;
        const keys = new Set([...Object.keys(r.inputs.tags), ...Object.keys(defaults)]);
        ledger.check(keys.size <= 50, r, "tags", keys.size, `must have at most 50 tags with the provider's ${Object.keys(defaults).length} default tags merged in`, CROSS_SOURCES.tags);
    }
};

// ---------------------------------------------------------------------------------------------------------

/** The region of the ACM certificate an input names: from a known ARN, or from the certificate resource it depends on. */
function certificateRegion(from: PlannedResource, prop: string, value: unknown, resources: readonly PlannedResource[]): string | undefined {
    if (knownString(value) && value.startsWith("arn:")) return value.split(":")[3];
    const cert = ofType(resources, T.certificate, T.certificateValidation).find((c) => refersTo(from, prop, c, value));
    return cert ? regionOf(cert, resources) : undefined;
}

/**
 * CloudFront: "CloudFront only supports ACM certificates in the US East (N. Virginia) Region (us-east-1)."
 * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ViewerCertificate.html
 * Elastic Load Balancing: "Certificates in ACM are regional resources. To use a certificate with Elastic Load
 * Balancing ... in more than one AWS region, you must request or import a certificate for each region."
 * https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html
 */
export const acmCertificateRegion: StackRule = (resources, ledger) => {
    for (const d of ofType(resources, T.distribution)) {
        const vc = d.inputs.viewerCertificate;
        if (!isObj(vc) || vc.acmCertificateArn === undefined) continue;
        const region = certificateRegion(d, "viewerCertificate", vc.acmCertificateArn, resources);
        if (region !== undefined) ledger.check(region === "us-east-1", d, "viewerCertificate.acmCertificateArn", region, "must name an ACM certificate in us-east-1", CROSS_SOURCES.cloudfrontCertificate);
    }
    for (const l of ofType(resources, T.listener, T.listenerCertificate)) {
        const arn = l.inputs.certificateArn;
        if (arn === undefined) continue;
        const region = certificateRegion(l, "certificateArn", arn, resources);
        const own = regionOf(l, resources);
        if (region !== undefined && own !== undefined) {
            ledger.check(region === own, l, "certificateArn", region, `must name an ACM certificate in the load balancer's region (${own})`, CROSS_SOURCES.acmRegions);
        }
    }
};

/**
 * "[Application Load Balancers] You must specify subnets from at least two Availability Zones" and "You can
 * specify only one subnet per Availability Zone." https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
 */
export const loadBalancerSubnetZones: StackRule = (resources, ledger) => {
    for (const lb of ofType(resources, T.loadBalancer)) {
        if ((lb.inputs.loadBalancerType ?? "application") !== "application") continue;
        const subnets = list(lb.inputs.subnets);
        if (subnets.length === 0) continue;
        const named = ofType(resources, T.subnet).filter((s) => refersTo(lb, "subnets", s));
        const zones = named.map((s) => s.inputs.availabilityZone).filter(knownString);
        if (zones.length < 2) continue;
        const distinct = new Set(zones);
        ledger.check(distinct.size === zones.length, lb, "subnets", zones, "must name only one subnet per Availability Zone", CROSS_SOURCES.lbSubnets);
        if (zones.length === subnets.length) ledger.check(distinct.size >= 2, lb, "subnets", zones, "must name subnets in at least two Availability Zones", CROSS_SOURCES.lbSubnets);
    }
};

export const crossResourceRules: StackRule[] = [
    securityGroupRuleQuota,
    securityGroupsPerInterface,
    subnetsWithinVpc,
    oneRouteTablePerSubnet,
    tagsWithDefaultTags,
    acmCertificateRegion,
    loadBalancerSubnetZones,
];

/** Runs every documented cross-resource rule over a plan. */
export async function checkCrossResource(resources: readonly PlannedResource[], ledger: Ledger): Promise<void> {
    for (const rule of crossResourceRules) await rule(resources, ledger);
}
