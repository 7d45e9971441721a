/**
 * The connections the stack's hosts make, read from what the plan gives each host, and AWS's security-group
 * evaluation of each one. A flow is recorded from the thing that makes the host connect:
 *   - an address in a file of its user data: `IP:PORT` (the app's and workers' environment), `host=IP port=N`
 *     (a standby's primary_conninfo), `replicaof IP N` (a Redis replica), `address IP` (the Munin master's
 *     node list; munin-node's port);
 *   - the shard directory the program writes (every app and worker host reaches every endpoint in it);
 *   - the load balancer's target groups (the balancer to each target's port) and listeners (the internet to
 *     the balancer);
 *   - the AWS APIs its instance role may call (an action prefix is an endpoint on 443; the boot suite proves
 *     that every call a host makes is one its role allows), Ubuntu's archive on 80 (cloud-init's package
 *     update; EC2's Ubuntu mirrors are http), each apt source's URL, and the link-local services (Amazon Time
 *     Sync, instance metadata), which security groups do not filter;
 *   - the operations scripts, for the flows only an operation makes (a shard move, a promoted standby).
 * A flow must be allowed twice: by an egress rule of the source's groups and an ingress rule of the
 * destination's (security groups are stateful, so the replies need nothing).
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { ProgramRun, RecordedResource } from "../../tools/offline/runtime";
import { cidrContains, parseCidr } from "../../core/cidr";
import { PORTS } from "../../core/ports";
import { shardDirectoryParameterName } from "../../core/shard-directory";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";
import { hostName, T, userDataOf } from "./queries";

export interface Endpoint {
    /** A host's Name tag, "lb", "internet", or an outside service ("ssm.amazonaws.com", "archive.ubuntu.com"). */
    readonly name: string;
    /** Its private address (hosts), or undefined (anything on the internet). */
    readonly ip?: string;
    /** Its security groups (hosts and the balancer); none for what is outside the VPC. */
    readonly groups: readonly string[];
}

export interface Flow {
    readonly from: Endpoint;
    readonly to: Endpoint;
    readonly port: number;
    /** What makes the source connect (a file, a setting, a script). */
    readonly why: string;
    /** Link-local services: AWS does not apply security groups to them. */
    readonly unfiltered?: boolean;
}

export interface SecurityRule {
    readonly resource: RecordedResource;
    readonly direction: "ingress" | "egress";
    readonly group: string;
    readonly port: number;
    readonly peerGroup?: string;
    readonly cidr?: string;
}

export function securityRules(run: ProgramRun): SecurityRule[] {
    const rules = (type: string, direction: "ingress" | "egress") =>
        run.ofType(type).map((r): SecurityRule => {
            if (r.inputs.ipProtocol !== "tcp" || r.inputs.fromPort !== r.inputs.toPort) throw new Error(`${r.name}: the evaluation knows single TCP ports only`);
            return { resource: r, direction, group: r.inputs.securityGroupId, port: r.inputs.fromPort, peerGroup: r.inputs.referencedSecurityGroupId, cidr: r.inputs.cidrIpv4 };
        });
    return [...rules(T.ingress, "ingress"), ...rules(T.egress, "egress")];
}

/** The rules that let a flow out of its source and into its destination (empty where none does). */
export function rulesFor(flow: Flow, rules: readonly SecurityRule[]): { egress: SecurityRule[]; ingress: SecurityRule[] } {
    const matches = (r: SecurityRule, self: Endpoint, peer: Endpoint) =>
        self.groups.includes(r.group) && r.port === flow.port && (r.peerGroup ? peer.groups.includes(r.peerGroup) : peerInside(r.cidr!, peer));
    return {
        egress: flow.from.groups.length === 0 ? [] : rules.filter((r) => r.direction === "egress" && matches(r, flow.from, flow.to)),
        ingress: flow.to.groups.length === 0 ? [] : rules.filter((r) => r.direction === "ingress" && matches(r, flow.to, flow.from)),
    };
}

