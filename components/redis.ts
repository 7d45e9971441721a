/** Redis for feeds and sessions: a primary and, optionally, a persisting replica in another AZ. */
import * as pulumi from "@pulumi/pulumi";
import { redisRole } from "../cloud-init/roles/redis";
import { TierPlacement, tierHost, UbuntuHost } from "./host";
import { redisMaxMemoryMiB } from "../core/sizing";
import { RELEASE_FACTS, UbuntuRelease } from "../core/ubuntu";

export interface RedisArgs {
    /** Subnets, security group and identity of the redis tier. */
    readonly hosts: TierPlacement;
    /** Both hosts' type; maxmemory is sized from its memory. */
    readonly instanceType: string;
    /** A replica in the next AZ, which (not the primary) writes the snapshots. */
    readonly replica: boolean;
    /** Decides the Redis major version the role configures for. */
    readonly ubuntuRelease: UbuntuRelease;
    /** The backup bucket the persisting host copies its RDB to, hourly (components/backups.ts). */
    readonly dumpBucket: pulumi.Input<string>;
}

/** Redis for feeds, activity and sessions: a primary in AZ 0 and an optional persisting replica in AZ 1. */
export class Redis extends pulumi.ComponentResource {
    /** The primary the app writes to. */
    readonly primary: UbuntuHost;
    /** The replica, when args.replica. */
    readonly replica?: UbuntuHost;

    constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:redis:Redis", name, {}, opts);
        const maxMemoryMiB = redisMaxMemoryMiB(args.instanceType);
        const redisMajor = RELEASE_FACTS[args.ubuntuRelease].redisMajor;
        this.primary = tierHost(args.hosts, {
            hostname: `${name}-primary`,
            instanceType: args.instanceType,
            azIndex: 0,
            roleSpec: pulumi.output(args.dumpBucket).apply((bucket) => redisRole({ kind: "primary", maxMemoryMiB, redisMajor, dumps: { bucket, takesDumps: !args.replica } })),
        }, this);
        if (args.replica) {
            this.replica = tierHost(args.hosts, {
                hostname: `${name}-replica`,
                instanceType: args.instanceType,
                azIndex: 1,
                roleSpec: pulumi.all([this.primary.privateIp, args.dumpBucket]).apply(([primaryAddress, bucket]) => redisRole({ kind: "replica", maxMemoryMiB, redisMajor, primaryAddress, dumps: { bucket, takesDumps: true } })),
            }, this);
        }
        this.registerOutputs({ primaryIp: this.primary.privateIp, replicaIp: this.replica?.privateIp });
    }
}
