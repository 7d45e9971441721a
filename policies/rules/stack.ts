/**
 * Rules specific to this stack, over the whole resource graph: shard data next to its host, standbys in
 * another AZ, RAID volume counts, only the load balancer public, data ports only from the tiers that need
 * them, and no generated password flowing into user data. They follow references through the engine's
 * property dependencies, so they work in `pulumi preview`, when IDs are not known yet.
 */
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { problem, userDataText, WORLD_CIDRS } from "./common";
import { ofType, refersTo, TYPES } from "./graph";

function find(resources: PolicyResource[], type: string, from: PolicyResource, prop: string): PolicyResource | undefined {
    return ofType(resources, type).find((r) => refersTo(from, prop, r));
}

/** An instance's AZ: known after create, or its subnet's (given as input) before. */
function azOf(resources: PolicyResource[], instance: PolicyResource): string | undefined {
    return instance.props.availabilityZone ?? find(resources, TYPES.subnet, instance, "subnetId")?.props.availabilityZone;
}

const hostName = (r: PolicyResource) => r.props.tags?.Name ?? r.name;

export const shardVolumesSameAz: StackValidationPolicy = {
    name: "shard-volumes-same-az",
    description: "Every data volume is attached to an instance in its own AZ (an EBS volume cannot attach across AZs; the apply would fail half-way).",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        for (const attachment of ofType(args.resources, TYPES.attachment)) {
            const volume = find(args.resources, TYPES.volume, attachment, "volumeId");
            const instance = find(args.resources, TYPES.instance, attachment, "instanceId");
            if (!volume || !instance) continue;
            const subnet = find(args.resources, TYPES.subnet, instance, "subnetId");
            // The same subnet feeding both is proof enough while values are unknown.
            if (subnet && refersTo(volume, "availabilityZone", subnet, [])) continue;
            const [va, ia] = [volume.props.availabilityZone, azOf(args.resources, instance)];
            if (va && ia && va !== ia) {
                report(problem(volume.name, "availabilityZone", `is ${va} but its instance ${hostName(instance)} is in ${ia}`, "create the volume in the instance's subnet's AZ"), attachment.urn);
            }
        }
    },
};

export const standbyInOtherAz: StackValidationPolicy = {
    name: "standby-in-other-az",
    description: "Each shard's standby runs in a different AZ than its primary, as Instagram kept replicas in another zone.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const shards = ofType(args.resources, TYPES.instance).filter((i) => i.props.tags?.Role === "shard" && i.props.tags?.Shard !== undefined);
        for (const standby of shards.filter((i) => i.props.tags.Member === "standby")) {
            const primary = shards.find((i) => i.props.tags.Member === "primary" && i.props.tags.Shard === standby.props.tags.Shard);
            if (!primary) {
                report(problem(hostName(standby), "tags.Shard", `names shard ${standby.props.tags.Shard}, which has no primary`, "tag the primary with the same Shard"), standby.urn);
                continue;
            }
            const samesubnet = ofType(args.resources, TYPES.subnet).some((s) => refersTo(primary, "subnetId", s) && refersTo(standby, "subnetId", s));
            const [pa, sa] = [azOf(args.resources, primary), azOf(args.resources, standby)];
            if (samesubnet || (pa && sa && pa === sa)) {
                report(problem(hostName(standby), "subnetId", `puts it in ${sa ?? "the same subnet"} with its primary ${hostName(primary)}`, "place the standby in another AZ's private subnet"), standby.urn);
            }
        }
    },
};

export interface RaidConfig {
    /** When set, every shard host must have exactly this many data volumes (instagram:shardVolumes). */
    volumesPerShard?: number;
}

