/**
 * A plan's needs (tools/quotas/needs.ts) against the account's quotas: AWS's defaults (tools/quotas/defaults.ts)
 * or the values of a `--quotas FILE`, one line per quota, and for each one short the command that asks AWS for
 * more. A quota is account state that AWS raises on request: a shortfall is a warning, never an acceptance
 * refusal. Shared by `npm run plan` and `npm run validate`.
 */
import * as yaml from "js-yaml";
import { DEFAULTS_CHECKED, QUOTA_DEFAULTS, QuotaDefault, QuotaId, quotaDefault } from "./defaults";
import { pollingRate, StackNeeds, vcpuNeeds } from "./needs";

/** What the plan needs of one quota, in the quota's unit, and how that number was reached. */
export interface QuotaNeed {
    readonly quota: QuotaDefault;
    readonly need: number;
    readonly detail: string;
}

/** The account's values by quota id, from a `--quotas` file. */
export interface AccountQuotas {
    readonly file: string;
    readonly values: Readonly<Partial<Record<QuotaId, number>>>;
}

export interface QuotaCheck extends QuotaNeed {
    readonly limit: number;
    /** "default" or the file the value came from. */
    readonly limitFrom: string;
    /** What to ask AWS for (the need, rounded up), when the need is over the limit. */
    readonly raiseTo?: number;
}

const GiB_PER_TiB = 1024;
const STORAGE_QUOTAS: Readonly<Record<string, QuotaId>> = { gp3: "L-7A658B76", gp2: "L-D18FCD1D", io1: "L-FD252861" };
const round2 = (n: number) => Math.round(n * 100) / 100;
const quota = (id: QuotaId) => quotaDefault(id)!;

/** Names of hosts, shortened to their tiers: app-0..app-24, worker-0..worker-5. */
function hostList(names: readonly string[]): string {
    const byTier = new Map<string, number[]>();
    const single: string[] = [];
    for (const name of names) {
        const m = /^(.*)-(\d+)$/.exec(name);
        if (m) byTier.set(m[1], [...(byTier.get(m[1]) ?? []), Number(m[2])]);
        else single.push(name);
    }
    const tiers = [...byTier].map(([tier, ids]) => (ids.length === 1 ? `${tier}-${ids[0]}` : `${tier}-${Math.min(...ids)}..${tier}-${Math.max(...ids)}`));
    return [...tiers, ...single].join(", ");
}

