// Load and validate the stack configuration and the deployed shard directory, build the stack, return what
// operators and the next tools need. Async so that a config change the directory refuses fails before any
// resource exists.
import * as pulumi from "@pulumi/pulumi";
import { readProgramConfig } from "./components/program-config";
import { readDeployedShardDirectory } from "./components/shard-directory";
import { InstagramStack } from "./components/stack";
import { reconcileShardDirectory, refuseDeployDuringMove } from "./core/shard-directory";
import { appSourceHash, PROJECT_ROOT } from "./delivery/sources";

export = async () => {
    const config = readProgramConfig();
    const deployed = await readDeployedShardDirectory(pulumi.getStack());
    // The program rewrites the directory's endpoints: never in the middle of a move's flip.
    refuseDeployDuringMove(deployed);
    const directory = reconcileShardDirectory(deployed, config);
    const stack = new InstagramStack("instagram", { config, directory, projectRoot: PROJECT_ROOT, appSourceHash: appSourceHash() });
    return {
        /** https://<domain>, through the load balancer. */
        siteUrl: stack.siteUrl,
        /** https://media.<domain>: CloudFront in front of the private photo bucket. */
        mediaUrl: stack.mediaUrl,
        /** The load balancer's own DNS name (the apex and www are aliases of it). */
        loadBalancerDns: stack.loadBalancerDns,
        /** The photo bucket's name. */
        mediaBucket: stack.mediaBucket,
        /** Logical → physical shards, from the shard directory: [{ physicalShard, firstLogicalShard, lastLogicalShard }]. */
        shardMap: stack.shardMap,
        /** The SSM parameter that holds the shard directory, the authority on where each logical shard lives. */
        shardDirectory: stack.shardDirectoryParameter,
        /** Private addresses by tier (app, shardPrimary, shardStandby, redis, memcached, gearman, worker, search, monitoring). */
        privateIps: stack.privateIps,
        /** SSM SecureString names of the stack's secrets; never their values. */
        secretParameters: stack.secretParameters,
        /** The stack's name, as the SSM paths and tags use it. */
        stackName: pulumi.getStack(),
        /** SHA-256 of the app release the hosts run; `pulumi config set instagram:appRelease` to an older one rolls back. */
        appRelease: stack.appRelease,
        /** s3:// URL of that release in the artifacts bucket. */
        appReleaseUrl: stack.appReleaseUrl,
        /** What the health gate saw: "https://<domain>/readyz healthy after N s: 200 (ready)". */
        siteReady: stack.siteReady,
        /** The SNS topic every alarm sends ALARM and OK to (subscribe to it for more destinations). */
        alertTopic: stack.alertTopic,
        /** Where alerts go: PagerDuty, e-mail, or "nowhere" (instagram:pagerdutyEscalationPolicy, alertEmails). */
        alerts: stack.alerts,
        /** Where CloudFront's standard logs go: the media log bucket, or a bucket in us-east-1 (and why) when the stack's region is an opt-in one CloudFront does not deliver to. */
        cloudfrontLogs: stack.cloudfrontLogs,
    };
};