export const shardRaidVolumeCount: StackValidationPolicy = {
    name: "shard-raid-volume-count",
    description: "Each shard and search host has the data volumes its RAID script expects: as many as its RaidVolumes tag declares, RAID 10 (RaidLevel tag) even and at least 4, and (shard hosts) the configured count when given.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { volumesPerShard: { type: "integer", minimum: 1 } } },
    validateStack: (args, report) => {
        const expected = args.getConfig<RaidConfig>().volumesPerShard;
        const attachments = ofType(args.resources, TYPES.attachment);
        for (const host of ofType(args.resources, TYPES.instance).filter((i) => ["shard", "search"].includes(i.props.tags?.Role))) {
            const attached = attachments.filter((a) => refersTo(a, "instanceId", host)).length;
            const isShard = host.props.tags?.Role === "shard";
            // The shard component declares the array in tags (known at preview, unlike the volume IDs in the
            // user data); the host's RAID script waits for exactly that many volumes.
            const declared = host.props.tags?.RaidVolumes === undefined ? undefined : Number(host.props.tags.RaidVolumes);
            const level = host.props.tags?.RaidLevel as string | undefined;
            if (isShard && expected !== undefined && attached !== expected) report(problem(hostName(host), "volume attachments", `number ${attached}, not the configured ${expected}`, "attach instagram:shardVolumes volumes"), host.urn);
            if (declared === undefined) report(problem(hostName(host), "tag RaidVolumes", "is missing", "tag each shard and search host with the number of volumes its RAID holds"), host.urn);
            else if (declared !== attached) report(problem(hostName(host), "tag RaidVolumes", `declares ${declared} volumes but ${attached} are attached`, "pass the host exactly the volumes attached to it"), host.urn);
            if (level === "10" && (attached < 4 || attached % 2 !== 0)) report(problem(hostName(host), "RAID 10", `has ${attached} volumes`, "use an even number, at least 4, or RAID 0"), host.urn);
        }
    },
};

/** Ingress rules with the group they belong to, whether they come from the world, and their source group. */
function ingressRules(resources: PolicyResource[]) {
    const groups = ofType(resources, TYPES.securityGroup);
    return ofType(resources, TYPES.ingress).map((rule) => ({
        rule,
        group: groups.find((g) => refersTo(rule, "securityGroupId", g)),
        source: groups.find((g) => refersTo(rule, "referencedSecurityGroupId", g)),
        world: WORLD_CIDRS.includes(rule.props.cidrIpv4) || WORLD_CIDRS.includes(rule.props.cidrIpv6),
        cidr: rule.props.cidrIpv4 ?? rule.props.cidrIpv6,
        port: rule.props.fromPort as number | undefined,
    }));
}

export interface PublicConfig {
    /** SSH from the admin networks the user listed (instagram:adminCidrs). */
    allowAdminSsh: boolean;
}

export const onlyLoadBalancerPublic: StackValidationPolicy = {
    name: "only-load-balancer-public",
    description: "Walks the security-group graph: only a group attached to a load balancer admits the internet, and a host's group admits traffic only from other groups of the stack (and SSH from listed admin networks, if allowed).",
    enforcementLevel: "mandatory",
    configSchema: { properties: { allowAdminSsh: { type: "boolean", default: true } } },
    validateStack: (args, report) => {
        const { allowAdminSsh } = args.getConfig<PublicConfig>();
        const lbs = ofType(args.resources, TYPES.loadBalancer);
        const instances = ofType(args.resources, TYPES.instance);
        for (const { rule, group, source, world, cidr, port } of ingressRules(args.resources)) {
            if (!group) continue;
            const onLb = lbs.some((lb) => refersTo(lb, "securityGroups", group));
            const onHost = instances.some((i) => refersTo(i, "vpcSecurityGroupIds", group));
            if (world && !onLb) {
                report(problem(rule.name, "cidrIpv4", `opens ${group.name} to the internet, and that group is not a load balancer's`, "only the load balancer's group may admit 0.0.0.0/0"), rule.urn);
            } else if (world && onHost) {
                report(problem(rule.name, "cidrIpv4", `opens ${group.name}, which hosts also use, to the internet`, "give the load balancer a group of its own"), rule.urn);
            } else if (onHost && !source && !(allowAdminSsh && port === 22 && cidr && !world)) {
                report(problem(rule.name, "source", `admits ${cidr ?? "a prefix list"} into host group ${group.name}`, "reference the security group of the tier that needs access"), rule.urn);
            }
        }
    },
};

export interface DataPortsConfig {
    /** Port -> the Role tags of the groups allowed to reach it. */
    allowed: Record<string, string[]>;
}

export const DEFAULT_DATA_PORTS: Record<string, string[]> = {
    "5432": ["shard", "search"], // PostgreSQL: only standbys (replication) of the same tier; the app goes through pgbouncer
    "6432": ["app", "worker"], // pgbouncer: the app and the job workers
    "6379": ["app", "redis", "worker"], // Redis: the app, a replica syncing from its primary, the job workers
    "11211": ["app"], // memcached
    "4730": ["app", "worker"], // gearmand: the app queues jobs, the job workers take them
};

