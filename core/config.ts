/**
 * The stack's configuration contract: every `instagram:*` key (and `aws:region`) is parsed and checked here,
 * in one pure function, before any resource exists. Defaults live in Pulumi.yaml only; the CLI (or, offline,
 * core/stack-config.ts) merges them in, so this module sees every key that has a default.
 */
import { instanceSpec, knownInstanceFamilies } from "./instance-types";
import { parseCidr } from "./cidr";
import { memcachedSizing, postgresSizing, redisMaxMemoryMiB } from "./sizing";
import { MAX_LOGICAL_SHARDS } from "./ids";
import { releaseRefusal, UBUNTU_RELEASES, UbuntuRelease } from "./ubuntu";
import { parseShareDestinations, ShareDestination, shareJobBoundSeconds } from "./share-destinations";
import { JOB_TIMEOUT_SECONDS } from "./app-contract";
import { parseSentryDsn } from "./error-reports";
import { APNS_ENVIRONMENTS, ApnsEnvironment, apnsKeyProblem, APPLE_ID, BUNDLE_ID, GCP_PROJECT_ID, parseServiceAccount, PushSettings } from "./push";

export const PROJECT = "instagram";

export type RaidLevel = 0 | 10;

export const BACKUP_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;
export type BackupDay = (typeof BACKUP_DAYS)[number];

export interface InstagramConfig {
    readonly region: string;
    /** A named AWS CLI profile for both providers (aws:profile); unset means the SDK's default chain. */
    readonly profile?: string;
    readonly domain: string;
    readonly hostedZoneId?: string;
    readonly ubuntuRelease: UbuntuRelease;
    readonly azCount: number;
    readonly vpcCidr: string;
    readonly adminCidrs: readonly string[];
    readonly natPerAz: boolean;
    readonly deletionProtection: boolean;
    readonly appServers: number;
    readonly appInstanceType: string;
    /** 0 means 2 × vCPU + 1 on the host, gunicorn's rule. */
    readonly appWorkers: number;
    readonly physicalShards: number;
    readonly logicalShards: number;
    readonly shardInstanceType: string;
    readonly shardVolumes: number;
    readonly shardVolumeGiB: number;
    readonly shardRaidLevel: RaidLevel;
    readonly shardStandby: boolean;
    /** When (UTC, HH:MM) each shard's data volumes are snapshotted together, daily. */
    readonly shardSnapshotTime: string;
    /** How many daily snapshot sets of each shard are kept. */
    readonly shardSnapshotRetention: number;
    /** The day of the week (Mon..Sun) of each shard's weekly full pgBackRest backup. */
    readonly backupFullDay: BackupDay;
    /** When (UTC, HH:MM) the backups run: the weekly full on backupFullDay, a differential every other day. */
    readonly backupTime: string;
    /** How many full backups (with their differentials and the WAL they need) pgBackRest keeps per shard. */
    readonly backupRetentionFull: number;
    /** Days the backup bucket keeps a file pgBackRest expired or overwrote (its versioning), before S3 deletes it. */
    readonly backupDeletedRetentionDays: number;
    readonly redisInstanceType: string;
    readonly redisReplica: boolean;
    readonly memcachedNodes: number;
    readonly memcachedInstanceType: string;
    readonly monitoringInstanceType: string;
    /** The search tier: 2 = a primary and a standby in another AZ, 1 = a primary, 0 = no search. */
    readonly searchServers: number;
    readonly searchInstanceType: string;
    /** gp3 volumes per search host, striped (RAID 0): the standby and a reindex are the redundancy. */
    readonly searchVolumes: number;
    readonly searchVolumeGiB: number;
    /** gearmand job servers, spread over the AZs; clients submit to any, workers register with all. */
    readonly gearmanServers: number;
    readonly gearmanInstanceType: string;
    /** Hosts of the job-worker tier; 0 runs the job workers on the app hosts instead. */
    readonly workerServers: number;
    readonly workerInstanceType: string;
    /** Job worker processes per host; 0 sizes them from the host (core/sizing.ts jobWorkerCount). */
    readonly jobWorkers: number;
    /** Where an upload may be shared to (`?share=NAME`): the job workers POST it there. */
    readonly shareDestinations: readonly ShareDestination[];
    /** APNs provider-token settings: all three with apnsKey, or none (iOS push off). */
    readonly apnsTeamId?: string;
    readonly apnsKeyId?: string;
    readonly apnsTopic?: string;
    readonly apnsEnvironment: ApnsEnvironment;
    /** The .p8 signing key's PEM text (a config secret; stored in SSM, never in user data). */
    readonly apnsKey?: string;
    /** The Firebase project, with fcmServiceAccount (Android push), or neither. */
    readonly fcmProjectId?: string;
    /** The service account key file's JSON (a config secret). */
    readonly fcmServiceAccount?: string;
    /** Sentry's DSN (a config secret): error reports from the app and the job workers; unset: off. */
    readonly sentryDsn?: string;
    /** Who is told when an alarm fires or clears: e-mail subscriptions of the alert topic (each confirms once). */
    readonly alertEmails: readonly string[];
    /** A PagerDuty escalation policy's ID: a PagerDuty service with a CloudWatch integration is made and subscribed. */
    readonly pagerdutyEscalationPolicy?: string;
    /** Alarm thresholds (core/alerting.ts). */
    readonly alarmLb5xxPercent: number;
    readonly alarmLbP99Ms: number;
    readonly alarmCpuCreditsMin: number;
    readonly alarmDataVolumeUsedPercent: number;
    readonly alarmDataVolumeIoBusyPercent: number;
    readonly alarmReplicationLagSeconds: number;
    readonly alarmWalArchiveLagSeconds: number;
    readonly alarmRedisMemoryPercent: number;
    readonly alarmGearmanQueuedJobs: number;
    /** Node.js on the app hosts, from NodeSource's signed apt repository, exactly this version. */
    readonly nodeVersion: string;
    /** Deploy this already-uploaded release (its SHA-256) instead of building the repository's app: a roll back. */
    readonly appRelease?: string;
    /** App hosts replaced at a time when the app changes; 0 means all at once. */
    readonly appRolloutBatch: number;
}

