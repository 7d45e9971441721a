/**
 * What a plan needs of the account's quotas, read from its resources alone (pure: no AWS, no files): vCPUs of
 * On-Demand instances, EBS storage by volume type, Elastic IPs, NAT gateways per AZ, security group rules,
 * security groups, VPCs, internet gateways, and Parameter Store reads.
 *
 * The peak of a release. A new app release changes the user data of every host that runs it, and user data
 * changes replace a host (userDataReplaceOnChange). Which hosts: those whose user data depends (the engine's
 * property dependencies of userData / userDataBase64) on the release's own resources (the build and the upload
 * under the AppRelease component), and then on any host replaced before them (its new private address changes
 * their user data: the Munin master lists every node). How: new before old, unless the host keeps a fixed
 * private address (AWS cannot give the same address to two instances, so the old one goes first). When:
 * Pulumi deletes the hosts it replaced new-before-old only at the end of the update, after every create
 * (pulumi/pulumi#9979), and the app tier's batches (instagram:appRolloutBatch) only order the new hosts' boots,
 * so at the end of a release every replaced host runs twice: old and new, with both root volumes.
 */
import { SHARD_DIRECTORY_SYNC_INTERVAL_S } from "../../core/app-contract";
import { instanceSpec } from "../../core/instance-types";
import { SECRET_NAMES, PROVIDED_SECRETS, SECRET_READERS, SecretName, secretParameterName } from "../../core/secrets";
import { isKnown } from "../../policies/rules/acceptance/types";

/** A plan's resource as the quota check reads it: a plan's, a run's, or `pulumi preview --json`'s. */
export interface PlanResource {
    readonly type: string;
    readonly name: string;
    readonly urn?: string;
    readonly inputs: Readonly<Record<string, unknown>>;
    /** URNs each input depends on. */
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
    /** URNs the resource depends on: its inputs' and its explicit dependsOn. */
    readonly dependencies?: readonly string[];
}

/** How a release replaces a host: not at all, new before old, or old first. */
export type Replacement = "none" | "new-before-old" | "old-first";

export interface HostNeed {
    readonly name: string;
    readonly role?: string;
    readonly instanceType: string;
    /** Undefined for a type core/instance-types.ts does not know. */
    readonly vcpus?: number;
    readonly rootGiB?: number;
    readonly rootType?: string;
    readonly onRelease: Replacement;
    /** Parameter Store reads at boot: the secrets its tier may read (at most) and the parameters its user data names. */
    readonly bootReads: number;
    /** Re-reads a parameter its user data names every pollIntervalS (the shard directory sync). */
    readonly polls: boolean;
    /** Boots as soon as a release starts: it waits for no deploy-time check (a previous rollout batch). */
    readonly firstWave: boolean;
}

export interface SecurityGroupRules {
    readonly group: string;
    readonly direction: "inbound" | "outbound";
    readonly ipv4: number;
    readonly ipv6: number;
    /** Rules naming a prefix list: each counts as the list's maximum entries, unknown here. */
    readonly prefixLists: number;
}

export interface StackNeeds {
    readonly hosts: readonly HostNeed[];
    /** The release's own resources the replacements follow from (names); empty when the release is pinned. */
    readonly releaseSeeds: readonly string[];
    /** GiB of EBS by volume type, running and added at a release's peak (the new hosts' root volumes). */
    readonly storageGiB: Readonly<Record<string, { readonly running: number; readonly releaseExtra: number }>>;
    /** Volumes whose size or type the plan does not know. */
    readonly unsizedVolumes: readonly string[];
    readonly elasticIps: number;
    /** NAT gateways by AZ (the subnet's AZ, or "AZ k" from the network's subnet names). */
    readonly natGatewaysByAz: Readonly<Record<string, number>>;
    readonly securityGroupRules: readonly SecurityGroupRules[];
    /** Security groups the plan creates, plus each new VPC's own default group. */
    readonly securityGroups: number;
    readonly vpcs: number;
    readonly internetGateways: number;
    readonly gatewayEndpoints: number;
    readonly ssm: {
        /** Parameters re-read by polling hosts, and how often. */
        readonly pollIntervalS: number;
        /** Calls if every host of a first deploy reads its parameters at boot in the same second. */
        readonly bootReadsFirstDeploy: number;
        /** The same for the hosts a release boots first (before any deploy-time wait). */
        readonly bootReadsReleaseWave: number;
    };
}

