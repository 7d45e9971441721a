/**
 * The architecture as the program declares it, read from the offline plan's resource graph: the hosts of
 * each tier by availability zone, the flows their security groups allow (one per ingress rule, with its
 * ports), the way out through the NAT gateways, and the edge: DNS, the load balancer, the CDN and the
 * buckets, joined as the resources reference each other. Pure; tools/diagram/render.ts draws it.
 */
import { RecordedResource } from "../offline/runtime";
import { subnetAz } from "../offline/tiers";

export interface Host {
    readonly name: string;
    readonly tier: string;
    readonly instanceType: string;
    /** 1-based: the AZ of the host's subnet in the network's order (the AZ's name is AWS's, known only after `pulumi up`). */
    readonly az: number;
}

export type Endpoint = { readonly kind: "tier"; readonly tier: string } | { readonly kind: "node"; readonly id: string };

export interface Flow {
    readonly from: Endpoint;
    readonly to: Endpoint;
    readonly label: string;
    /** An allowed flow (an ingress rule) or a reference between resources (an alias, an origin, a log target). */
    readonly kind: "allowed" | "outbound" | "reference";
    /** The resource the flow comes from (a security group rule's name, or the referencing resource). */
    readonly source: string;
}

export interface ServiceNode {
    readonly id: string;
    readonly label: string;
    readonly kind: "internet" | "dns" | "lb" | "cdn" | "bucket" | "nat";
}

export interface Architecture {
    readonly stack: string;
    readonly hosts: readonly Host[];
    /** Tiers in the order the program declares their hosts. */
    readonly tiers: readonly string[];
    readonly services: readonly ServiceNode[];
    readonly flows: readonly Flow[];
    /** Ingress rules not drawn because a side has no hosts in this stack (a worker tier of 0 hosts). */
    readonly omittedRules: readonly string[];
}

const TYPES = {
    instance: "aws:ec2/instance:Instance",
    subnet: "aws:ec2/subnet:Subnet",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    lb: "aws:lb/loadBalancer:LoadBalancer",
    cdn: "aws:cloudfront/distribution:Distribution",
    bucket: "aws:s3/bucket:Bucket",
    record: "aws:route53/record:Record",
    nat: "aws:ec2/natGateway:NatGateway",
} as const;

const ports = (i: Record<string, unknown>) => (i.fromPort === i.toPort ? `${i.fromPort}` : `${i.fromPort}-${i.toPort}`);

