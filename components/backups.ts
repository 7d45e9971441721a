/**
 * The stack's backup repository: one private, versioned, encrypted S3 bucket holding every shard's
 * pgBackRest stanza under its own prefix (pgbackrest/shard-N), and the Redis dumps (redis/).
 * pgBackRest encrypts before upload (the passphrase is the stack's pgbackrest-cipher secret), S3 encrypts
 * again at rest, and versioning keeps what pgBackRest expires for deletedVersionDays, so a mistaken delete
 * of the repository itself can be undone.
 */
import * as pulumi from "@pulumi/pulumi";
import { PrivateBucket } from "./private-bucket";
import { PolicyStatement } from "./host";

import { backupRepositoryPrefix } from "../cloud-init/configs/pgbackrest";
import { REDIS_DUMP_PREFIX } from "../cloud-init/roles/redis";

export interface BackupRepositoryArgs {
    /** Days a file pgBackRest expired (or anything overwritten) stays recoverable (instagram:backupDeletedRetentionDays). */
    readonly deletedVersionDays: number;
    /** Keep the bucket on `pulumi destroy` (instagram:deletionProtection). */
    readonly protect: boolean;
    /** Where the bucket's server access logs go (who read or deleted a backup). */
    readonly accessLogs: { bucket: pulumi.Input<string>; prefix: string };
}

/** The backup bucket and the IAM statements that scope each tier to its own part of it. */
export class BackupRepository extends pulumi.ComponentResource {
    readonly bucket: PrivateBucket;
    /**
     * What the hosts of physical shard N need of the bucket: list, read, write and delete under its own stanza's
     * prefix (pgbackrest/shard-N) only, so a shard host can neither read nor expire another shard's backups.
     */
    readonly shardStatements: (physicalShard: number) => PolicyStatement[];
    /**
     * What a Redis host needs: put and read its dumps under redis/ only (no delete: versions expire by lifecycle),
     * and abort a multipart upload of a dump that failed (its parts would otherwise stay until the lifecycle).
     */
    readonly redisStatements: PolicyStatement[];

    constructor(name: string, args: BackupRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:backup:BackupRepository", name, {}, opts);
        this.bucket = new PrivateBucket(name, { purpose: "backups", deletedVersionDays: args.deletedVersionDays, forceDestroy: !args.protect, accessLogs: args.accessLogs }, { parent: this, protect: args.protect });
        const arn = this.bucket.bucket.arn;
        const listUnder = (sid: string, prefix: string): PolicyStatement => ({
            Sid: sid,
            Effect: "Allow",
            Action: ["s3:ListBucket"],
            Resource: arn,
            Condition: { StringLike: { "s3:prefix": [prefix, `${prefix}/*`] } },
        });
        this.shardStatements = (physicalShard) => {
            const prefix = backupRepositoryPrefix(physicalShard);
            return [
                listUnder("BackupRepositoryList", prefix),
                { Sid: "BackupRepositoryReadWrite", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: pulumi.interpolate`${arn}/${prefix}/*` },
            ];
        };
        this.redisStatements = [
            { Sid: "RedisDumpsReadWrite", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], Resource: pulumi.interpolate`${arn}/${REDIS_DUMP_PREFIX}/*` },
        ];
        this.registerOutputs({ bucket: this.bucket.bucket.bucket });
    }
}
