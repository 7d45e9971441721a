// Load and validate the stack configuration, build the stack, export what operators and the next tools need.
import * as pulumi from "@pulumi/pulumi";
import { readProgramConfig } from "./components/program-config";
import { InstagramStack } from "./components/stack";
import { appSourceHash, PROJECT_ROOT } from "./delivery/sources";

const stack = new InstagramStack("instagram", { config: readProgramConfig(), projectRoot: PROJECT_ROOT, appSourceHash: appSourceHash() });

export const siteUrl = stack.siteUrl;
export const mediaUrl = stack.mediaUrl;
export const loadBalancerDns = stack.loadBalancerDns;
export const mediaBucket = stack.mediaBucket;
export const shardMap = stack.shardMap;
export const privateIps = stack.privateIps;
export const secretParameters = stack.secretParameters;
export const stackName = pulumi.getStack();
/** SHA-256 of the app release the hosts run; `pulumi config set instagram:appRelease` to an older one rolls back. */
export const appRelease = stack.appRelease;
export const appReleaseUrl = stack.appReleaseUrl;
/** What the health gate saw: "https://<domain>/readyz healthy after N s: 200 (ready)". */
export const siteReady = stack.siteReady;
