// Load and validate the stack configuration, build the stack, export what operators and the next tools need.
import * as pulumi from "@pulumi/pulumi";
import { readProgramConfig } from "./components/program-config";
import { InstagramStack } from "./components/stack";
import { appSourceHash, PROJECT_ROOT } from "./delivery/sources";

const stack = new InstagramStack("instagram", { config: readProgramConfig(), projectRoot: PROJECT_ROOT, appSourceHash: appSourceHash() });

/** https://<domain>, through the load balancer. */
export const siteUrl = stack.siteUrl;
/** https://media.<domain>: CloudFront in front of the private photo bucket. */
export const mediaUrl = stack.mediaUrl;
/** The load balancer's own DNS name (the apex and www are aliases of it). */
export const loadBalancerDns = stack.loadBalancerDns;
/** The photo bucket's name. */
export const mediaBucket = stack.mediaBucket;
/** Logical → physical shards: [{ physicalShard, firstLogicalShard, lastLogicalShard }]. */
export const shardMap = stack.shardMap;
/** Private addresses by tier (app, shardPrimary, shardStandby, redis, memcached, monitoring). */
export const privateIps = stack.privateIps;
/** SSM SecureString names of the stack's secrets; never their values. */
export const secretParameters = stack.secretParameters;
/** The stack's name, as the SSM paths and tags use it. */
export const stackName = pulumi.getStack();
/** SHA-256 of the app release the hosts run; `pulumi config set instagram:appRelease` to an older one rolls back. */
export const appRelease = stack.appRelease;
/** s3:// URL of that release in the artifacts bucket. */
export const appReleaseUrl = stack.appReleaseUrl;
/** What the health gate saw: "https://<domain>/readyz healthy after N s: 200 (ready)". */
export const siteReady = stack.siteReady;
