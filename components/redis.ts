/** Redis for feeds and sessions: a primary and, optionally, a persisting replica in another AZ. */
import * as pulumi from "@pulumi/pulumi";
import { redisRole } from "../cloud-init/roles/redis";
import { UbuntuHost } from "./host";
import { redisMaxMemoryMiB } from "../core/sizing";
import { TierContext, tierHost } from "./tier-context";
import { UbuntuRelease } from "../core/ubuntu";
import { RELEASE_FACTS } from "../core/ubuntu";

export interface RedisArgs {
    readonly ctx: TierContext;
    readonly instanceType: string;
    readonly replica: boolean;
    readonly ubuntuRelease: UbuntuRelease;
}

export class Redis extends pulumi.ComponentResource {
    readonly primary: UbuntuHost;
    readonly replica?: UbuntuHost;

    constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:redis:Redis", name, {}, opts);
        const maxMemoryMiB = redisMaxMemoryMiB(args.instanceType);
        const redisMajor = RELEASE_FACTS[args.ubuntuRelease].redisMajor;
        this.primary = tierHost(args.ctx, {
            role: "redis",
            hostname: `${name}-primary`,
            instanceType: args.instanceType,
            azIndex: 0,
            roleSpec: redisRole({ kind: "primary", maxMemoryMiB, redisMajor }),
        }, this);
        if (args.replica) {
            this.replica = tierHost(args.ctx, {
                role: "redis",
                hostname: `${name}-replica`,
                instanceType: args.instanceType,
                azIndex: 1,
                roleSpec: this.primary.privateIp.apply((primaryAddress) => redisRole({ kind: "replica", maxMemoryMiB, redisMajor, primaryAddress })),
            }, this);
        }
        this.registerOutputs({ primaryIp: this.primary.privateIp, replicaIp: this.replica?.privateIp });
    }
}