/** PostgreSQL itself is replication only, which never crosses tiers. */
const PORTS_WITHIN_TIER = { postgres: 5432 } as const;

export const dataPortsRestricted: StackValidationPolicy = {
    name: "data-ports-restricted",
    description: "PostgreSQL (5432), pgbouncer (6432), Redis (6379), memcached (11211) and gearmand (4730) are reachable only from the groups (by Role tag) that need them, never from CIDRs; PostgreSQL only from its own tier (a shard's standby from the shard group, the search standby from the search group).",
    enforcementLevel: "mandatory",
    configSchema: { properties: { allowed: { type: "object", default: DEFAULT_DATA_PORTS } } },
    validateStack: (args, report) => {
        const allowed = args.getConfig<DataPortsConfig>().allowed ?? DEFAULT_DATA_PORTS;
        for (const { rule, group, source, cidr, port } of ingressRules(args.resources)) {
            const roles = port !== undefined ? allowed[String(port)] : undefined;
            if (!roles) continue;
            if (!source) {
                report(problem(rule.name, "source", `admits ${cidr ?? "a prefix list"} to port ${port}`, `reference the security group of ${roles.join(" or ")}`), rule.urn);
            } else if (!roles.includes(source.props.tags?.Role)) {
                report(problem(rule.name, "referencedSecurityGroupId", `admits group ${source.name} (Role ${source.props.tags?.Role ?? "untagged"}) to port ${port}`, `only ${roles.join(" or ")} may reach it`), rule.urn);
            } else if (port === PORTS_WITHIN_TIER.postgres && group && source.props.tags?.Role !== group.props.tags?.Role) {
                report(problem(rule.name, "referencedSecurityGroupId", `admits group ${source.name} (Role ${source.props.tags?.Role}) to PostgreSQL on ${group.name} (Role ${group.props.tags?.Role})`, "replication stays within a tier: admit the group itself"), rule.urn);
            }
        }
    },
};

export const noPasswordInUserData: StackValidationPolicy = {
    name: "no-random-password-in-user-data",
    description: "No generated password (random.RandomPassword) flows into any instance's user data, by dependency or by value: hosts fetch secrets from SSM at boot (Checkov CKV_AWS_46, specialised).",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const passwords = ofType(args.resources, TYPES.randomPassword);
        for (const instance of ofType(args.resources, TYPES.instance)) {
            for (const prop of ["userData", "userDataBase64"]) {
                for (const dep of instance.propertyDependencies?.[prop] ?? []) {
                    if (dep.type === TYPES.randomPassword) report(problem(hostName(instance), prop, `is computed from ${dep.name}`, "store the password in SSM and fetch it at boot"), instance.urn);
                }
            }
            const text = userDataText(instance.props);
            if (!text) continue;
            for (const p of passwords) {
                const value = p.props.result;
                if (typeof value === "string" && value.length >= 8 && text.includes(value)) report(problem(hostName(instance), "userData", `contains the value of ${p.name}`, "store the password in SSM and fetch it at boot"), instance.urn);
            }
        }
    },
};

export const instanceStatusAlarms: StackValidationPolicy = {
    name: "instance-status-alarms",
    description: "Every instance has CloudWatch alarms on both of EC2's status checks (system and instance) of its own instance ID, each with an action: a host that stops answering pages someone.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const alarms = ofType(args.resources, TYPES.metricAlarm).filter((a) => a.props.namespace === "AWS/EC2");
        for (const host of ofType(args.resources, TYPES.instance)) {
            // At preview the instance ID is unknown: the alarm's dimensions then depend on the instance.
            const onHost = alarms.filter((a) => (a.propertyDependencies?.dimensions ?? []).some((d) => d.urn === host.urn) || (host.props.id !== undefined && a.props.dimensions?.InstanceId === host.props.id));
            for (const metric of ["StatusCheckFailed_System", "StatusCheckFailed_Instance"]) {
                const found = onHost.filter((a) => a.props.metricName === metric && (a.props.alarmActions ?? []).length > 0);
                if (found.length === 0) report(problem(hostName(host), metric, "has no alarm with an action", "alarm on it and send ALARM and OK to the stack's alert topic (components/alerting.ts)"), host.urn);
            }
        }
    },
};

export const stackPolicies = [shardVolumesSameAz, standbyInOtherAz, shardRaidVolumeCount, onlyLoadBalancerPublic, dataPortsRestricted, noPasswordInUserData, instanceStatusAlarms];
