/**
 * The deployed shard directory, read before the stack is built: the program reconciles the config against it
 * (core/shard-directory.ts) and refuses, before any resource exists, a change that would move or re-bucket
 * data. It is an SSM parameter of its own path, so a lookup by path finds it, or nothing on a first deploy.
 */
import * as aws from "@pulumi/aws";
import { parseShardDirectory, ShardDirectory, shardDirectoryParameterName, shardDirectoryParameterPath } from "../core/shard-directory";

/**
 * The directory this stack has deployed, or undefined before its first deploy. Runs at preview as at up, with
 * the default provider (the same aws:region and aws:profile as the stack's own; it exists only after this).
 */
export async function readDeployedShardDirectory(stack: string): Promise<ShardDirectory | undefined> {
    const name = shardDirectoryParameterName(stack);
    const found = await aws.ssm.getParametersByPath({ path: shardDirectoryParameterPath(stack), recursive: false, withDecryption: false });
    const index = found.names.indexOf(name);
    return index < 0 ? undefined : parseShardDirectory(found.values[index], `the deployed shard directory (SSM parameter ${name})`);
}