/** Raw config as Pulumi hands it to a program: fully qualified keys, every value a string (arrays as JSON). */
export type RawConfig = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

type Parsed<T> = { ok: true; value: T } | { ok: false; allowed: string };
type Parser<T> = (raw: string) => Parsed<T>;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const no = <T>(allowed: string): Parsed<T> => ({ ok: false, allowed });

function integer(min: number, max: number): Parser<number> {
    return (raw) => {
        const n = Number(raw.trim());
        return /^-?\d+$/.test(raw.trim()) && n >= min && n <= max
            ? ok(n)
            : no(`an integer from ${min} to ${max}`);
    };
}

const boolean: Parser<boolean> = (raw) =>
    raw === "true" ? ok(true) : raw === "false" ? ok(false) : no("true or false");

function oneOf<T extends string>(values: readonly T[]): Parser<T> {
    return (raw) => ((values as readonly string[]).includes(raw) ? ok(raw as T) : no(`one of ${values.join(", ")}`));
}

/** A release the roles know, whose packages can run the stack as deployed (core/ubuntu.ts releaseRefusal). */
const ubuntuRelease: Parser<UbuntuRelease> = (raw) => {
    const known = oneOf(UBUNTU_RELEASES)(raw);
    if (!known.ok) return known;
    const refusal = releaseRefusal(known.value);
    return refusal ? no(refusal) : known;
};

const HOSTNAME_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const domainName: Parser<string> = (raw) => {
    const labels = raw.split(".");
    return raw.length <= 253 && labels.length >= 2 && labels.every((l) => HOSTNAME_LABEL.test(l)) && /[a-z]/.test(labels[labels.length - 1])
        ? ok(raw)
        : no("a lower-case DNS name with at least two labels, such as example.com");
};

const hostedZoneId: Parser<string> = (raw) =>
    /^Z[A-Z0-9]{1,31}$/.test(raw) ? ok(raw) : no("a Route53 hosted zone ID such as Z0123456789ABCDEFGHIJ");

const region: Parser<string> = (raw) =>
    /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/.test(raw) ? ok(raw) : no("an AWS region name such as us-east-1");

