/**
 * Daily snapshot sets of every shard's data volumes (Instagram's EBS snapshots of its arrays): a Data Lifecycle
 * Manager policy over the shard hosts that carry the stack's snapshot tag (each shard's standby where it has
 * one, so the primary is never frozen; else its primary), one multi-volume set per host with the boot volume
 * excluded, so the RAID's member volumes are taken at one instant, with /data frozen around it by pre and
 * post scripts (cloud-init/configs/snapshot-freeze.ts) run through an SSM Command document.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { snapshotFreezeDocument } from "../cloud-init/configs/snapshot-freeze";

/** The tag that puts a shard host's data volumes under the policy (DLM targets instances by tag). */
export function shardSnapshotTag(stack: string): Record<string, string> {
    return { SnapshotSet: `${stack}-shard-data` };
}

export interface ShardSnapshotsArgs {
    /** UTC HH:MM of the daily snapshot (instagram:shardSnapshotTime). */
    readonly time: string;
    /** Snapshot sets kept per host (instagram:shardSnapshotRetention). */
    readonly retention: number;
}

/** The policy, its SSM document of freeze scripts, and the role DLM runs them with. */
export class ShardSnapshots extends pulumi.ComponentResource {
    readonly policy: aws.dlm.LifecyclePolicy;
    readonly freezeDocument: aws.ssm.Document;

    constructor(name: string, args: ShardSnapshotsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:backup:ShardSnapshots", name, {}, opts);
        const stack = pulumi.getStack();
        // AWSDataLifecycleManagerSSMFullAccess lets DLM run only documents tagged DLMScriptsAccess=true.
        this.freezeDocument = new aws.ssm.Document(`${name}-freeze`, {
            // DLM names the document; one per stack in the account and region.
            name: `instagram-${stack}-shard-freeze`,
            documentType: "Command",
            documentFormat: "JSON",
            content: JSON.stringify(snapshotFreezeDocument()),
            tags: { DLMScriptsAccess: "true" },
        }, { parent: this });
        const role = new aws.iam.Role(`${name}-dlm`, {
            description: `Data Lifecycle Manager's role for the shard snapshots of stack ${stack}`,
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "dlm.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
        }, { parent: this });
        const attachments = [
            ["snapshots", "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole"],
            ["scripts", "arn:aws:iam::aws:policy/AWSDataLifecycleManagerSSMFullAccess"],
        ].map(([what, arn]) => new aws.iam.RolePolicyAttachment(`${name}-dlm-${what}`, { role: role.name, policyArn: arn }, { parent: this }));
        this.policy = new aws.dlm.LifecyclePolicy(name, {
            description: `Daily snapshot sets of the shard data volumes of stack ${stack}`,
            executionRoleArn: role.arn,
            state: "ENABLED",
            policyDetails: {
                policyType: "EBS_SNAPSHOT_MANAGEMENT",
                resourceTypes: ["INSTANCE"],
                targetTags: shardSnapshotTag(stack),
                parameters: { excludeBootVolume: true, noReboot: true },
                schedules: [{
                    name: "daily",
                    copyTags: true,
                    tagsToAdd: { SnapshotOf: "shard-data", Stack: stack },
                    createRule: {
                        interval: 24,
                        intervalUnit: "HOURS",
                        times: args.time,
                        scripts: {
                            executionHandler: this.freezeDocument.name,
                            executionHandlerService: "AWS_SYSTEMS_MANAGER",
                            stages: ["PRE", "POST"],
                            executionTimeout: 60,
                            maximumRetryCount: 1,
                            // If the freeze fails, a crash-consistent set (all volumes at one instant) is still
                            // taken: PostgreSQL recovers from it as from a power loss.
                            executeOperationOnScriptFailure: true,
                        },
                    },
                    retainRule: { count: args.retention },
                }],
            },
        }, { parent: this, dependsOn: attachments });
        this.registerOutputs({ policyId: this.policy.id });
    }
}
