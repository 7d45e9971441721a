// Load and validate the stack configuration, build the stack, export what operators and the next tools need.
import * as pulumi from "@pulumi/pulumi";
import { readProgramConfig } from "./components/program-config";
import { InstagramStack } from "./components/stack";

const stack = new InstagramStack("instagram", { config: readProgramConfig() });

export const siteUrl = stack.siteUrl;
export const mediaUrl = stack.mediaUrl;
export const loadBalancerDns = stack.loadBalancerDns;
export const mediaBucket = stack.mediaBucket;
export const shardMap = stack.shardMap;
export const privateIps = stack.privateIps;
export const secretParameters = stack.secretParameters;
export const stackName = pulumi.getStack();