export function architecture(stack: string, resources: readonly RecordedResource[]): Architecture {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const ofType = (type: string) => resources.filter((r) => r.type === type);
    const depsOf = (r: RecordedResource, property?: string) =>
        (property ? r.propertyDependencies[property] ?? [] : r.dependencies).map((u) => byUrn.get(u)).filter((x): x is RecordedResource => x !== undefined);

    const hosts: Host[] = ofType(TYPES.instance).map((r) => ({
        name: r.name,
        tier: String(r.inputs.tags?.Role ?? "host"),
        instanceType: String(r.inputs.instanceType),
        az: subnetAz(depsOf(r, "subnetId").find((s) => s.type === TYPES.subnet)),
    }));
    const tiers = [...new Set(hosts.map((h) => h.tier))];
    const groupTier = new Map(ofType(TYPES.securityGroup).map((g) => [g.urn, String(g.inputs.tags?.Role ?? g.name)]));

    const services: ServiceNode[] = [];
    const flows: Flow[] = [];
    const omittedRules: string[] = [];
    const service = (id: string, label: string, kind: ServiceNode["kind"]) => {
        if (!services.some((s) => s.id === id)) services.push({ id, label, kind });
        return { kind: "node", id } as const;
    };
    const lbTier = "lb";
    const endpointOfGroup = (urns: readonly string[] | undefined): Endpoint | undefined => {
        const tier = urns?.map((u) => groupTier.get(u)).find(Boolean);
        if (!tier) return undefined;
        if (tier === lbTier) return { kind: "node", id: "lb" };
        return tiers.includes(tier) ? { kind: "tier", tier } : undefined;
    };

    for (const lb of ofType(TYPES.lb)) service("lb", `${lb.name}: application load balancer${lb.inputs.internal ? " (internal)" : ""}, TLS ends here`, "lb");
    for (const cdn of ofType(TYPES.cdn)) service("cdn", `${cdn.name}: CloudFront ${(cdn.inputs.aliases ?? []).join(", ")}`, "cdn");

    for (const rule of ofType(TYPES.ingress)) {
        const to = endpointOfGroup(rule.propertyDependencies.securityGroupId);
        const from = typeof rule.inputs.cidrIpv4 === "string" ? service("internet", `internet (${rule.inputs.cidrIpv4})`, "internet") : endpointOfGroup(rule.propertyDependencies.referencedSecurityGroupId);
        if (!to || !from) { omittedRules.push(rule.name); continue; }
        const label = `${rule.inputs.ipProtocol === "-1" ? "all" : `${rule.inputs.ipProtocol}/`}${ports(rule.inputs)}`;
        flows.push({ from, to, label, kind: "allowed", source: rule.name });
    }

    // The way out: NAT gateways, and the tiers whose security groups may reach the internet through them.
    const nats = ofType(TYPES.nat);
    if (nats.length > 0) {
        service("nat", `NAT gateways (${nats.length}, one per AZ)`, "nat");
        const out = new Map<string, string[]>();
        for (const rule of ofType(TYPES.egress)) {
            if (typeof rule.inputs.cidrIpv4 !== "string") continue;
            const from = endpointOfGroup(rule.propertyDependencies.securityGroupId);
            if (!from || from.kind !== "tier") continue;
            out.set(from.tier, [...(out.get(from.tier) ?? []), ports(rule.inputs)]);
        }
        for (const [tier, list] of out) flows.push({ from: { kind: "tier", tier }, to: { kind: "node", id: "nat" }, label: `out ${[...new Set(list)].sort((a, b) => Number(a) - Number(b)).join(", ")}`, kind: "outbound", source: `${tier} egress` });
        service("outside", "internet: package mirrors, AWS APIs, push and share services", "internet");
        flows.push({ from: { kind: "node", id: "nat" }, to: { kind: "node", id: "outside" }, label: "", kind: "outbound", source: nats.map((n) => n.name).join(", ") });
    }

    // References: DNS aliases, the CDN's origin and logs, the load balancer's logs, buckets the hosts are given.
    const bucketNode = (b: RecordedResource) => {
        const purpose = b.inputs.tags?.Purpose;
        return service(`bucket:${b.name}`, `s3: ${b.name}${purpose && purpose !== b.name ? ` (${purpose})` : ""}`, "bucket");
    };
    for (const record of ofType(TYPES.record)) {
        if (!Array.isArray(record.inputs.aliases)) continue;
        const target = depsOf(record, "aliases").find((t) => t.type === TYPES.lb || t.type === TYPES.cdn);
        if (!target) continue;
        const dns = service("dns", "Route53", "dns");
        flows.push({ from: dns, to: { kind: "node", id: target.type === TYPES.lb ? "lb" : "cdn" }, label: `${record.inputs.name} (alias)`, kind: "reference", source: record.name });
    }
    for (const cdn of ofType(TYPES.cdn)) {
        flows.push({ from: service("viewers", "viewers (internet)", "internet"), to: { kind: "node", id: "cdn" }, label: "https (photos)", kind: "reference", source: cdn.name });
        for (const b of depsOf(cdn, "origins").filter((x) => x.type === TYPES.bucket)) flows.push({ from: { kind: "node", id: "cdn" }, to: bucketNode(b), label: "origin (OAC)", kind: "reference", source: cdn.name });
        for (const b of depsOf(cdn, "loggingConfig").filter((x) => x.type === TYPES.bucket)) flows.push({ from: { kind: "node", id: "cdn" }, to: bucketNode(b), label: "access logs", kind: "reference", source: cdn.name });
    }
    for (const lb of ofType(TYPES.lb)) {
        for (const b of depsOf(lb, "accessLogs").filter((x) => x.type === TYPES.bucket)) flows.push({ from: { kind: "node", id: "lb" }, to: bucketNode(b), label: "access logs", kind: "reference", source: lb.name });
    }
    const seen = new Set<string>();
    for (const r of ofType(TYPES.instance)) {
        const tier = String(r.inputs.tags?.Role ?? "host");
        for (const b of depsOf(r).filter((x) => x.type === TYPES.bucket)) {
            if (seen.has(`${tier}\0${b.name}`)) continue;
            seen.add(`${tier}\0${b.name}`);
            flows.push({ from: { kind: "tier", tier }, to: bucketNode(b), label: "S3 API (instance role)", kind: "reference", source: r.name });
        }
    }
    return { stack, hosts, tiers, services, flows, omittedRules };
}
