/** Rules for IAM policy documents: no wildcard actions, no write actions on every resource. */
import * as aws from "@pulumi/aws";
import { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { asList, isReadOnlyAction, problem, statementsOf } from "./common";

/** The policy document of any IAM policy-bearing resource, if this is one. */
function policyDocument(args: ResourceValidationArgs): unknown {
    for (const cls of [aws.iam.RolePolicy, aws.iam.Policy, aws.iam.UserPolicy, aws.iam.GroupPolicy]) {
        const props = args.asType(cls as never) as { policy?: unknown } | undefined;
        if (props) return props.policy;
    }
    return undefined;
}

export const iamNoWildcardActions: ResourceValidationPolicy = {
    name: "iam-no-wildcard-actions",
    description: 'IAM policies allow no "*" or "service:*" actions (Checkov CKV_AWS_63, CKV_AWS_49; Trivy aws-iam-no-policy-wildcards).',
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        statementsOf(policyDocument(args)).forEach((s, i) => {
            if (s.Effect !== "Allow") return;
            const wild = asList(s.Action).filter((a) => a === "*" || /^[a-z0-9-]+:\*$/.test(a));
            if (wild.length > 0 || s.NotAction) {
                report(problem(args.name, `policy Statement[${i}].Action`, `allows ${s.NotAction ? "NotAction" : wild.join(", ")}`, "list the actions the tier needs"));
            }
        });
    },
};

/**
 * Write actions that have no resource-level permissions (AWS takes only Resource "*" for them), each with the
 * condition key that narrows it instead: allowed on "*" only when the statement names that key.
 */
const CONDITION_SCOPED_ACTIONS: Readonly<Record<string, string>> = { "cloudwatch:PutMetricData": "cloudwatch:namespace" };

function scopedByCondition(action: string, condition: unknown): boolean {
    const key = CONDITION_SCOPED_ACTIONS[action];
    if (!key || typeof condition !== "object" || condition === null) return false;
    return Object.values(condition as Record<string, unknown>).some((test) => typeof test === "object" && test !== null && key in test);
}

export const iamNoWildcardWriteResources: ResourceValidationPolicy = {
    name: "iam-no-wildcard-write-resources",
    description: 'IAM policies allow write actions only on named resources, never Resource "*" (Checkov CKV_AWS_355), save actions AWS scopes only by a condition key, with that key.',
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        statementsOf(policyDocument(args)).forEach((s, i) => {
            if (s.Effect !== "Allow" || !asList(s.Resource).includes("*")) return;
            const writes = asList(s.Action).filter((a) => !isReadOnlyAction(a) && !scopedByCondition(a, s.Condition));
            if (writes.length > 0) report(problem(args.name, `policy Statement[${i}].Resource`, `is "*" for ${writes.join(", ")}`, "name the resources (ARNs) these actions apply to"));
        });
    },
};

export const iamPolicies = [iamNoWildcardActions, iamNoWildcardWriteResources];
