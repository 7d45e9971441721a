/**
 * The AWS acceptance check as mandatory policies: `pulumi preview --policy-pack policies` (and `pulumi up`,
 * which validates each resource with its inputs resolved before creating it) stops on any input AWS would
 * refuse at create time, one violation a refusal, naming the property, the value, the rule and its source.
 */
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { checkResource, STACK_RULES } from "./acceptance/check";
import { Ledger, PlannedResource, refusalLine } from "./acceptance/types";

export const awsAcceptsInputs: ResourceValidationPolicy = {
    name: "aws-accepts-inputs",
    description: "Every input is one AWS accepts: the constraints of AWS's API models (enum, length, pattern, range, required), the limits its documentation states, and IAM documents against the IAM catalogue.",
    enforcementLevel: "mandatory",
    validateResource: async (args, report) => {
        const ledger = new Ledger();
        await checkResource({ type: args.type, name: args.name, urn: args.urn, inputs: args.props }, ledger);
        for (const refusal of ledger.refusals) report(refusalLine(refusal));
    },
};

/** A stack policy's resource as the check reads it, with the links the cross-resource rules follow. */
const planned = (r: PolicyResource): PlannedResource => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    inputs: r.props,
    propertyDependencies: Object.fromEntries(Object.entries(r.propertyDependencies ?? {}).map(([k, deps]) => [k, deps.map((d) => d.urn)])),
    provider: r.provider ? `${r.provider.urn}::${r.provider.props?.id ?? ""}` : undefined,
});

export const awsAcceptsStack: StackValidationPolicy = {
    name: "aws-accepts-stack",
    description: "What AWS enforces across resources: per-role inline policy size and attachments, rules per security group, and the other limits that span resources.",
    enforcementLevel: "mandatory",
    validateStack: async (args, report) => {
        const ledger = new Ledger();
        const resources = args.resources.map(planned);
        for (const rule of STACK_RULES) await rule(resources, ledger);
        for (const refusal of ledger.refusals) report(refusalLine(refusal), refusal.resource.startsWith("urn:") ? refusal.resource : undefined);
    },
};

export const awsAcceptancePolicies = [awsAcceptsInputs, awsAcceptsStack];
