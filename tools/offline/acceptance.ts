/**
 * The AWS acceptance check over the program's own runs, shared by `npm run plan` and `npm run validate`: a
 * run's resources as the check reads them, and the policy documents the plan cannot know rendered with
 * example IDs and ARNs.
 */
import { checkResource, STACK_RULES } from "../../policies/rules/acceptance/check";
import { isKnown, Ledger, PlannedResource, SOURCE_FAMILIES, SourceFamily } from "../../policies/rules/acceptance/types";
import { StackMocks } from "./example-mocks";
import { ProgramRun, runProgram } from "./runtime";

/** The inputs that carry a policy document, by type: checked again with example ARNs when unknown in the plan. */
export const DOCUMENT_INPUTS: Readonly<Record<string, string>> = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:kms/key:Key": "policy",
};

/** A stack's custom resources as the check reads them; secret inputs stay hidden, as `pulumi preview` shows them. */
export function plannedFromRun(run: ProgramRun): PlannedResource[] {
    return run.resources.filter((r) => r.custom).map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        inputs: Object.fromEntries(Object.entries(r.inputs).map(([k, v]) => [k, r.secretInputs.includes(k) ? "[secret]" : v])),
        propertyDependencies: r.propertyDependencies,
        provider: r.provider,
    }));
}

/** The policy-bearing resources whose document the plan cannot know. */
export function unknownDocuments(planned: readonly PlannedResource[]): PlannedResource[] {
    return planned.filter((r) => DOCUMENT_INPUTS[r.type] && !isKnown(r.inputs[DOCUMENT_INPUTS[r.type]]));
}

/**
 * The documents the plan cannot know, checked as rendered with example IDs and ARNs: the same resources from
 * a run under example mocks, each by its own rules, then the per-role rules over them with every role and
 * attachment. Undefined when the plan knows every document.
 */
export async function checkDocumentsWithExampleIds(stack: string, planned: readonly PlannedResource[]): Promise<{ ledger: Ledger; documents: number } | undefined> {
    const unknown = new Set(unknownDocuments(planned).map((r) => r.urn));
    if (unknown.size === 0) return undefined;
    const example = plannedFromRun(await runProgram(stack, { mocks: (region) => new StackMocks(region), preview: false }));
    const ledger = new Ledger();
    for (const resource of example.filter((r) => unknown.has(r.urn))) await checkResource(resource, ledger);
    for (const rule of STACK_RULES) await rule(example.filter((r) => unknown.has(r.urn) || ROLE_CONTEXT.has(r.type)), ledger);
    return { ledger, documents: unknown.size };
}

/** What the per-role rules read beside the documents themselves. */
const ROLE_CONTEXT = new Set(["aws:iam/role:Role", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"]);

/** The constraints checked, one line per source family. */
export function countsBySource(ledger: Ledger): string[] {
    const lines = [];
    for (const [family, n] of [...ledger.counts].sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${String(n).padStart(6)}  ${SOURCE_FAMILIES[family as SourceFamily]}`);
    return lines;
}