/** The plan's need of every quota it touches (a quota it does not touch, such as io1 storage, is left out). */
export function quotaNeeds(needs: StackNeeds): QuotaNeed[] {
    const out: QuotaNeed[] = [];
    const vcpu = vcpuNeeds(needs);
    const renewed = needs.hosts.filter((h) => h.onRelease === "new-before-old");
    const oldFirst = needs.hosts.filter((h) => h.onRelease === "old-first");
    const peak = renewed.length > 0
        ? `; ${vcpu.running + vcpu.releaseExtra} at a release's peak: it replaces ${renewed.length} host(s) new before old (${hostList(renewed.map((h) => h.name))}) and Pulumi deletes the old ones only at the end of the update, so both run together (+${vcpu.releaseExtra})`
            + (oldFirst.length > 0 ? `; ${hostList(oldFirst.map((h) => h.name))} ${oldFirst.length === 1 ? "is" : "are"} replaced old first (a fixed private address): +0` : "")
        : needs.releaseSeeds.length === 0 ? "; the release is pinned (instagram:appRelease): no release build in this plan to follow, so no peak is counted" : "";
    out.push({
        quota: quota("L-1216C47A"),
        need: vcpu.running + vcpu.releaseExtra,
        detail: `${vcpu.running} vCPUs on ${needs.hosts.length - vcpu.unknownTypes.length} host(s) running${peak}`
            + (vcpu.unknownTypes.length > 0 ? `; not counted (type unknown to core/instance-types.ts): ${vcpu.unknownTypes.join(", ")}` : ""),
    });
    for (const [type, gib] of Object.entries(needs.storageGiB).sort(([a], [b]) => a.localeCompare(b))) {
        const id = STORAGE_QUOTAS[type];
        if (!id) continue;
        const total = gib.running + gib.releaseExtra;
        out.push({
            quota: quota(id),
            need: round2(total / GiB_PER_TiB),
            detail: `${gib.running} GiB (${round2(gib.running / GiB_PER_TiB)} TiB) provisioned`
                + (gib.releaseExtra > 0 ? `; ${total} GiB at a release's peak (+${gib.releaseExtra} GiB: the new hosts' root volumes, the old ones' still there)` : "")
                + (needs.unsizedVolumes.length > 0 ? `; size or type unknown, not counted: ${needs.unsizedVolumes.join(", ")}` : ""),
        });
    }
    out.push({ quota: quota("L-0263D0A3"), need: needs.elasticIps, detail: `${needs.elasticIps} Elastic IP(s) (one per NAT gateway)` });
    const azs = Object.entries(needs.natGatewaysByAz);
    if (azs.length > 0) {
        out.push({ quota: quota("L-FE5A380F"), need: Math.max(...azs.map(([, n]) => n)), detail: azs.map(([az, n]) => `${az}: ${n}`).join(", ") });
    }
    const fullest = [...needs.securityGroupRules].sort((a, b) => Math.max(b.ipv4, b.ipv6) - Math.max(a.ipv4, a.ipv6))[0];
    if (fullest) {
        const prefix = needs.securityGroupRules.filter((r) => r.prefixLists > 0);
        out.push({
            quota: quota("L-0EA8095F"),
            need: Math.max(fullest.ipv4, fullest.ipv6),
            detail: `fullest: ${fullest.group} ${fullest.direction} (${fullest.ipv4} IPv4, ${fullest.ipv6} IPv6) of ${needs.securityGroupRules.length} group directions`
                + (prefix.length > 0 ? `; prefix-list rules not counted (each counts as its list's max entries): ${prefix.map((r) => `${r.group} ${r.direction} ${r.prefixLists}`).join(", ")}` : ""),
        });
    }
    out.push({ quota: quota("L-E79EC296"), need: needs.securityGroups, detail: `${needs.securityGroups} (the stack's groups and its VPC's default group)` });
    out.push({ quota: quota("L-F678F1CE"), need: needs.vpcs, detail: `${needs.vpcs} VPC (a default VPC in the Region counts too)` });
    out.push({ quota: quota("L-A4707A72"), need: needs.internetGateways, detail: `${needs.internetGateways} (the default VPC's counts too)` });
    out.push({ quota: quota("L-1B52E74A"), need: needs.gatewayEndpoints, detail: `${needs.gatewayEndpoints} (S3, for the private subnets)` });
    const poll = pollingRate(needs);
    if (poll.hosts > 0 || needs.ssm.bootReadsFirstDeploy > 0) {
        out.push({
            quota: quota("ssm-parameter-store-throughput"),
            need: round2(poll.perSecondAtPeak),
            detail: `${poll.hosts} host(s) re-read the shard directory every ${needs.ssm.pollIntervalS} s (${round2(poll.perSecond)}/s; ${round2(poll.perSecondAtPeak)}/s while a release runs old and new hosts); `
                + `boots read ${needs.ssm.bootReadsFirstDeploy} parameters at a first deploy (at most: a tier's grants) and ${needs.ssm.bootReadsReleaseWave} at a release's first wave: `
                + "a read over the rate is throttled and retried by the host (aws-lib.sh retries 30 times), so such a burst delays boots, it does not fail them",
        });
    }
    return out;
}

/** Each need against the file's value or AWS's default. */
export function checkQuotas(needs: readonly QuotaNeed[], account?: AccountQuotas): QuotaCheck[] {
    return needs.map((n) => {
        const fromFile = account?.values[n.quota.id];
        const limit = fromFile ?? n.quota.default;
        return { ...n, limit, limitFrom: fromFile !== undefined ? account!.file : "default", raiseTo: n.need > limit ? Math.ceil(n.need) : undefined };
    });
}

/** The command that asks AWS for more of a quota. */
export function raiseCommand(q: QuotaDefault, to: number, region?: string): string {
    if (q.raiseCommand) return q.raiseCommand.replace("REGION", region ?? "REGION");
    return `aws service-quotas request-service-quota-increase --service-code ${q.serviceCode} --quota-code ${q.id} --desired-value ${to}${region ? ` --region ${region}` : ""}`;
}