const awsProfile: Parser<string> = (raw) =>
    /^[A-Za-z0-9_.@+-]{1,128}$/.test(raw) ? ok(raw) : no("a profile name from your AWS config (letters, digits, . _ - + @), such as prod");

const instanceType: Parser<string> = (raw) =>
    instanceSpec(raw) ? ok(raw) : no(`an instance type of a known family (${knownInstanceFamilies().join(", ")}), such as c7i.2xlarge`);

const vpcCidr: Parser<string> = (raw) => {
    const cidr = parseCidr(raw);
    return cidr && cidr.prefix >= 16 && cidr.prefix <= 22 && cidr.isPrivate && cidr.isNetworkAddress
        ? ok(raw)
        : no("a private IPv4 network (10/8, 172.16/12, 192.168/16) with a prefix from /16 to /22, such as 10.20.0.0/16");
};

/** A JSON value, or undefined when the text is not JSON (the list parsers say what they want instead). */
function jsonValue(raw: string): unknown {
    try {
        return JSON.parse(raw);
    } catch {
        return undefined;
    }
}

const cidrList: Parser<string[]> = (raw) => {
    const value = jsonValue(raw);
    const allowed = 'a list of IPv4 CIDR blocks such as ["203.0.113.0/24"]; never 0.0.0.0/0';
    if (!Array.isArray(value)) return no(allowed);
    const ok_ = value.every((v) => {
        const cidr = typeof v === "string" ? parseCidr(v) : undefined;
        return cidr !== undefined && cidr.isNetworkAddress && cidr.prefix > 0;
    });
    return ok_ ? ok(value as string[]) : no(allowed);
};

/** The bundle is compiled for Node 20 (NODE_TARGET in delivery/build.ts) and runs on later LTS lines. */
export const NODE_MAJORS = ["20", "22", "24"] as const;
const nodeVersion: Parser<string> = (raw) =>
    /^\d+\.\d+\.\d+$/.test(raw) && (NODE_MAJORS as readonly string[]).includes(raw.split(".")[0])
        ? ok(raw)
        : no(`an exact Node.js version (MAJOR.MINOR.PATCH) of an LTS line the app supports (${NODE_MAJORS.join(", ")}), such as 22.21.0`);

const sha256: Parser<string> = (raw) =>
    /^[0-9a-f]{64}$/.test(raw) ? ok(raw) : no("the SHA-256 of an uploaded app release (64 lower-case hex digits), as `pulumi stack output appRelease` prints it");

const utcTime: Parser<string> = (raw) =>
    /^([01]\d|2[0-3]):[0-5]\d$/.test(raw) ? ok(raw) : no("a time of day in UTC as HH:MM (24-hour), such as 03:00");

const shareDestinations: Parser<ShareDestination[]> = (raw) => {
    const parsed = parseShareDestinations(raw, true);
    if (typeof parsed === "string") return no(`a JSON list of {"name", "url" (https, port 443), "timeoutSeconds" (1-30, default 5), "attempts" (1-10, default 4)}: ${parsed}`);
    // A share job retries inside the job: all of it must fit in the job workers' timeout, or they would be aborted.
    const long = parsed.find((d) => shareJobBoundSeconds(d) > JOB_TIMEOUT_SECONDS - 10);
    if (long) return no(`destinations whose attempts × timeoutSeconds plus back-off fit in ${JOB_TIMEOUT_SECONDS - 10} s (${long.name} may take ${shareJobBoundSeconds(long)} s)`);
    return ok(parsed);
};

const appleId = (what: string): Parser<string> => (raw) => (APPLE_ID.test(raw) ? ok(raw) : no(`${what}: 10 upper-case letters or digits, as Apple's developer account shows it`));
const bundleId: Parser<string> = (raw) => (BUNDLE_ID.test(raw) ? ok(raw) : no("the iOS app's bundle ID, such as com.example.photos"));
const gcpProjectId: Parser<string> = (raw) => (GCP_PROJECT_ID.test(raw) ? ok(raw) : no("a Firebase project ID: 6-30 lower-case letters, digits and dashes, starting with a letter"));
const apnsKey: Parser<string> = (raw) => {
    const problem = apnsKeyProblem(raw);
    return problem ? no(`${problem}; set it with \`pulumi config set --secret instagram:apnsKey < AuthKey_KEYID.p8\``) : ok(raw);
};
const serviceAccount: Parser<string> = (raw) => {
    const parsed = parseServiceAccount(raw);
    return typeof parsed === "string" ? no(`${parsed}; set it with \`pulumi config set --secret instagram:fcmServiceAccount < service-account.json\``) : ok(raw);
};

