/**
 * The whole Instagram stack: network, secrets, edge, media, the data tiers, the app tier and monitoring,
 * wired together. No business rules live here: sizing, placement, rules and host contents come from pure
 * modules; this file only says which resource feeds which.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { InstagramConfig } from "../core/config";
import { ubuntuAmi } from "./ami";
import { instanceSpec } from "../core/instance-types";
import { Network } from "./network";
import { Secrets } from "./secrets";
import { Edge } from "./edge";
import { MediaStore } from "./media";
import { HostIdentity, PolicyStatement } from "./host";
import { PostgresShard } from "./postgres-shard";
import { Redis } from "./redis";
import { MemcachedPool } from "./memcached";
import { AppTier } from "./app-tier";
import { Monitoring } from "./monitoring";
import { monitoringHostIp, privateSubnetCidr } from "../core/network-plan";
import { shardMap, ShardRange } from "../core/shard-map";
import { appWorkerCount, memcachedSizing, postgresSizing } from "../core/sizing";
import { HOST_ROLES, HostRole } from "../core/security-rules";
import { TierContext } from "./tier-context";
import { MuninNode } from "../cloud-init/configs/munin-master";
import { MAX_UPLOAD_MIB } from "../core/app-contract";
import { AppRelease } from "./app-release";
import { shellCommand } from "../core/shell-quote";
import * as command from "@pulumi/command";


/** How long `pulumi up` waits for https://<domain>/readyz through the load balancer before it fails. */
export const SITE_READY_TIMEOUT_S = 600;

export interface InstagramStackArgs {
    readonly config: InstagramConfig;
    /** The project directory: the app is built there, and the deploy-time waits run from there. */
    readonly projectRoot: string;
    /** Hash of the app's sources (delivery/sources.ts appSourceHash). */
    readonly appSourceHash: string;
}

export class InstagramStack extends pulumi.ComponentResource {
    readonly siteUrl: pulumi.Output<string>;
    readonly mediaUrl: pulumi.Output<string>;
    readonly loadBalancerDns: pulumi.Output<string>;
    readonly mediaBucket: pulumi.Output<string>;
    readonly shardMap: ShardRange[];
    readonly privateIps: pulumi.Output<Record<string, string[]>>;
    readonly secretParameters: pulumi.Output<string[]>;
    readonly appRelease: pulumi.Output<string>;
    readonly appReleaseUrl: pulumi.Output<string>;
    readonly siteReady: pulumi.Output<string>;