/**
 * The report: one line per quota (need, limit and whose), how the vCPU and storage needs were reached, then one
 * "raise" line per shortfall with its command and where the default came from.
 */
export function quotaReportLines(checks: readonly QuotaCheck[], options: { region?: string; strictFlag?: string } = {}): string[] {
    const where = options.region ? ` in ${options.region}` : "";
    const account = checks.find((c) => c.limitFrom !== "default")?.limitFrom;
    const lines = [
        `Quotas this plan needs${where}, against ${account ? `the values of ${account} and, where it gives none, AWS's defaults` : "AWS's default values"} (tools/quotas/defaults.ts, checked ${DEFAULTS_CHECKED}):`,
    ];
    for (const c of checks) {
        const from = c.limitFrom === "default" ? `AWS default${c.quota.unconfirmed ? ", unconfirmed" : ""}` : c.limitFrom;
        lines.push(`  ${c.quota.id} ${c.quota.name}: need ${c.need} ${c.quota.unit}, limit ${c.limit} (${from})${c.raiseTo !== undefined ? ": TOO LOW" : ""}`);
    }
    for (const c of checks.filter((x) => x.quota.id === "L-1216C47A" || x.quota.id === "L-7A658B76" || x.raiseTo !== undefined)) {
        lines.push(`  ${c.quota.id}: ${c.detail}`);
    }
    const short = checks.filter((c) => c.raiseTo !== undefined);
    if (short.length === 0) {
        lines.push(`  No quota to raise${account ? ` with the values of ${account}` : ""}.`);
        return lines;
    }
    lines.push(`Quotas to raise before deploying (account state, not a refusal${options.strictFlag ? `; ${options.strictFlag} turns this into exit 3` : ""}):`);
    for (const c of short) {
        lines.push(`  raise ${c.quota.id} (${c.quota.name}) to at least ${c.raiseTo}: ${raiseCommand(c.quota, c.raiseTo!, options.region)}`);
        if (c.limitFrom === "default") {
            lines.push(`    default ${c.quota.default} ${c.quota.unit} ${c.quota.scope}, from ${c.quota.source}${c.quota.note ? `: ${c.quota.note}` : ""}`);
            if (c.quota.unconfirmed) lines.push(`    unconfirmed: ${c.quota.unconfirmed}`);
            lines.push(c.quota.serviceCode
                ? `    your account's value: aws service-quotas get-service-quota --service-code ${c.quota.serviceCode} --quota-code ${c.quota.id} --query Quota.Value, then --quotas FILE`
                : `    whether it is raised: aws ssm get-service-setting --setting-id arn:aws:ssm:REGION:ACCOUNT_ID:servicesetting/ssm/parameter-store/high-throughput-enabled`);
        }
    }
    return lines;
}

/**
 * A `--quotas FILE`: JSON (or YAML, by its extension) mapping quota ids to the account's values, e.g.
 * {"L-1216C47A": 1152, "L-7A658B76": 100}, each what `aws service-quotas get-service-quota` returns as Value.
 * Throws an Error naming every bad key.
 */
export function parseQuotasFile(text: string, file: string): AccountQuotas {
    let doc: unknown;
    try {
        doc = /\.ya?ml$/i.test(file) ? yaml.load(text) : JSON.parse(text);
    } catch (e) {
        throw new Error(`${file} is not ${/\.ya?ml$/i.test(file) ? "YAML" : "JSON"} (${(e as Error).message.split("\n")[0]})`);
    }
    if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
        throw new Error(`${file} must map quota codes to your account's values, e.g. {"L-1216C47A": 1152}`);
    }
    const known = QUOTA_DEFAULTS.map((q) => q.id);
    const problems: string[] = [];
    const values: Partial<Record<QuotaId, number>> = {};
    for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
        if (!known.includes(key as QuotaId)) {
            problems.push(`${file}: unknown quota code ${JSON.stringify(key)} (known: ${known.join(", ")})`);
        } else if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
            problems.push(`${file}: ${key} must be a number of ${quotaDefault(key)!.unit} (the Value \`aws service-quotas get-service-quota\` returns), not ${JSON.stringify(value)}`);
        } else {
            values[key as QuotaId] = value;
        }
    }
    if (problems.length > 0) throw new Error(problems.join("\n"));
    return { file, values };
}
