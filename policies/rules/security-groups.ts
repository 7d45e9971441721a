/** Rules for security groups and their rules: descriptions, and nothing but the web ports open to the world. */
import * as aws from "@pulumi/aws";
import { ResourceValidationPolicy } from "@pulumi/policy";
import { problem, SENSITIVE_PORTS, WORLD_CIDRS } from "./common";

export interface IngressLike {
    protocol?: string;
    fromPort?: number;
    toPort?: number;
    cidrs: string[];
}

/** Why a world-open ingress is not allowed, or undefined if it is (TCP 80 or 443 only). */
export function publicIngressProblem(rule: IngressLike): string | undefined {
    const world = rule.cidrs.filter((c) => WORLD_CIDRS.includes(c));
    if (world.length === 0) return undefined;
    const protocol = String(rule.protocol ?? "tcp").toLowerCase();
    const allPorts = protocol === "-1" || protocol === "all" || rule.fromPort === undefined || (rule.fromPort <= 0 && (rule.toPort ?? 65535) >= 65535);
    if (allPorts) return `opens every port to ${world.join(", ")}`;
    const from = rule.fromPort!;
    const to = rule.toPort ?? from;
    if (protocol === "tcp" && from === to && (from === 80 || from === 443)) return undefined;
    const exposed = Object.entries(SENSITIVE_PORTS).filter(([p]) => Number(p) >= from && Number(p) <= to).map(([p, name]) => `${name} ${p}`);
    const range = from === to ? `port ${from}` : `ports ${from}-${to}`;
    return `opens ${protocol} ${range}${exposed.length ? ` (${exposed.join(", ")})` : ""} to ${world.join(", ")}`;
}

const DEFAULT_DESCRIPTION = "Managed by Pulumi";

export const securityGroupDescriptions: ResourceValidationPolicy = {
    name: "security-group-descriptions",
    description: "Security groups and every rule say what they are for (Checkov CKV_AWS_23; Trivy aws-ec2-add-description-to-security-group, -rule).",
    enforcementLevel: "advisory",
    validateResource: (args, report) => {
        const sg = args.asType(aws.ec2.SecurityGroup);
        if (sg) {
            if (!sg.description || sg.description === DEFAULT_DESCRIPTION) report(problem(args.name, "description", "is missing or the provider's default", "describe what the group admits"));
            [...(sg.ingress ?? []), ...(sg.egress ?? [])].forEach((r, i) => {
                if (!r.description) report(problem(args.name, `inline rule ${i} description`, "is missing", "describe each rule"));
            });
            return;
        }
        const rule = args.asType(aws.vpc.SecurityGroupIngressRule) ?? args.asType(aws.vpc.SecurityGroupEgressRule) ?? args.asType(aws.ec2.SecurityGroupRule);
        if (rule && !rule.description) report(problem(args.name, "description", "is missing", "say which tier talks to which, and why"));
    },
};

export const noPublicIngress: ResourceValidationPolicy = {
    name: "no-public-ingress",
    description: "Nothing is open to 0.0.0.0/0 or ::/0 but TCP 80 and 443 (the load balancer's); covers SSH 22, RDP 3389, all ports and this stack's 5432, 6432, 6379, 11211, 4949 (Checkov CKV_AWS_24, CKV_AWS_25, CKV_AWS_260, CKV_AWS_277; Trivy aws-ec2-no-public-ingress-sgr; KICS sensitive port exposure).",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const fix = "admit traffic from another security group of the stack (or your admin network), never the world";
        const ingressRule = args.asType(aws.vpc.SecurityGroupIngressRule);
        if (ingressRule) {
            const why = publicIngressProblem({ protocol: ingressRule.ipProtocol, fromPort: ingressRule.fromPort, toPort: ingressRule.toPort, cidrs: [ingressRule.cidrIpv4, ingressRule.cidrIpv6].filter((c): c is string => !!c) });
            if (why) report(problem(args.name, "cidrIpv4/cidrIpv6", why, fix));
            return;
        }
        const legacy = args.asType(aws.ec2.SecurityGroupRule);
        if (legacy && legacy.type === "ingress") {
            const why = publicIngressProblem({ protocol: legacy.protocol, fromPort: legacy.fromPort, toPort: legacy.toPort, cidrs: [...(legacy.cidrBlocks ?? []), ...(legacy.ipv6CidrBlocks ?? [])] });
            if (why) report(problem(args.name, "cidrBlocks", why, fix));
            return;
        }
        const sg = args.asType(aws.ec2.SecurityGroup);
        (sg?.ingress ?? []).forEach((r, i) => {
            const why = publicIngressProblem({ protocol: r.protocol, fromPort: r.fromPort, toPort: r.toPort, cidrs: [...(r.cidrBlocks ?? []), ...(r.ipv6CidrBlocks ?? [])] });
            if (why) report(problem(args.name, `ingress[${i}]`, why, fix));
        });
    },
};

export const securityGroupPolicies = [securityGroupDescriptions, noPublicIngress];