    constructor(name: string, args: InstagramStackArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:stack:InstagramStack", name, {}, opts);
        const c = args.config;
        const parent = { parent: this };
        const stackName = pulumi.getStack();

        const network = new Network("net", { vpcCidr: c.vpcCidr, azCount: c.azCount, natPerAz: c.natPerAz, adminCidrs: c.adminCidrs }, parent);
        const secrets = new Secrets("secrets", {}, parent);

        const zoneId = c.hostedZoneId
            ? pulumi.output(c.hostedZoneId)
            : aws.route53.getZoneOutput({ name: c.domain, privateZone: false }, parent).zoneId;
        const edge = new Edge("edge", {
            domain: c.domain,
            zoneId,
            vpcId: network.vpc.id,
            publicSubnetIds: network.publicSubnets.map((s) => s.id),
            securityGroupId: network.securityGroups.lb.id,
            deletionProtection: c.deletionProtection,
        }, parent);
        const awsConfig = new pulumi.Config("aws");
        const usEast1 = new aws.Provider("us-east-1", { region: "us-east-1", profile: awsConfig.get("profile") }, parent);
        const media = new MediaStore("media", { domain: c.domain, zoneId, usEast1, deletionProtection: c.deletionProtection }, parent);

        const release = new AppRelease("app", {
            projectRoot: args.projectRoot,
            sourceHash: args.appSourceHash,
            pinnedSha256: c.appRelease,
            deletionProtection: c.deletionProtection,
            accessLogs: { bucket: media.logsBucket.id, prefix: "s3/artifacts/" },
        }, parent);

        const tierStatements: Record<HostRole, PolicyStatement[]> = {
            app: [
                { Sid: "PhotosReadWrite", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: pulumi.interpolate`${media.bucket.arn}/*` },
                release.readStatement,
            ],
            shard: [],
            redis: [],
            memcached: [],
            monitoring: [],
        };
        const identities = Object.fromEntries(HOST_ROLES.map((role) => [
            role,
            new HostIdentity(`${role}-host`, { role, statements: [...secrets.readStatementsFor(role), ...tierStatements[role]] }, parent),
        ])) as Record<HostRole, HostIdentity>;

        const amis = new Map<string, pulumi.Output<string>>();
        const ctx: TierContext = {
            stackName,
            muninMasterIp: monitoringHostIp(c.vpcCidr),
            privateSubnets: network.privateSubnets,
            securityGroups: network.securityGroups,
            identities,
            amiFor: (instanceType) => {
                const arch = instanceSpec(instanceType)!.architecture;
                if (!amis.has(arch)) amis.set(arch, ubuntuAmi(c.ubuntuRelease, arch, parent));
                return amis.get(arch)!;
            },
        };

        const workers = appWorkerCount(c.appInstanceType, c.appWorkers);
        const appClients = c.appServers * workers;
        this.shardMap = shardMap(c.logicalShards, c.physicalShards);
        const sizing = postgresSizing(c.shardInstanceType, appClients);
        const shards = this.shardMap.map((range) => new PostgresShard(`shard-${range.physicalShard}`, {
            ctx,
            range,
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
        }, parent));

        const redis = new Redis("redis", { ctx, instanceType: c.redisInstanceType, replica: c.redisReplica, ubuntuRelease: c.ubuntuRelease }, parent);
        const memcached = new MemcachedPool("memcached", {
            ctx,
            nodes: c.memcachedNodes,
            instanceType: c.memcachedInstanceType,
            azCount: c.azCount,
            sizing: memcachedSizing(c.memcachedInstanceType, appClients),
        }, parent);

        const app = new AppTier("app", {
            ctx,
            servers: c.appServers,
            instanceType: c.appInstanceType,
            azCount: c.azCount,
            targetGroupArn: edge.targetGroup.arn,
            region: c.region,
            projectRoot: args.projectRoot,
            rolloutBatch: c.appRolloutBatch,
            appParams: pulumi.output({
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
            }),
        }, parent);

        // The health gate: `pulumi up` ends with the site answering /readyz through the load balancer, or
        // fails naming the check that did not pass. Reruns whenever an app host or the release changes.
        const readyUrl = `https://${c.domain}/readyz`;
        const siteReady = new command.local.Command("site-ready", {
            create: shellCommand(["node", "--import", "tsx", "tools/wait-healthy.ts", "url", readyUrl, "--timeout", String(SITE_READY_TIMEOUT_S)]),
            dir: args.projectRoot,
            triggers: [release.sha256, ...app.hosts.map((h) => h.instance.id)],
            logging: "stdoutAndStderr",
        }, { parent: this, dependsOn: [edge, ...app.inService] });

        const groups: Record<string, pulumi.Output<string>[]> = {
            app: app.hosts.map((h) => h.privateIp),
            shardPrimary: shards.map((s) => s.primary.host.privateIp),
            shardStandby: shards.flatMap((s) => (s.standby ? [s.standby.host.privateIp] : [])),
            redis: [redis.primary.privateIp, ...(redis.replica ? [redis.replica.privateIp] : [])],
            memcached: memcached.hosts.map((h) => h.privateIp),
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
        ];
        const monitoring = new Monitoring("munin", { ctx, instanceType: c.monitoringInstanceType, nodes: muninNodes }, parent);

        this.siteUrl = edge.siteUrl;
        this.mediaUrl = media.mediaUrl;
        this.loadBalancerDns = edge.loadBalancer.dnsName;
        this.mediaBucket = media.bucket.bucket;
        this.privateIps = pulumi.all({
            ...Object.fromEntries(Object.entries(groups).map(([k, ips]) => [k, pulumi.all(ips)])),
            monitoring: pulumi.all([monitoring.host.privateIp]),
        }) as pulumi.Output<Record<string, string[]>>;
        this.secretParameters = pulumi.all(Object.values(secrets.parameters).map((p) => p.name));
        this.appRelease = release.sha256;
        this.appReleaseUrl = release.url;
        this.siteReady = siteReady.stdout;
        this.registerOutputs({
            siteUrl: this.siteUrl,
            mediaUrl: this.mediaUrl,
            loadBalancerDns: this.loadBalancerDns,
            shardMap: this.shardMap,
            privateIps: this.privateIps,
            appRelease: this.appRelease,
            siteReady: this.siteReady,
        });
    }
}
