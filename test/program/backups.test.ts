/**
 * The backup repository under mocks: one private, versioned bucket whose lifecycle keeps expired files for the
 * configured days; each physical shard's hosts limited to their own stanza's prefix (pgbackrest/shard-N) by a role
 * of their own, and the redis tier to redis/ (nothing else of the bucket, nothing of it for the other tiers); every shard host's user data configuring pgBackRest into its
 * own shard's prefix with the schedule from the config and its timers enabled; the persisting Redis host's
 * hourly dump; and no passphrase in any user data.
 */
import * as yaml from "js-yaml";
import { beforeAll, describe, expect, test } from "vitest";
import { ProgramRun, RecordedResource } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { hostName, policyOf, T, userDataOf } from "../harness/queries";

let run: ProgramRun;
beforeAll(async () => {
    run = await runStack("instagram-2011", { "instagram:backupFullDay": "Wed", "instagram:backupTime": "04:15", "instagram:backupRetentionFull": 6, "instagram:backupDeletedRetentionDays": 30 });
});

const bucket = () => run.named(T.bucket, "backups");
const tierStatements = (tier: string): any[] => {
    const role = run.named(T.role, `${tier}-host`);
    const policy = run.ofType(T.rolePolicy).find((p) => p.inputs.role === role.state.id);
    return policy ? policyOf(policy).Statement : [];
};
const files = (instance: RecordedResource) =>
    (yaml.load(userDataOf(instance).replace(/^#cloud-config\n/, "")) as { write_files: { path: string; content: string }[]; runcmd: string[][] });
const file = (instance: RecordedResource, path: string) => files(instance).write_files.find((f) => f.path === path)?.content;
const hosts = (prefix: string) => run.ofType(T.instance).filter((i) => hostName(i).startsWith(prefix));

describe("backups (program)", () => {
    test("one private, versioned, encrypted bucket; deleted versions kept for the configured days", () => {
        const id = bucket().state.id;
        expect(bucket().inputs.tags).toMatchObject({ Purpose: "backups" });
        expect(run.ofType(T.versioning).find((v) => v.inputs.bucket === id)!.inputs.versioningConfiguration.status).toBe("Enabled");
        expect(run.ofType(T.encryption).find((e) => e.inputs.bucket === id)).toBeDefined();
        expect(run.ofType(T.publicAccessBlock).find((p) => p.inputs.bucket === id)!.inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
        const [rule] = run.ofType("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").find((l) => l.inputs.bucket === id)!.inputs.rules;
        expect(rule.noncurrentVersionExpiration).toEqual({ noncurrentDays: 30 });
        // Current files are pgBackRest's to expire: the lifecycle never deletes a live backup.
        expect(rule.expiration).toEqual({ expiredObjectDeleteMarker: true });
    });

    test("each physical shard's role may touch its own pgbackrest/shard-N/ only, the redis tier redis/ only, and no other tier the bucket", () => {
        const arn = bucket().state.arn;
        const onBucket = (tier: string) => tierStatements(tier).filter((s) => [s.Resource ?? []].flat().some((r: string) => r.startsWith(arn)));
        for (let shard = 0; shard < 12; shard++) {
            expect(onBucket(`shard-${shard}`)).toEqual([
                { Sid: "BackupRepositoryList", Effect: "Allow", Action: ["s3:ListBucket"], Resource: arn, Condition: { StringLike: { "s3:prefix": [`pgbackrest/shard-${shard}`, `pgbackrest/shard-${shard}/*`] } } },
                { Sid: "BackupRepositoryReadWrite", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: `${arn}/pgbackrest/shard-${shard}/*` },
            ]);
        }
        expect(onBucket("redis")).toEqual([{ Sid: "RedisDumpsReadWrite", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], Resource: `${arn}/redis/*` }]);
        for (const tier of ["app", "memcached", "monitoring"]) expect(onBucket(tier)).toEqual([]);
    });

    test("a shard's primary and standby run with their shard's instance profile, and no other host does", () => {
        const profiles = run.ofType("aws:iam/instanceProfile:InstanceProfile");
        const profileOf = (identity: string) => profiles.find((p) => p.name === `${identity}-host`)!.state.name;
        for (const host of run.ofType(T.instance)) {
            const shard = /^shard-(\d+)-(primary|standby)$/.exec(hostName(host));
            if (shard) expect(host.inputs.iamInstanceProfile, hostName(host)).toBe(profileOf(`shard-${shard[1]}`));
            else expect(host.inputs.iamInstanceProfile, hostName(host)).not.toMatch(/^shard-/);
        }
        expect(profiles.filter((p) => p.name.startsWith("shard-"))).toHaveLength(12);
    });

    test("every shard host archives WAL into its own shard's prefix, encrypted, on the configured schedule, its timers enabled", () => {
        const shardHosts = hosts("shard-");
        expect(shardHosts).toHaveLength(24);
        for (const host of shardHosts) {
            const shard = /^shard-(\d+)-/.exec(hostName(host))![1];
            const conf = file(host, "/etc/instagram/postgresql/pgbackrest.conf")!;
            expect(conf).toContain(`repo1-s3-bucket=${bucket().state.bucket}`);
            expect(conf).toContain(`repo1-path=/pgbackrest/shard-${shard}`);
            expect(conf).toContain("repo1-cipher-type=aes-256-cbc");
            expect(conf).toContain("repo1-retention-full=6");
            expect(conf).not.toMatch(/cipher-pass|s3-key/);
            expect(file(host, "/etc/instagram/postgresql/instagram.conf")).toContain(`archive_command = 'pgbackrest --config-path=/etc/pgbackrest --stanza=shard-${shard} archive-push %p'`);
            expect(file(host, "/etc/instagram/shard.env")).toContain(`BACKUP_STANZA='shard-${shard}'`);
            expect(file(host, "/etc/systemd/system/instagram-shard-backup-full.timer")).toContain("OnCalendar=Wed *-*-* 04:15:00 UTC");
            expect(file(host, "/etc/systemd/system/instagram-shard-backup-diff.timer")).toContain("OnCalendar=Mon,Tue,Thu,Fri,Sat,Sun *-*-* 04:15:00 UTC");
            expect(files(host).runcmd).toContainEqual(["systemctl", "enable", "--now", "instagram-shard-backup-full.timer", "instagram-shard-backup-diff.timer"]);
        }
    });

    test("the Redis replica dumps hourly to the bucket's redis/ prefix; the primary can load a dump and takes none", () => {
        const [replica] = hosts("redis-replica");
        expect(file(replica, "/etc/systemd/system/instagram-redis-dump.service")).toContain(`ExecStart=/usr/local/sbin/instagram-redis-dump s3://${bucket().state.bucket}/redis`);
        expect(file(replica, "/etc/systemd/system/instagram-redis-dump.timer")).toContain("OnCalendar=hourly");
        const [primary] = hosts("redis-primary");
        expect(file(primary, "/etc/systemd/system/instagram-redis-dump.timer")).toBeUndefined();
        expect(file(primary, "/usr/local/sbin/instagram-redis-restore")).toBeDefined();
    });

    test("no user data holds the repository passphrase", () => {
        const passphrase = run.named(T.randomPassword, "secrets-pgbackrest-cipher").state.result as string;
        expect(passphrase).toMatch(/^[A-Za-z0-9]{40}$/);
        for (const host of run.ofType(T.instance)) expect(userDataOf(host).includes(passphrase), hostName(host)).toBe(false);
    });

    test("bad schedule and retention keys are refused, naming the key", async () => {
        await expect(runStack("dev", { "instagram:backupFullDay": "Sunday" })).rejects.toThrow(/instagram:backupFullDay = "?Sunday"?.*Mon, Tue/);
        await expect(runStack("dev", { "instagram:backupTime": "2am" })).rejects.toThrow(/instagram:backupTime/);
        await expect(runStack("dev", { "instagram:backupRetentionFull": 0 })).rejects.toThrow(/instagram:backupRetentionFull/);
        await expect(runStack("dev", { "instagram:backupDeletedRetentionDays": 0 })).rejects.toThrow(/instagram:backupDeletedRetentionDays/);
    });
});