const INSTANCE = "aws:ec2/instance:Instance";
const PARAMETER = "aws:ssm/parameter:Parameter";
const WAIT_COMMAND = "command:local:Command";
const RELEASE_COMPONENT = "instagram:app:AppRelease";
const PRIVATE_BUCKET = "instagram:storage:PrivateBucket";

const str = (v: unknown): string | undefined => (typeof v === "string" && isKnown(v) ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const nameOfUrn = (urn: string): string => urn.split("::").pop() ?? urn;

/** The type chain of a URN (`parent$...$type`), split. */
function typeChain(urn: string | undefined): string[] {
    const parts = urn?.split("::") ?? [];
    return parts.length >= 4 ? parts[parts.length - 2].split("$") : [];
}

/** The stack a plan's URNs name (urn:pulumi:STACK::project::...). */
export function stackOfPlan(resources: readonly PlanResource[]): string | undefined {
    for (const r of resources) {
        const match = /^urn:pulumi:([^:]+)::/.exec(r.urn ?? "");
        if (match) return match[1];
    }
    return undefined;
}

function userDataDeps(r: PlanResource): string[] {
    return [...(r.propertyDependencies?.userData ?? []), ...(r.propertyDependencies?.userDataBase64 ?? [])];
}

/** The release's build and upload: custom resources right under the AppRelease component (not its bucket). */
function releaseSeeds(resources: readonly PlanResource[]): PlanResource[] {
    return resources.filter((r) => {
        const chain = typeChain(r.urn);
        return chain.length >= 2 && chain[chain.length - 2] === RELEASE_COMPONENT && chain[chain.length - 1] !== PRIVATE_BUCKET;
    });
}

/** URNs of the hosts a release replaces: user data that follows from the release or from a host it replaced. */
function replacedByRelease(instances: readonly PlanResource[], seeds: readonly PlanResource[]): Set<string> {
    const changed = new Set(seeds.map((s) => s.urn!).filter(Boolean));
    const replaced = new Set<string>();
    for (let grew = true; grew;) {
        grew = false;
        for (const host of instances) {
            if (!host.urn || replaced.has(host.urn)) continue;
            if (userDataDeps(host).some((u) => changed.has(u))) {
                replaced.add(host.urn);
                changed.add(host.urn);
                grew = true;
            }
        }
    }
    return replaced;
}

/** The secrets a host of this tier may read at boot: its tier's grants (core/secrets.ts), of those the plan stores. */
function secretReads(role: string | undefined, stored: ReadonlySet<string>, stack: string | undefined): number {
    if (!role || !stack) return 0;
    return ([...SECRET_NAMES, ...PROVIDED_SECRETS] as SecretName[])
        .filter((s) => SECRET_READERS[s].includes(role) && stored.has(secretParameterName(stack, s))).length;
}

function rules(resources: readonly PlanResource[], byUrn: ReadonlyMap<string, PlanResource>): SecurityGroupRules[] {
    const counts = new Map<string, { group: string; direction: "inbound" | "outbound"; ipv4: number; ipv6: number; prefixLists: number }>();
    const add = (group: string, direction: "inbound" | "outbound", kind: "ipv4" | "ipv6" | "prefixLists", n = 1) => {
        const key = `${group}\0${direction}`;
        const entry = counts.get(key) ?? { group, direction, ipv4: 0, ipv6: 0, prefixLists: 0 };
        entry[kind] += n;
        counts.set(key, entry);
    };
    const groupOf = (r: PlanResource, input: string): string => {
        const dep = r.propertyDependencies?.[input]?.[0];
        return dep ? (byUrn.get(dep)?.name ?? nameOfUrn(dep)) : (str(r.inputs[input]) ?? `(group of ${r.name})`);
    };
    const inline = (group: string, direction: "inbound" | "outbound", rule: Record<string, unknown>) => {
        const list = (k: string) => (Array.isArray(rule[k]) ? (rule[k] as unknown[]).length : 0);
        if (list("cidrBlocks")) add(group, direction, "ipv4", list("cidrBlocks"));
        if (list("ipv6CidrBlocks")) add(group, direction, "ipv6", list("ipv6CidrBlocks"));
        if (list("prefixListIds")) add(group, direction, "prefixLists", list("prefixListIds"));
        // A group reference (or self) is one rule; counted with IPv4, the family every rule here uses.
        const refs = list("securityGroups") + (rule.self === true ? 1 : 0) + (str(rule.sourceSecurityGroupId) ? 1 : 0);
        if (refs) add(group, direction, "ipv4", refs);
    };
    for (const r of resources) {
        if (r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" || r.type === "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") {
            const direction = r.type.includes("Ingress") ? "inbound" : "outbound";
            add(groupOf(r, "securityGroupId"), direction, r.inputs.cidrIpv6 !== undefined ? "ipv6" : r.inputs.prefixListId !== undefined ? "prefixLists" : "ipv4");
        } else if (r.type === "aws:ec2/securityGroupRule:SecurityGroupRule") {
            inline(groupOf(r, "securityGroupId"), r.inputs.type === "egress" ? "outbound" : "inbound", r.inputs as Record<string, unknown>);
        } else if (r.type === "aws:ec2/securityGroup:SecurityGroup" || r.type === "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup") {
            for (const [k, direction] of [["ingress", "inbound"], ["egress", "outbound"]] as const) {
                for (const rule of Array.isArray(r.inputs[k]) ? (r.inputs[k] as Record<string, unknown>[]) : []) inline(r.name, direction, rule);
            }
        }
    }
    return [...counts.values()];
}

/** The AZ a subnet is in: its availabilityZone when known, else "AZ k" from the network's naming (net-public-k). */
function azOf(subnet: PlanResource | undefined): string {
    if (!subnet) return "unknown AZ";
    const az = str(subnet.inputs.availabilityZone) ?? str(subnet.inputs.availabilityZoneId);
    if (az) return az;
    const match = /-(\d+)$/.exec(subnet.name);
    return match ? `AZ ${Number(match[1]) + 1}` : `AZ of ${subnet.name}`;
}

/** What the plan needs of each quota. `stack` names the secrets' parameters (default: the stack in the URNs). */
export function stackNeeds(resources: readonly PlanResource[], options: { stack?: string } = {}): StackNeeds {
    const byUrn = new Map(resources.filter((r) => r.urn).map((r) => [r.urn!, r]));
    const ofType = (type: string) => resources.filter((r) => r.type === type);
    const stack = options.stack ?? stackOfPlan(resources);
    const instances = ofType(INSTANCE);
    const seeds = releaseSeeds(resources);
    const replaced = replacedByRelease(instances, seeds);
    const stored = new Set(ofType(PARAMETER).map((p) => str(p.inputs.name)).filter((n): n is string => n !== undefined));

    const hosts: HostNeed[] = instances.map((r) => {
        const instanceType = str(r.inputs.instanceType) ?? "(unknown)";
        const root = (r.inputs.rootBlockDevice ?? {}) as Record<string, unknown>;
        const role = str((r.inputs.tags as Record<string, unknown> | undefined)?.Role);
        // Parameters the user data names (the shard directory): read at boot, then re-read by the sync service.
        const named = new Set(userDataDeps(r).filter((u) => byUrn.get(u)?.type === PARAMETER));
        const explicit = new Set(r.dependencies ?? []);
        for (const deps of Object.values(r.propertyDependencies ?? {})) for (const d of deps) explicit.delete(d);
        return {
            name: r.name,
            role,
            instanceType,
            vcpus: instanceSpec(instanceType)?.vcpus,
            rootGiB: num(root.volumeSize),
            rootType: str(root.volumeType),
            onRelease: !replaced.has(r.urn ?? "") ? "none" : str(r.inputs.privateIp) ? "old-first" : "new-before-old",
            bootReads: secretReads(role, stored, stack) + named.size,
            polls: named.size > 0,
            firstWave: ![...explicit].some((u) => byUrn.get(u)?.type === WAIT_COMMAND),
        };
    });

    const storageGiB: Record<string, { running: number; releaseExtra: number }> = {};
    const unsizedVolumes: string[] = [];
    const addStorage = (type: string | undefined, gib: number | undefined, what: string, extra: boolean) => {
        if (!type || gib === undefined) {
            unsizedVolumes.push(what);
            return;
        }
        const entry = (storageGiB[type] ??= { running: 0, releaseExtra: 0 });
        entry.running += gib;
        if (extra) entry.releaseExtra += gib;
    };
    for (const h of hosts) addStorage(h.rootType, h.rootGiB, `${h.name} root`, h.onRelease === "new-before-old");
    for (const v of ofType("aws:ebs/volume:Volume")) addStorage(str(v.inputs.type), num(v.inputs.size), v.name, false);

    const natGatewaysByAz: Record<string, number> = {};
    for (const nat of ofType("aws:ec2/natGateway:NatGateway")) {
        const az = azOf(byUrn.get(nat.propertyDependencies?.subnetId?.[0] ?? ""));
        natGatewaysByAz[az] = (natGatewaysByAz[az] ?? 0) + 1;
    }

    const vpcs = ofType("aws:ec2/vpc:Vpc").length;
    const reads = (hs: readonly HostNeed[]) => hs.reduce((n, h) => n + h.bootReads, 0);
    return {
        hosts,
        releaseSeeds: seeds.map((s) => s.name),
        storageGiB,
        unsizedVolumes,
        elasticIps: ofType("aws:ec2/eip:Eip").length,
        natGatewaysByAz,
        securityGroupRules: rules(resources, byUrn),
        securityGroups: ofType("aws:ec2/securityGroup:SecurityGroup").length + vpcs,
        vpcs,
        internetGateways: ofType("aws:ec2/internetGateway:InternetGateway").length,
        gatewayEndpoints: ofType("aws:ec2/vpcEndpoint:VpcEndpoint").filter((e) => (str(e.inputs.vpcEndpointType) ?? "Gateway") === "Gateway").length,
        ssm: {
            pollIntervalS: SHARD_DIRECTORY_SYNC_INTERVAL_S,
            bootReadsFirstDeploy: reads(hosts),
            bootReadsReleaseWave: reads(hosts.filter((h) => h.onRelease !== "none" && h.firstWave)),
        },
    };
}

/** vCPUs of the plan's hosts, running and at a release's peak (old and new hosts together). */
export function vcpuNeeds(needs: StackNeeds): { running: number; releaseExtra: number; unknownTypes: string[] } {
    let running = 0;
    let releaseExtra = 0;
    const unknownTypes: string[] = [];
    for (const h of needs.hosts) {
        if (h.vcpus === undefined) {
            unknownTypes.push(`${h.name} (${h.instanceType})`);
            continue;
        }
        running += h.vcpus;
        if (h.onRelease === "new-before-old") releaseExtra += h.vcpus;
    }
    return { running, releaseExtra, unknownTypes };
}

/** Parameter Store reads per second that never stop: the polling hosts, running and at a release's peak. */
export function pollingRate(needs: StackNeeds): { hosts: number; hostsAtPeak: number; perSecond: number; perSecondAtPeak: number } {
    const polling = needs.hosts.filter((h) => h.polls);
    const hostsAtPeak = polling.length + polling.filter((h) => h.onRelease === "new-before-old").length;
    return { hosts: polling.length, hostsAtPeak, perSecond: polling.length / needs.ssm.pollIntervalS, perSecondAtPeak: hostsAtPeak / needs.ssm.pollIntervalS };
}
