/**
 * The whole Instagram stack: network, secrets, edge, media, the data tiers, the app tier and monitoring,
 * wired together. No business rules live here: sizing, placement, rules and host contents come from pure
 * modules (core/, cloud-init/); this file only says which resource feeds which.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import { awsCommandEnvironment, InstagramConfig, pushSettingsOf } from "../core/config";
import { instanceSpec } from "../core/instance-types";
import { monitoringHostIp, privateSubnetCidr } from "../core/network-plan";
import { ShardRange } from "../core/shard-map";
import { shardSnapshotTag, ShardSnapshots } from "./shard-snapshots";
import { HostTools } from "./host-tools";
import { BackupRepository } from "./backups";
import { directoryShardMap, formatShardDirectory, logicalShardsOn, ShardDirectory, shardDirectoryParameterName, withPrimaryAddresses } from "../core/shard-directory";
import { appWorkerCount, jobWorkerCount, memcachedSizing, postgresSizing } from "../core/sizing";
import { HOST_ROLES, HostRole } from "../core/security-rules";
import { MAX_UPLOAD_MIB } from "../core/app-contract";
import { shellCommand } from "../core/shell-quote";
import { MuninNode } from "../cloud-init/configs/munin-master";
import { ubuntuAmi } from "./ami";
import { Network } from "./network";
import { Secrets } from "./secrets";
import { Edge } from "./edge";
import { MediaStore } from "./media";
import { HostIdentity, PolicyStatement, TierPlacement } from "./host";
import { PostgresShard } from "./postgres-shard";
import { Redis } from "./redis";
import { MemcachedPool } from "./memcached";
import { GearmanServers } from "./gearman";
import { SearchTier } from "./search";
import { WorkerTier } from "./worker-tier";
import { AppTier } from "./app-tier";
import { Monitoring } from "./monitoring";
import { Alerting } from "./alerting";
import { alertDestinations } from "../core/alerting";
import { hostMetricsNamespace, METRICS_COLLECTORS } from "../core/host-metrics";
import { AppRelease } from "./app-release";
import { stackTags } from "./tags";

/** How long `pulumi up` waits for https://<domain>/readyz through the load balancer before it fails. */
export const SITE_READY_TIMEOUT_S = 600;

export interface InstagramStackArgs {
    /** The validated stack config (core/config.ts); every size and count comes from it. */
    readonly config: InstagramConfig;
    /** Where each logical shard lives: the deployed directory reconciled with the config (core/shard-directory.ts). */
    readonly directory: ShardDirectory;
    /** The project directory: the app is built there, and the deploy-time waits run from there. */
    readonly projectRoot: string;
    /** Hash of the app's sources (delivery/sources.ts appSourceHash). */
    readonly appSourceHash: string;
}

/** The Instagram stack of 2011 on today's AWS: every tier, wired together, in one component. */
export class InstagramStack extends pulumi.ComponentResource {
    /** https://<domain>, through the load balancer. */
    readonly siteUrl: pulumi.Output<string>;
    /** https://media.<domain>, CloudFront in front of the private photo bucket. */
    readonly mediaUrl: pulumi.Output<string>;
    /** The load balancer's own DNS name (the apex and www are aliases of it). */
    readonly loadBalancerDns: pulumi.Output<string>;
    /** The photo bucket's name. */
    readonly mediaBucket: pulumi.Output<string>;
    /** Logical → physical shards, from the shard directory, as the hosts and the app use it. */
    readonly shardMap: ShardRange[];
    /** The SSM parameter holding the shard directory. */
    readonly shardDirectoryParameter: pulumi.Output<string>;
    /** Private addresses by tier: app, shardPrimary, shardStandby, redis, memcached, gearman, worker, search, monitoring. */
    readonly privateIps: pulumi.Output<Record<string, string[]>>;
    /** The SSM SecureString names of the stack's secrets (never their values). */
    readonly secretParameters: pulumi.Output<string[]>;
    /** SHA-256 of the app release the app hosts run. */
    readonly appRelease: pulumi.Output<string>;
    /** s3:// URL of that release in the artifacts bucket. */
    readonly appReleaseUrl: pulumi.Output<string>;
    /** What the health gate saw at https://<domain>/readyz at the end of `pulumi up`. */
    readonly siteReady: pulumi.Output<string>;
    /** The alert topic every alarm sends ALARM and OK to. */
    readonly alertTopic: pulumi.Output<string>;
    /** Where alerts go, in words ("alerts go nowhere: …" when no one subscribes). */
    readonly alerts: string;
    /** Where CloudFront's standard logs go, in words, with the reason when not to the stack's region. */
    readonly cloudfrontLogs: string;

