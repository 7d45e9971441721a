/** Every rule of the pack, in one array: index.ts builds the pack from it, tests import it directly. */
import { Policies } from "@pulumi/policy";
import { ec2Policies } from "./rules/ec2";
import { securityGroupPolicies } from "./rules/security-groups";
import { loadBalancerPolicies } from "./rules/load-balancer";
import { s3Policies } from "./rules/s3";
import { cloudfrontPolicies } from "./rules/cloudfront";
import { iamPolicies } from "./rules/iam";
import { stackPolicies } from "./rules/stack";
import { awsAcceptancePolicies } from "./rules/aws-acceptance";

export const policies: Policies = [
    ...ec2Policies,
    ...securityGroupPolicies,
    ...loadBalancerPolicies,
    ...s3Policies,
    ...cloudfrontPolicies,
    ...iamPolicies,
    ...stackPolicies,
    ...awsAcceptancePolicies,
];
