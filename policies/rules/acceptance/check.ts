/**
 * The AWS acceptance check in one call: every resource against the API models of the requests it becomes,
 * the documentation's rules for its type and its IAM documents against the IAM catalogue; then the rules that
 * span resources. The policy pack (../aws-acceptance.ts), `npm run validate` and `npm run plan` all run this.
 */
import { checkAgainstApiModels, Coverage } from "./api-model";
import { crossResourceRules } from "./cross-resource";
import { documentedRulesFor } from "./documented";
import { iamDocumentRules, iamStackRules } from "./iam-documents";
import { Ledger, PlannedResource, ResourceRule, StackRule } from "./types";

/** The documentation and IAM catalogue rules of one resource type (the API-model check applies to every type). */
export function resourceRulesFor(type: string): ResourceRule[] {
    return [...documentedRulesFor(type), ...(iamDocumentRules[type] ?? [])];
}

export const STACK_RULES: readonly StackRule[] = [...crossResourceRules, ...iamStackRules];

/** Checks one resource by every per-resource rule. */
export async function checkResource(resource: PlannedResource, ledger: Ledger, coverage?: Coverage): Promise<void> {
    checkAgainstApiModels(resource, ledger, coverage);
    for (const rule of resourceRulesFor(resource.type)) await rule(resource, ledger);
}

/** Checks a whole plan: each resource, then what spans resources. */
export async function checkPlan(resources: readonly PlannedResource[], coverage?: Coverage): Promise<Ledger> {
    const ledger = new Ledger();
    for (const resource of resources) await checkResource(resource, ledger, coverage);
    for (const rule of STACK_RULES) await rule(resources, ledger);
    return ledger;
}