/** An endpoint on the internet has no address here: only a rule for every address (/0) covers it. */
function peerInside(cidr: string, peer: Endpoint): boolean {
    return peer.ip === undefined ? parseCidr(cidr)?.prefix === 0 : cidrContains(cidr, peer.ip);
}

/** Why a flow would be dropped ("" when it is allowed). */
export function refusal(flow: Flow, rules: readonly SecurityRule[]): string {
    if (flow.unfiltered) return "";
    const { egress, ingress } = rulesFor(flow, rules);
    const problems = [
        ...(flow.from.groups.length > 0 && egress.length === 0 ? [`no egress rule of ${flow.from.name}`] : []),
        ...(flow.to.groups.length > 0 && ingress.length === 0 ? [`no ingress rule of ${flow.to.name}`] : []),
    ];
    return problems.length === 0 ? "" : `${flow.from.name} -> ${flow.to.name}:${flow.port} (${flow.why}): ${problems.join(", ")}`;
}

const INTERNET: Endpoint = { name: "internet", groups: [] };
const outside = (name: string): Endpoint => ({ name, groups: [] });

/** AWS APIs a host reaches for the actions its role allows (KMS is called by SSM on the host's behalf). */
function apiEndpoints(run: ProgramRun, instance: RecordedResource): string[] {
    const profile = run.ofType(T.instanceProfile).find((p) => p.state.name === instance.inputs.iamInstanceProfile || p.state.id === instance.inputs.iamInstanceProfile);
    if (!profile) return [];
    const role = run.ofType(T.role).find((r) => r.state.name === profile.inputs.role || r.state.id === profile.inputs.role);
    if (!role) return [];
    const ofRole = (r: RecordedResource) => r.inputs.role === role.state.name || r.inputs.role === role.state.id;
    const actions = run.ofType(T.rolePolicy).filter(ofRole).flatMap((p) => (JSON.parse(p.inputs.policy).Statement as { Action: string | string[] }[]).flatMap((s) => [s.Action].flat()));
    const services = new Set(actions.map((a) => a.split(":")[0]).filter((s) => s !== "kms"));
    // AmazonSSMManagedInstanceCore: the SSM agent's channels (Session Manager, Run Command).
    if (run.ofType(T.rolePolicyAttachment).some((a) => ofRole(a) && String(a.inputs.policyArn).endsWith("/AmazonSSMManagedInstanceCore"))) {
        for (const s of ["ssm", "ssmmessages", "ec2messages"]) services.add(s);
    }
    return [...services].sort().map((s) => `${s === "cloudwatch" ? "monitoring" : s}.${run.config?.["aws:region"] ?? "region"}.amazonaws.com`);
}

