/**
 * What a boot test needs from the program for each host: the user data it renders (booted byte for byte),
 * its private address, its data volumes, its instance type's memory, and the stack's secrets for the SSM
 * stand-in. One program run (dev stack plus the test's config) serves every VM of a test file.
 */
import * as yaml from "js-yaml";
import { runMocked } from "../../harness/program";
import { rawUserDataOf, T, userDataOf } from "../../harness/queries";
import { instanceSpec } from "../../../core/instance-types";
import { HostRole } from "../../../core/security-rules";
import { ProgramRun } from "../../../tools/offline/runtime";

export interface HostUnderTest {
    readonly name: string;
    /** Its tier (the instance's Role tag). */
    readonly role: HostRole;
    /** Whose IAM role it runs with: its tier's, or its physical shard's ("shard-0"; test/harness/iam-evaluate.ts). */
    readonly identity: string;
    /** Exactly the bytes the program hands EC2 for the host (gzip when it was too large for plain text). */
    readonly userDataBytes: Buffer;
    /** The #cloud-config text (unzipped), to read expected values from. */
    readonly userData: string;
    readonly privateIp: string;
    /** EBS volume IDs of its data volumes (shard hosts), in the program's order. */
    readonly volumeIds: string[];
    /** The instance type's memory: PostgreSQL, Redis and memcached are sized from it. */
    readonly memoryMiB: number;
}

export interface StackUnderTest {
    host(name: string): HostUnderTest;
    /** SSM parameter name -> value. */
    readonly parameters: Record<string, string>;
    /** The VPC's prefix length: the private segment joins every subnet, as the VPC's router does. */
    readonly vpcPrefixLength: number;
    readonly outputs: Record<string, unknown>;
    /** Every package any host's user data installs: the image has them all (the VMs have no network). */
    readonly packages: string[];
    /** The S3 objects the program uploads with their bytes (the host tools), by path-style key ("/bucket/key"). */
    readonly objects: Record<string, Buffer>;
    /** The backup bucket's name: the shard hosts' pgBackRest repository. */
    readonly backupBucket: string;
    /** The program run itself (its rendered IAM policies judge the hosts' AWS calls). */
    readonly run: ProgramRun;
}

/** The dev stack with a 4-volume RAID 10 on each shard host, plus `config`. */
export async function stackUnderTest(config: Record<string, unknown> = {}): Promise<StackUnderTest> {
    const run = await runMocked("dev", { "instagram:shardVolumes": 4, "instagram:shardRaidLevel": 10, ...config });
    const parameters = Object.fromEntries(run.ofType(T.ssmParameter).map((p) => [p.inputs.name as string, p.inputs.value as string]));
    return {
        run,
        parameters,
        backupBucket: run.ofType(T.bucket).find((b) => b.name === "backups")!.state.bucket as string,
        vpcPrefixLength: Number(String(run.config["instagram:vpcCidr"]).split("/")[1]),
        outputs: run.outputs,
        packages: [...new Set(run.ofType(T.instance).flatMap((i) => cloudConfig(userDataOf(i)).packages ?? []))],
        objects: Object.fromEntries(run.ofType("aws:s3/bucketObjectv2:BucketObjectv2").filter((o) => o.inputs.contentBase64).map((o) => {
            const bucket = run.ofType(T.bucket).find((b) => b.state.id === o.inputs.bucket)!;
            return [`/${bucket.state.bucket}/${o.inputs.key}`, Buffer.from(o.inputs.contentBase64, "base64")];
        })),
        host(name: string): HostUnderTest {
            const instance = run.ofType(T.instance).find((i) => i.inputs.tags.Name === name);
            if (!instance) throw new Error(`the program has no host named ${name}`);
            return {
                name,
                role: instance.inputs.tags.Role as HostRole,
                identity: instance.inputs.tags.Role === "shard" ? `shard-${instance.inputs.tags.Shard}` : instance.inputs.tags.Role,
                userDataBytes: rawUserDataOf(instance),
                userData: userDataOf(instance),
                privateIp: instance.state.privateIp as string,
                volumeIds: run.ofType(T.volume).filter((v) => v.name.startsWith(`${name}-data-`)).map((v) => v.state.id as string),
                memoryMiB: instanceSpec(instance.inputs.instanceType)!.memoryGiB * 1024,
            };
        },
    };
}

/** The content of a file the host's user data writes (cloud-config write_files), for expected values. */
export function writtenFile(host: HostUnderTest, filePath: string): string {
    const file = cloudConfig(host.userData).write_files?.find((f) => f.path === filePath);
    if (!file) throw new Error(`${host.name}'s user data writes no ${filePath}`);
    return file.content;
}

function cloudConfig(userData: string): { packages?: string[]; write_files?: { path: string; content: string }[] } {
    return yaml.load(userData.replace(/^#cloud-config\n/, "")) as { packages?: string[]; write_files?: { path: string; content: string }[] };
}