    constructor(name: string, args: InstagramStackArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:stack:InstagramStack", name, {}, opts);
        const c = args.config;
        // Every AWS resource of the stack goes through these providers, so the stack's tags are their
        // defaultTags (in tagsAll), never repeated per resource; resources add only what tells them apart.
        const defaultTags = { tags: stackTags() };
        const awsProvider = new aws.Provider("aws", { region: c.region, profile: c.profile, defaultTags }, { parent: this });
        // The deploy-time waits call AWS from this machine: the same region and profile as the provider.
        // (The bundle build, app-release.ts, calls no AWS API and gets none: a profile change must not rebuild.)
        const awsEnvironment = awsCommandEnvironment(c);
        // Components only: their children inherit the provider (a custom resource takes `provider` instead).
        const parent = { parent: this, providers: { aws: awsProvider } };
        // Data sources called from here (not from a component) name the provider themselves.
        const invoke = { parent: this, provider: awsProvider };

        const network = new Network("net", { vpcCidr: c.vpcCidr, azCount: c.azCount, natPerAz: c.natPerAz, adminCidrs: c.adminCidrs, region: c.region }, parent);
        const secrets = new Secrets("secrets", { provided: { "apns-key": c.apnsKey, "fcm-service-account": c.fcmServiceAccount, "sentry-dsn": c.sentryDsn } }, parent);

        const zoneId = c.hostedZoneId
            ? pulumi.output(c.hostedZoneId)
            : aws.route53.getZoneOutput({ name: c.domain, privateZone: false }, invoke).zoneId;
        const edge = new Edge("edge", {
            domain: c.domain,
            zoneId,
            vpcId: network.vpc.id,
            publicSubnetIds: network.publicSubnets.map((s) => s.id),
            securityGroupId: network.securityGroups.lb.id,
            deletionProtection: c.deletionProtection,
        }, parent);
        const usEast1 = new aws.Provider("us-east-1", { region: "us-east-1", profile: c.profile, defaultTags }, { parent: this });
        const media = new MediaStore("media", { domain: c.domain, zoneId, region: c.region, usEast1, deletionProtection: c.deletionProtection }, parent);

        const release = new AppRelease("app", {
            projectRoot: args.projectRoot,
            sourceHash: args.appSourceHash,
            pinnedSha256: c.appRelease,
            deletionProtection: c.deletionProtection,
            accessLogs: { bucket: media.logsBucket.id, prefix: "s3/artifacts/" },
        }, parent);
        const hostTools = new HostTools("host-tools", { bucket: release.bucket }, parent);
        const backups = new BackupRepository("backups", { deletedVersionDays: c.backupDeletedRetentionDays, protect: c.deletionProtection, accessLogs: { bucket: media.logsBucket.id, prefix: "s3/backups/" } }, parent);

        // The shard directory's ARN, from its fixed name: the app hosts' identity exists before the parameter,
        // whose value names the shard primaries' addresses.
        const directoryName = shardDirectoryParameterName(pulumi.getStack());
        const directoryArn = pulumi.interpolate`arn:${aws.getPartitionOutput({}, invoke).partition}:ssm:${c.region}:${aws.getCallerIdentityOutput({}, invoke).accountId}:parameter${directoryName}`;
        const tierStatements: Record<HostRole, PolicyStatement[]> = {
            app: [
                // The host's instagram-shard-directory service copies the directory for the app every few seconds.
                { Sid: "ReadShardDirectory", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: directoryArn },
                // Delete: a user deleting a photo deletes its bytes too.
                { Sid: "PhotosReadWrite", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: pulumi.interpolate`${media.bucket.arn}/*` },
                release.readStatement,
            ],
            // Each physical shard has a role of its own with its part of the backup bucket (shardIdentity below).
            shard: [hostTools.readStatement],
            redis: backups.redisStatements,
            memcached: [],
            gearman: [],
            // Job workers run the same release and route by the same shard directory; photos are not theirs.
            worker: [{ Sid: "ReadShardDirectory", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: directoryArn }, release.readStatement],
            // The index is rebuilt from the shards, not restored: no bucket (cloud-init/roles/search.ts).
            search: [],
            monitoring: [],
        };
        // The host metrics publisher (cloud-init/roles/host-metrics.ts) writes into the stack's namespace only.
        const metricsNamespace = hostMetricsNamespace(pulumi.getStack());
        const metricsStatement = (role: HostRole): PolicyStatement[] => (METRICS_COLLECTORS[role]
            ? [{ Sid: "PublishHostMetrics", Effect: "Allow", Action: ["cloudwatch:PutMetricData"], Resource: "*", Condition: { StringEquals: { "cloudwatch:namespace": metricsNamespace } } }]
            : []);
        const statementsOf = (role: HostRole) => [...secrets.readStatementsFor(role), ...tierStatements[role], ...metricsStatement(role)];
        const identities = Object.fromEntries(HOST_ROLES.filter((role) => role !== "shard").map((role) => [
            role,
            new HostIdentity(`${role}-host`, { role, statements: statementsOf(role) }, parent),
        ])) as Record<Exclude<HostRole, "shard">, HostIdentity>;
        // One role per physical shard (its primary and standby): a shard host may list, read, write and delete
        // backups under its own stanza's prefix only, so a compromised or mistaken host cannot expire another
        // shard's backups (test/policies/host-calls-iam.test.ts evaluates it).
        const shardIdentity = (physicalShard: number) => new HostIdentity(`shard-${physicalShard}-host`, {
            role: "shard",
            statements: [...statementsOf("shard"), ...backups.shardStatements(physicalShard)],
        }, parent);

        const amis = new Map<string, pulumi.Output<string>>();
        const amiFor = (instanceType: string) => {
            const arch = instanceSpec(instanceType)!.architecture;
            if (!amis.has(arch)) amis.set(arch, ubuntuAmi(c.ubuntuRelease, arch, invoke));
            return amis.get(arch)!;
        };
        const placementWith = (role: HostRole, identity: HostIdentity): TierPlacement => ({
            role,
            subnets: network.privateSubnets,
            securityGroup: network.securityGroups[role],
            identity,
            amiFor,
            muninMasterIp: monitoringHostIp(c.vpcCidr),
        });
        const placement = (role: Exclude<HostRole, "shard">) => placementWith(role, identities[role]);

        const workers = appWorkerCount(c.appInstanceType, c.appWorkers);
        const appClients = c.appServers * workers;
        this.shardMap = directoryShardMap(args.directory);
        const sizing = postgresSizing(c.shardInstanceType, appClients);
        const shards = args.directory.physicalShards.map(({ physicalShard }) => new PostgresShard(`shard-${physicalShard}`, {
            hosts: placementWith("shard", shardIdentity(physicalShard)),
            physicalShard,
            logicalShards: logicalShardsOn(args.directory, physicalShard),
            azCount: c.azCount,
            instanceType: c.shardInstanceType,
            ubuntuRelease: c.ubuntuRelease,
            sizing,
            volumes: c.shardVolumes,
            volumeGiB: c.shardVolumeGiB,
            raidLevel: c.shardRaidLevel,
            standby: c.shardStandby,
            protectData: c.deletionProtection,
            replicationCidrs: Array.from({ length: c.azCount }, (_, i) => privateSubnetCidr(c.vpcCidr, i)),
            snapshotTags: shardSnapshotTag(pulumi.getStack()),
            hostTools: { url: hostTools.url, sha256: hostTools.sha256 },
            backup: { bucket: backups.bucket.bucket.bucket, region: c.region, retentionFull: c.backupRetentionFull, fullDay: c.backupFullDay, time: c.backupTime },
        }, parent));
        new ShardSnapshots("shard-snapshots", { time: c.shardSnapshotTime, retention: c.shardSnapshotRetention }, parent);

        // The directory as deployed state: written here on the first deploy and kept, with each physical shard's
        // endpoint, on every later one (the config never moves a logical shard; see core/shard-directory.ts).
        const directoryParameter = new aws.ssm.Parameter("shard-directory", {
            name: directoryName,
            type: aws.ssm.ParameterType.String,
            // Standard (4 KB) while it fits; advanced (8 KB) once moves have split it into many ranges.
            tier: "Intelligent-Tiering",
            description: `Shard directory of stack ${pulumi.getStack()}: logical shard ranges -> physical shards, and each primary's pgbouncer`,
            // A promoted standby keeps serving as its shard's primary: the deployed directory says which host it is.
            value: pulumi
                .all(shards.map((s) => pulumi.all([s.primary.host.privateIp, s.standby?.host.privateIp ?? ""])))
                .apply((ips) => formatShardDirectory(withPrimaryAddresses(args.directory, (p, host) => {
                    const [primary, standby] = ips[p];
                    // core/shard-directory.ts refuses shardStandby=false while a standby serves.
                    return host === "standby" ? standby : primary;
                }))),
        }, { parent: this, provider: awsProvider, protect: c.deletionProtection });
        this.shardDirectoryParameter = directoryParameter.name;

        const redis = new Redis("redis", { hosts: placement("redis"), instanceType: c.redisInstanceType, replica: c.redisReplica, ubuntuRelease: c.ubuntuRelease, dumpBucket: backups.bucket.bucket.bucket }, parent);
        const memcached = new MemcachedPool("memcached", {
            hosts: placement("memcached"),
            nodes: c.memcachedNodes,
            instanceType: c.memcachedInstanceType,
            azCount: c.azCount,
            sizing: memcachedSizing(c.memcachedInstanceType, appClients),
        }, parent);

        // The search tier's clients: every app and job-worker process holds a small pool, through pgbouncer.
        const search = c.searchServers > 0
            ? new SearchTier("search", {
                hosts: placement("search"),
                servers: c.searchServers as 1 | 2,
                instanceType: c.searchInstanceType,
                azCount: c.azCount,
                ubuntuRelease: c.ubuntuRelease,
                sizing: postgresSizing(c.searchInstanceType, appClients + c.workerServers * jobWorkerCount(c.workerInstanceType, c.jobWorkers, true)),
                volumes: c.searchVolumes,
                volumeGiB: c.searchVolumeGiB,
                protectData: c.deletionProtection,
                replicationCidrs: Array.from({ length: c.azCount }, (_, i) => privateSubnetCidr(c.vpcCidr, i)),
            }, parent)
            : undefined;

        const gearman = new GearmanServers("gearman", { hosts: placement("gearman"), servers: c.gearmanServers, instanceType: c.gearmanInstanceType, azCount: c.azCount }, parent);
        const gearmanHosts = gearman.hosts.map((h) => h.privateIp);
        // Job workers run on their own tier, or on the app hosts when the stack has none.
        const jobWorkersOnApp = c.workerServers === 0 ? jobWorkerCount(c.appInstanceType, c.jobWorkers, false) : 0;

        // What every host running the app release is told (app hosts and job-worker hosts alike).
        const releaseParams = {
            workers,
            logicalShards: c.logicalShards,
            shardMap: this.shardMap,
            pgbouncerHosts: shards.map((s) => s.primary.host.privateIp),
            redisHost: redis.primary.privateIp,
            memcachedHosts: memcached.hosts.map((h) => h.privateIp),
            mediaBucket: media.bucket.bucket,
            mediaBaseUrl: media.mediaUrl,
            region: c.region,
            vpcCidr: c.vpcCidr,
            maxUploadMiB: MAX_UPLOAD_MIB,
            release: { url: release.url, sha256: release.sha256 },
            nodeVersion: c.nodeVersion,
            // The parameter's name as an output, so the app hosts boot after it exists.
            shardDirectoryParameter: directoryParameter.name,
            gearmanHosts,
            shareDestinations: c.shareDestinations,
            push: pushSettingsOf(c),
            searchHost: search?.primary.host.privateIp,
            searchStandbyHost: search?.standby?.host.privateIp,
            ...(c.sentryDsn ? { errorReports: { environment: pulumi.getStack() } } : {}),
        };
        const app = new AppTier("app", {
            hosts: placement("app"),
            servers: c.appServers,
            instanceType: c.appInstanceType,
            azCount: c.azCount,
            targetGroupArn: edge.targetGroup.arn,
            region: c.region,
            projectRoot: args.projectRoot,
            rolloutBatch: c.appRolloutBatch,
            awsEnvironment,
            appParams: pulumi.output({ ...releaseParams, jobWorkers: jobWorkersOnApp }),
        }, parent);
        const workerTier = c.workerServers > 0
            ? new WorkerTier("worker", {
                hosts: placement("worker"),
                servers: c.workerServers,
                instanceType: c.workerInstanceType,
                azCount: c.azCount,
                // No memcached: no job reads or writes the cache, and the worker group has no rule to it
                // (test/program/flows.test.ts holds every address a host is given to its security groups).
                params: pulumi.output({ ...releaseParams, memcachedHosts: [], jobWorkers: jobWorkerCount(c.workerInstanceType, c.jobWorkers, true) }),
            }, parent)
            : undefined;

        // The health gate: `pulumi up` ends with the site answering /readyz through the load balancer, or
        // fails naming the check that did not pass. Reruns whenever an app host or the release changes.
        const readyUrl = `https://${c.domain}/readyz`;
        const siteReady = new command.local.Command("site-ready", {
            create: shellCommand(["node", "--import", "tsx", "tools/wait-healthy.ts", "url", readyUrl, "--timeout", String(SITE_READY_TIMEOUT_S)]),
            dir: args.projectRoot,
            environment: awsEnvironment,
            triggers: [release.sha256, ...app.hosts.map((h) => h.instance.id)],
            logging: "stdoutAndStderr",
        }, { parent: this, dependsOn: [edge, ...app.inService] });

        const groups: Record<string, pulumi.Output<string>[]> = {
            app: app.hosts.map((h) => h.privateIp),
            shardPrimary: shards.map((s) => s.primary.host.privateIp),
            shardStandby: shards.flatMap((s) => (s.standby ? [s.standby.host.privateIp] : [])),
            redis: [redis.primary.privateIp, ...(redis.replica ? [redis.replica.privateIp] : [])],
            memcached: memcached.hosts.map((h) => h.privateIp),
            gearman: gearmanHosts,
            worker: workerTier?.hosts.map((h) => h.privateIp) ?? [],
            search: search ? [search.primary.host.privateIp, ...(search.standby ? [search.standby.host.privateIp] : [])] : [],
        };
        const muninNodes: pulumi.Output<MuninNode>[] = [
            ...app.hosts.map((h, i) => h.privateIp.apply((address) => ({ name: `app-${i}`, group: "app", address }))),
            ...shards.flatMap((s, i) => [
                s.primary.host.privateIp.apply((address) => ({ name: `shard-${i}-primary`, group: "postgres", address })),
                ...(s.standby ? [s.standby.host.privateIp.apply((address) => ({ name: `shard-${i}-standby`, group: "postgres", address }))] : []),
            ]),
            redis.primary.privateIp.apply((address) => ({ name: "redis-primary", group: "redis", address })),
            ...(redis.replica ? [redis.replica.privateIp.apply((address) => ({ name: "redis-replica", group: "redis", address }))] : []),
            ...memcached.hosts.map((h, i) => h.privateIp.apply((address) => ({ name: `memcached-${i}`, group: "memcached", address }))),
            ...gearman.hosts.map((h, i) => h.privateIp.apply((address) => ({ name: `gearman-${i}`, group: "gearman", address }))),
            ...(workerTier?.hosts ?? []).map((h, i) => h.privateIp.apply((address) => ({ name: `worker-${i}`, group: "worker", address }))),
            ...(search ? [search.primary, ...(search.standby ? [search.standby] : [])] : []).map((m, i) => m.host.privateIp.apply((address) => ({ name: i === 0 ? "search-primary" : "search-standby", group: "search", address }))),
        ];
        const monitoring = new Monitoring("munin", { hosts: placement("monitoring"), instanceType: c.monitoringInstanceType, nodes: muninNodes }, parent);

        const everyHost = [
            ...app.hosts,
            ...shards.flatMap((s) => [s.primary.host, ...(s.standby ? [s.standby.host] : [])]),
            redis.primary, ...(redis.replica ? [redis.replica] : []),
            ...memcached.hosts,
            ...gearman.hosts,
            ...(workerTier?.hosts ?? []),
            ...(search ? [search.primary.host, ...(search.standby ? [search.standby.host] : [])] : []),
            monitoring.host,
        ];
        const alerting = new Alerting("alerts", {
            domain: c.domain,
            region: c.region,
            usEast1,
            loadBalancer: edge.loadBalancer,
            targetGroup: edge.targetGroup,
            hosts: everyHost,
            thresholds: {
                lb5xxPercent: c.alarmLb5xxPercent, lbP99Ms: c.alarmLbP99Ms, cpuCreditsMin: c.alarmCpuCreditsMin,
                dataVolumeUsedPercent: c.alarmDataVolumeUsedPercent, dataVolumeIoBusyPercent: c.alarmDataVolumeIoBusyPercent,
                replicationLagSeconds: c.alarmReplicationLagSeconds, walArchiveLagSeconds: c.alarmWalArchiveLagSeconds,
                redisMemoryPercent: c.alarmRedisMemoryPercent, gearmanQueuedJobs: c.alarmGearmanQueuedJobs,
            },
            metricsNamespace,
            emails: c.alertEmails,
            pagerdutyEscalationPolicy: c.pagerdutyEscalationPolicy,
            siteReady,
        }, parent);

        this.siteUrl = edge.siteUrl;
        this.mediaUrl = media.mediaUrl;
        this.loadBalancerDns = edge.loadBalancer.dnsName;
        this.mediaBucket = media.bucket.bucket;
        this.privateIps = pulumi.all({
            ...Object.fromEntries(Object.entries(groups).map(([k, ips]) => [k, pulumi.all(ips)])),
            monitoring: pulumi.all([monitoring.host.privateIp]),
        }) as pulumi.Output<Record<string, string[]>>;
        this.secretParameters = pulumi.all(Object.values(secrets.parameters).map((p) => p!.name));
        this.appRelease = release.sha256;
        this.appReleaseUrl = release.url;
        this.siteReady = siteReady.stdout;
        this.alertTopic = alerting.topic.arn;
        this.alerts = alertDestinations(c);
        this.cloudfrontLogs = media.cloudfrontLogs;
        this.registerOutputs({
            siteUrl: this.siteUrl,
            mediaUrl: this.mediaUrl,
            loadBalancerDns: this.loadBalancerDns,
            shardMap: this.shardMap,
            privateIps: this.privateIps,
            appRelease: this.appRelease,
            siteReady: this.siteReady,
            alertTopic: this.alertTopic,
            alerts: this.alerts,
            cloudfrontLogs: this.cloudfrontLogs,
        });
    }
}