const sentryDsn: Parser<string> = (raw) => {
    const parsed = parseSentryDsn(raw);
    return typeof parsed === "string" ? no(`${parsed}; set it with \`pulumi config set --secret instagram:sentryDsn https://KEY@HOST/PROJECT\``) : ok(raw.trim());
};

const emailList: Parser<string[]> = (raw) => {
    const value = jsonValue(raw);
    const ok_ = Array.isArray(value) && value.length <= 20 && value.every((v) => typeof v === "string" && v.length <= 254 && /^[^\s@"'<>,;]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(v));
    return ok_ ? ok(value as string[]) : no('a JSON list of up to 20 e-mail addresses, such as ["oncall@example.com"]');
};

const escalationPolicy: Parser<string> = (raw) => (/^P[A-Z0-9]{6}$/.test(raw) ? ok(raw) : no("a PagerDuty escalation policy ID, such as PABC123 (in its URL: /escalation_policies/PABC123)"));

function decimal(min: number, max: number): Parser<number> {
    return (raw) => {
        const n = Number(raw.trim());
        return /^\d+(\.\d+)?$/.test(raw.trim()) && n >= min && n <= max ? ok(n) : no(`a number from ${min} to ${max}`);
    };
}

const raidLevel: Parser<RaidLevel> = (raw) => (raw === "0" ? ok(0) : raw === "10" ? ok(10) : no("0 or 10"));

interface KeySpec<K extends keyof InstagramConfig> {
    readonly key: string;
    readonly field: K;
    readonly parse: Parser<InstagramConfig[K]>;
    readonly optional?: boolean;
    /** A config secret: read without the CLI's plain-text warning, and never quoted in an error. */
    readonly secret?: boolean;
}

function spec<K extends keyof InstagramConfig>(field: K, parse: Parser<NonNullable<InstagramConfig[K]>>, optional = false, secret = false): KeySpec<K> {
    return { key: `${PROJECT}:${field}`, field, parse: parse as Parser<InstagramConfig[K]>, optional, secret };
}

/** Every key the program reads, in the order a user meets them in Pulumi.yaml. */
export const CONFIG_KEYS: readonly KeySpec<keyof InstagramConfig>[] = [
    { key: "aws:region", field: "region", parse: region },
    { key: "aws:profile", field: "profile", parse: awsProfile, optional: true },
    spec("domain", domainName),
    spec("hostedZoneId", hostedZoneId, true),
    spec("ubuntuRelease", ubuntuRelease),
    spec("azCount", integer(2, 3)),
    spec("vpcCidr", vpcCidr),
    spec("adminCidrs", cidrList),
    spec("natPerAz", boolean),
    spec("deletionProtection", boolean),
    spec("appServers", integer(1, 200)),
    spec("appInstanceType", instanceType),
    spec("appWorkers", integer(0, 256)),
    spec("physicalShards", integer(1, 128)),
    spec("logicalShards", integer(1, MAX_LOGICAL_SHARDS)),
    spec("shardInstanceType", instanceType),
    spec("shardVolumes", integer(1, 16)),
    spec("shardVolumeGiB", integer(1, 16384)),
    spec("shardRaidLevel", raidLevel),
    spec("shardStandby", boolean),
    spec("shardSnapshotTime", utcTime),
    spec("shardSnapshotRetention", integer(1, 1000)),
    spec("backupFullDay", oneOf(BACKUP_DAYS)),
    spec("backupTime", utcTime),
    spec("backupRetentionFull", integer(1, 100)),
    spec("backupDeletedRetentionDays", integer(1, 3650)),
    spec("redisInstanceType", instanceType),
    spec("redisReplica", boolean),
    spec("memcachedNodes", integer(1, 64)),
    spec("memcachedInstanceType", instanceType),
    spec("monitoringInstanceType", instanceType),
    spec("searchServers", integer(0, 2)),
    spec("searchInstanceType", instanceType),
    spec("searchVolumes", integer(1, 16)),
    spec("searchVolumeGiB", integer(1, 16384)),
    spec("gearmanServers", integer(1, 8)),
    spec("gearmanInstanceType", instanceType),
    spec("workerServers", integer(0, 200)),
    spec("workerInstanceType", instanceType),
    spec("jobWorkers", integer(0, 512)),
    spec("shareDestinations", shareDestinations),
    spec("apnsTeamId", appleId("the team ID"), true),
    spec("apnsKeyId", appleId("the key ID of the .p8 key"), true),
    spec("apnsTopic", bundleId, true),
    spec("apnsEnvironment", oneOf(APNS_ENVIRONMENTS)),
    spec("apnsKey", apnsKey, true, true),
    spec("fcmProjectId", gcpProjectId, true),
    spec("fcmServiceAccount", serviceAccount, true, true),
    spec("sentryDsn", sentryDsn, true, true),
    spec("alertEmails", emailList),
    spec("pagerdutyEscalationPolicy", escalationPolicy, true),
    spec("alarmLb5xxPercent", decimal(0.01, 100)),
    spec("alarmLbP99Ms", integer(10, 60_000)),
    spec("alarmCpuCreditsMin", integer(0, 10_000)),
    spec("alarmDataVolumeUsedPercent", integer(1, 99)),
    spec("alarmDataVolumeIoBusyPercent", integer(1, 100)),
    spec("alarmReplicationLagSeconds", integer(1, 86400)),
    spec("alarmWalArchiveLagSeconds", integer(60, 86400)),
    spec("alarmRedisMemoryPercent", integer(1, 100)),
    spec("alarmGearmanQueuedJobs", integer(1, 100000000)),
    spec("nodeVersion", nodeVersion),
    spec("appRelease", sha256, true),
    spec("appRolloutBatch", integer(0, 200)),
];

/** Push is all or nothing per platform: a half-configured one would fail at the first notification instead. */
function pushConfigProblems(c: InstagramConfig): string[] {
    const problems: string[] = [];
    const apns = { apnsTeamId: c.apnsTeamId, apnsKeyId: c.apnsKeyId, apnsTopic: c.apnsTopic, apnsKey: c.apnsKey };
    const missing = Object.entries(apns).filter(([, v]) => v === undefined).map(([k]) => `${PROJECT}:${k}`);
    if (missing.length > 0 && missing.length < 4) problems.push(`iOS push needs ${PROJECT}:apnsTeamId, apnsKeyId, apnsTopic and apnsKey together: ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not set (set them, or unset the others to keep iOS push off)`);
    if ((c.fcmProjectId === undefined) !== (c.fcmServiceAccount === undefined)) {
        problems.push(`Android push needs ${PROJECT}:fcmProjectId and ${PROJECT}:fcmServiceAccount together: ${c.fcmProjectId === undefined ? `${PROJECT}:fcmProjectId` : `${PROJECT}:fcmServiceAccount`} is not set`);
    } else if (c.fcmServiceAccount !== undefined) {
        const account = parseServiceAccount(c.fcmServiceAccount);
        if (typeof account !== "string" && account.projectId !== undefined && account.projectId !== c.fcmProjectId) {
            problems.push(`${PROJECT}:fcmProjectId = "${c.fcmProjectId}": the service account (${PROJECT}:fcmServiceAccount) belongs to project "${account.projectId}"`);
        }
    }
    return problems;
}

/** The push settings the hosts get (no secrets): each platform only when fully configured. */
export function pushSettingsOf(c: InstagramConfig): PushSettings {
    return {
        ...(c.apnsTeamId && c.apnsKeyId && c.apnsTopic && c.apnsKey ? { apns: { teamId: c.apnsTeamId, keyId: c.apnsKeyId, topic: c.apnsTopic, environment: c.apnsEnvironment } } : {}),
        ...(c.fcmProjectId && c.fcmServiceAccount ? { fcm: { projectId: c.fcmProjectId } } : {}),
    };
}

/**
 * The environment of every command the program runs on the deployer's machine that calls AWS (the deploy-time
 * waits, tools/wait-healthy.ts): the provider's region and, when aws:profile is set, its profile, so the
 * command's AWS SDK resolves the same credentials the provider does. Names only, never credentials: the SDK
 * reads the profile from the shared config and credentials files itself (SSO, assume-role and
 * credential_process profiles included). Without aws:profile the command inherits the deployer's environment,
 * as the provider does (an AWS_PROFILE set there reaches both).
 *
 * With AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY also in the deployer's environment the profile wins, in the
 * provider (aws-sdk-go-base: "The Profile is now used instead of the environment variable credentials") and in
 * the AWS SDK for JavaScript v3's default chain, which skips its environment-credentials step whenever
 * AWS_PROFILE is set and prints a warning (@aws-sdk/credential-provider-node); test/delivery/wait-healthy.test.ts
 * pins that behaviour.
 */
export function awsCommandEnvironment(c: Pick<InstagramConfig, "region" | "profile">): Record<string, string> {
    return { AWS_REGION: c.region, ...(c.profile ? { AWS_PROFILE: c.profile } : {}) };
}

/** Rules that involve more than one key; each names every key it involves. */
function crossKeyProblems(c: InstagramConfig): string[] {
    const problems: string[] = [];
    if (c.logicalShards < c.physicalShards) {
        problems.push(
            `${PROJECT}:logicalShards = ${c.logicalShards}: must be at least ${PROJECT}:physicalShards (${c.physicalShards}), ` +
                "since every physical shard holds at least one logical shard",
        );
    }
    if (c.shardRaidLevel === 10 && (c.shardVolumes < 4 || c.shardVolumes % 2 !== 0)) {
        problems.push(
            `${PROJECT}:shardVolumes = ${c.shardVolumes}: RAID 10 (${PROJECT}:shardRaidLevel) needs an even number of volumes, at least 4; ` +
                "use shardRaidLevel 0 for fewer volumes",
        );
    }
    problems.push(...pushConfigProblems(c));
    const sizingChecks: [keyof InstagramConfig, () => unknown][] = [
        ["shardInstanceType", () => postgresSizing(c.shardInstanceType, 1)],
        ...(c.searchServers > 0 ? [["searchInstanceType", () => postgresSizing(c.searchInstanceType, 1)] as [keyof InstagramConfig, () => unknown]] : []),
        ["redisInstanceType", () => redisMaxMemoryMiB(c.redisInstanceType)],
        ["memcachedInstanceType", () => memcachedSizing(c.memcachedInstanceType, 1)],
    ];
    for (const [field, check] of sizingChecks) {
        try {
            check();
        } catch (e) {
            problems.push(`${PROJECT}:${field} = ${JSON.stringify(c[field])}: ${(e as Error).message}`);
        }
    }
    return problems;
}

/**
 * Parse and check the raw config. Throws one ConfigError listing every problem (not just the first), each
 * naming the key, the value it got and what is allowed.
 */
export function validateConfig(raw: RawConfig): InstagramConfig {
    const problems: string[] = [];
    const out: Record<string, unknown> = {};
    for (const { key, field, parse, optional, secret } of CONFIG_KEYS) {
        const value = raw[key];
        if (value === undefined || value === "") {
            if (!optional) problems.push(`${key} is not set: set it with \`pulumi config set ${key} VALUE\``);
            continue;
        }
        const parsed = parse(value);
        if (parsed.ok) out[field] = parsed.value;
        else problems.push(`${key} = ${secret ? "[secret]" : JSON.stringify(value)}: must be ${parsed.allowed}`);
    }
    const known = new Set(CONFIG_KEYS.map((k) => k.key));
    for (const key of Object.keys(raw)) {
        if (key.startsWith(`${PROJECT}:`) && !known.has(key)) {
            problems.push(`${key} is not a key this program reads (a typo?); the keys are declared in Pulumi.yaml`);
        }
    }
    if (problems.length === 0) problems.push(...crossKeyProblems(out as unknown as InstagramConfig));
    if (problems.length > 0) throw new ConfigError(problems);
    return out as unknown as InstagramConfig;
}