export function recordFlows(run: ProgramRun): Flow[] {
    const instances = run.ofType(T.instance);
    const hosts = new Map(instances.map((i) => [hostName(i), { name: hostName(i), ip: (i.inputs.privateIp ?? i.state.privateIp) as string, groups: [...(i.inputs.vpcSecurityGroupIds as string[])] }]));
    const byIp = new Map([...hosts.values()].map((h) => [h.ip, h]));
    const lb = run.ofType(T.loadBalancer)[0];
    const balancer: Endpoint = { name: "lb", groups: [...(lb.inputs.securityGroups as string[])] };
    const flows: Flow[] = [];
    const add = (from: Endpoint, to: Endpoint | undefined, port: number, why: string, unfiltered = false) => {
        if (to && !flows.some((f) => f.from.name === from.name && f.to.name === to.name && f.port === port)) flows.push({ from, to, port, why, ...(unfiltered ? { unfiltered } : {}) });
    };
    const appHosts = [...hosts.values()].filter((h) => /^(app|worker)-/.test(h.name));

    for (const instance of instances) {
        const self = hosts.get(hostName(instance))!;
        const doc = yaml.load(userDataOf(instance)) as { package_update?: boolean; apt?: { sources: Record<string, { source: string }> }; write_files: { path: string; content: string }[] };
        for (const file of doc.write_files) {
            const text = file.content;
            const found: [string, number][] = [
                ...[...text.matchAll(/\b(\d+\.\d+\.\d+\.\d+):(\d{2,5})\b/g)].map((m): [string, number] => [m[1], Number(m[2])]),
                ...[...text.matchAll(/host=(\d+\.\d+\.\d+\.\d+) port=(\d+)/g)].map((m): [string, number] => [m[1], Number(m[2])]),
                ...[...text.matchAll(/^replicaof (\S+) (\d+)$/gm)].map((m): [string, number] => [m[1], Number(m[2])]),
                ...(file.path.startsWith("/etc/munin/munin-conf.d/") ? [...text.matchAll(/^\s*address (\S+)$/gm)].map((m): [string, number] => [m[1], PORTS.muninNode]) : []),
            ];
            for (const [ip, port] of found) add(self, byIp.get(ip), port, file.path);
        }
        if (doc.package_update) add(self, outside("archive.ubuntu.com"), PORTS.http, "cloud-init package_update (EC2's Ubuntu mirrors are http)");
        for (const [file, source] of Object.entries(doc.apt?.sources ?? {})) {
            const url = new URL(/\b(https?:\/\/\S+)/.exec(source.source)![1]);
            add(self, outside(url.hostname), url.protocol === "https:" ? PORTS.https : PORTS.http, `apt source ${file}`);
        }
        for (const api of apiEndpoints(run, instance)) add(self, outside(api), PORTS.https, "the calls its instance role allows");
        add(self, outside("instance metadata 169.254.169.254"), PORTS.http, "IMDSv2 (credentials, its own address)", true);
        if (doc.write_files.some((f) => f.path.startsWith("/etc/chrony/"))) add(self, outside("Amazon Time Sync 169.254.169.123"), 123, "chrony", true);
    }

    const directory = run.ofType(T.ssmParameter).find((p) => p.inputs.name === shardDirectoryParameterName(run.stack));
    if (directory) {
        for (const shard of JSON.parse(directory.inputs.value).physicalShards as { endpoint?: string }[]) {
            if (!shard.endpoint) continue;
            const [ip, port] = shard.endpoint.split(":");
            for (const app of appHosts) add(app, byIp.get(ip), Number(port), "the shard directory");
        }
    }

    const targetGroups = new Map(run.ofType(T.targetGroup).map((g) => [g.state.arn ?? g.state.id, g]));
    for (const attachment of run.ofType(T.targetGroupAttachment)) {
        const group = targetGroups.get(attachment.inputs.targetGroupArn);
        const target = instances.find((i) => i.state.id === attachment.inputs.targetId);
        if (target) add(balancer, hosts.get(hostName(target)), attachment.inputs.port ?? group?.inputs.port, "target group attachment");
    }
    for (const listener of run.ofType(T.listener)) add(INTERNET, balancer, listener.inputs.port, "listener");

    // Operations: a shard move copies from the source primary (shard-move.sh: `host=$source_address
    // port=5432`), and a promoted standby serves the app through its own pgbouncer (shard-promote.sh points
    // the shard directory at it).
    if (!fs.readFileSync(path.join(SCRIPTS_DIR, "shard-move.sh"), "utf8").includes("host=$source_address port=5432")) throw new Error("shard-move.sh no longer connects as flows.ts says");
    const primaries = [...hosts.values()].filter((h) => /^shard-\d+-primary$/.test(h.name));
    for (const a of primaries) for (const b of primaries) if (a !== b) add(a, b, PORTS.postgres, "shard-move.sh (copy from the source primary)");
    for (const standby of [...hosts.values()].filter((h) => /^shard-\d+-standby$/.test(h.name))) {
        for (const app of appHosts) add(app, standby, PORTS.pgbouncer, "the shard directory after shard-promote.sh");
    }
    return flows;
}
