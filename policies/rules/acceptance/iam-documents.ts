/**
 * Where the plan holds IAM policy documents, and the limits that span them: each policy-bearing input of the
 * resource types this program uses is checked as its kind of document (iam-policy-document.ts), and each
 * role's inline policies together, and its managed policy attachments, against IAM's per-role quotas.
 */
import { isKnown, PlannedResource, ResourceRule, Source, StackRule } from "./types";
import { checkPolicyDocument, documentSize, documentText, DocumentSpec, IAM_QUOTAS, parseDocument } from "./iam-policy-document";

const S3_BUCKET_POLICIES: Source = { family: "documentation", ref: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-iam-policies.html" };
const SNS_POLICY_QUOTAS: Source = { family: "documentation", ref: "https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html" };
const KMS_KEY_POLICY: Source = { family: "documentation", ref: "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html" };

/** A role's inline policies share one limit, checked across them by roleInlinePolicySize. */
const INLINE: DocumentSpec = { kind: "identity" };
const MANAGED: DocumentSpec = { kind: "identity", size: { max: 6_144, unit: "characters without whitespace", what: "a managed policy", source: IAM_QUOTAS } };
const TRUST: DocumentSpec = { kind: "trust", size: { max: 2_048, unit: "characters without whitespace", what: "a role's trust policy (IAM's default quota)", source: IAM_QUOTAS } };
// The services below state their limits in KB and count the document as sent, white space included.
const BUCKET: DocumentSpec = { kind: "resource", size: { max: 20 * 1024, unit: "bytes", what: "a bucket policy (20 KB)", source: S3_BUCKET_POLICIES } };
const TOPIC: DocumentSpec = { kind: "resource", size: { max: 30 * 1024, unit: "bytes", what: "an SNS topic policy (30 KB)", source: SNS_POLICY_QUOTAS } };
const KEY: DocumentSpec = { kind: "resource", size: { max: 32 * 1024, unit: "bytes", what: "a KMS key policy (32 KB)", source: KMS_KEY_POLICY } };

const INLINE_TOTAL = 10_240;
const MANAGED_PER_ROLE = 10;

const documentAt = (input: string, spec: DocumentSpec): ResourceRule =>
    (resource, ledger) => checkPolicyDocument(resource.inputs[input], spec, resource, input, ledger);

/** A role's inline policies given on the role itself (aws.iam.Role inlinePolicies). */
const roleInlinePolicies: ResourceRule = async (resource, ledger) => {
    const inline = resource.inputs.inlinePolicies;
    if (!isKnown(inline) || !Array.isArray(inline)) return;
    for (let i = 0; i < inline.length; i++) {
        const entry = inline[i] as { policy?: unknown } | undefined;
        if (isKnown(entry)) await checkPolicyDocument(entry?.policy, INLINE, resource, `inlinePolicies[${i}].policy`, ledger);
    }
};

export const iamDocumentRules: Record<string, ResourceRule[]> = {
    "aws:iam/rolePolicy:RolePolicy": [documentAt("policy", INLINE)],
    "aws:iam/role:Role": [documentAt("assumeRolePolicy", TRUST), roleInlinePolicies],
    "aws:iam/policy:Policy": [documentAt("policy", MANAGED)],
    "aws:s3/bucketPolicy:BucketPolicy": [documentAt("policy", BUCKET)],
    "aws:sns/topicPolicy:TopicPolicy": [documentAt("policy", TOPIC)],
    "aws:kms/key:Key": [documentAt("policy", KEY)],
};

/** IAM role names are case-insensitive, and a role may be referred to by its ARN. */
const roleKey = (role: string): string => role.slice(role.lastIndexOf("/") + 1).toLowerCase();

/** A role whose name is not known yet is a group of its own: its URN, or its type and name. */
const resourceKey = (r: PlannedResource): string => r.urn ?? `${r.type} ${r.name}`;

/** One inline policy document of a role: where it is, and its size as IAM counts it. */
interface Inline {
    readonly resource: PlannedResource;
    readonly path: string;
    readonly value: string;
    readonly size: number;
}

function inlineDocument(resource: PlannedResource, path: string, value: unknown): Inline | undefined {
    // Unknown documents cannot be measured; one that is not JSON is refused by its resource rule.
    if (!isKnown(value) || parseDocument(value) === undefined) return undefined;
    const text = documentText(value);
    return { resource, path, value: text, size: documentSize(text, "characters without whitespace") };
}

/**
 * All inline policies of one role together: at most 10,240 characters without white space. A RolePolicy
 * names its role by the `role` input; while that is unknown (a new role's id, at preview) nothing in the
 * plan tells which role it joins, so it is held alone to the limit it can at least not exceed by itself.
 */
const roleInlinePolicySize: StackRule = (resources, ledger) => {
    const byRole = new Map<string, Inline[]>();
    const alone: Inline[] = [];
    const add = (role: string, doc: Inline | undefined) => {
        if (doc) byRole.set(role, [...(byRole.get(role) ?? []), doc]);
    };
    for (const r of resources) {
        if (r.type === "aws:iam/rolePolicy:RolePolicy") {
            const doc = inlineDocument(r, "policy", r.inputs.policy);
            if (typeof r.inputs.role === "string" && isKnown(r.inputs.role)) add(roleKey(r.inputs.role), doc);
            else if (doc) alone.push(doc);
        } else if (r.type === "aws:iam/role:Role" && Array.isArray(r.inputs.inlinePolicies)) {
            const key = typeof r.inputs.name === "string" && isKnown(r.inputs.name) ? roleKey(r.inputs.name) : resourceKey(r);
            r.inputs.inlinePolicies.forEach((p: { policy?: unknown } | undefined, i: number) => add(key, inlineDocument(r, `inlinePolicies[${i}].policy`, p?.policy)));
        }
    }
    const limit = `${INLINE_TOTAL.toLocaleString("en-US")} characters without whitespace`;
    for (const [role, docs] of byRole) {
        const total = docs.reduce((sum, d) => sum + d.size, 0);
        // Refused at the last document, the one that takes the role over.
        const last = docs[docs.length - 1];
        const rule = `must keep the inline policies of role ${role} within ${limit} together (${docs.length} policies total ${total.toLocaleString("en-US")})`;
        ledger.check(total <= INLINE_TOTAL, last.resource, last.path, last.value, rule, IAM_QUOTAS);
    }
    for (const doc of alone) {
        const rule = `must be at most ${limit}, what all inline policies of one role may total (its role is unknown until apply; it has ${doc.size.toLocaleString("en-US")})`;
        ledger.check(doc.size <= INLINE_TOTAL, doc.resource, doc.path, doc.value, rule, IAM_QUOTAS);
    }
};

/**
 * Managed policies attached to one role: at most 10 (IAM's default quota). Attaching the same policy twice
 * is one attachment; an attachment whose role is unknown cannot be counted with the others.
 */
const roleManagedPolicyCount: StackRule = (resources, ledger) => {
    const byRole = new Map<string, { resource: PlannedResource; policies: Set<unknown> }>();
    const attach = (role: string, resource: PlannedResource, policyArn: unknown) => {
        const entry = byRole.get(role) ?? { resource, policies: new Set<unknown>() };
        // An ARN not known yet is still one more policy; a fresh object keeps it distinct.
        entry.policies.add(typeof policyArn === "string" && isKnown(policyArn) ? policyArn : {});
        entry.resource = resource;
        byRole.set(role, entry);
    };
    for (const r of resources) {
        if (r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
            if (typeof r.inputs.role === "string" && isKnown(r.inputs.role)) attach(roleKey(r.inputs.role), r, r.inputs.policyArn);
        } else if (r.type === "aws:iam/role:Role" && Array.isArray(r.inputs.managedPolicyArns)) {
            const key = typeof r.inputs.name === "string" && isKnown(r.inputs.name) ? roleKey(r.inputs.name) : resourceKey(r);
            for (const arn of r.inputs.managedPolicyArns) attach(key, r, arn);
        }
    }
    for (const [role, { resource, policies }] of byRole) {
        const rule = `must leave role ${role} with at most ${MANAGED_PER_ROLE} managed policies attached (IAM's default quota; it would have ${policies.size})`;
        ledger.check(policies.size <= MANAGED_PER_ROLE, resource, resource.type === "aws:iam/role:Role" ? "managedPolicyArns" : "role", role, rule, IAM_QUOTAS);
    }
};

export const iamStackRules: StackRule[] = [roleInlinePolicySize, roleManagedPolicyCount];

