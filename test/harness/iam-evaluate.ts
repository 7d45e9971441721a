/**
 * A host role's IAM policies as the program renders them, and AWS calls (test/harness/aws-calls.ts) evaluated
 * against them by a real IAM policy evaluator, @cloud-copilot/iam-simulate (AGPL-3.0: a devDependency, used by
 * tests only). Identity policies only: the caller and every resource in one account, no SCPs, permission
 * boundaries, session or resource policies (the stack's bucket policies only deny plain HTTP or admit CloudFront,
 * neither of which concerns a host's signed HTTPS call).
 *
 * Two sets of a role's policies: its inline policies (RolePolicy, rendered by the program with the mocks' ARNs),
 * which must allow every call its hosts make; and those plus the AWS-managed policies attached by ARN
 * (RolePolicyAttachment), whose documented text lives in test/fixtures/aws-managed-policies: that is what AWS
 * evaluates, so a call a host must be refused is checked against it.
 */
import * as fs from "fs";
import * as path from "path";
import { getDenialReasons, getGrantReasons, runSimulation } from "@cloud-copilot/iam-simulate";
import type { RequestAnalysis } from "@cloud-copilot/iam-simulate";
import { ProgramRun } from "../../tools/offline/runtime";
import { AwsCall, describeCall } from "./aws-calls";
import { ACCOUNT_ID } from "../../tools/offline/example-mocks";
import { runMocked } from "./program";
import { T } from "./queries";

const MANAGED_POLICIES_DIR = path.resolve(__dirname, "../fixtures/aws-managed-policies");

export interface IdentityPolicy {
    readonly name: string;
    readonly policy: unknown;
}

/** A host tier's IAM role and what is attached to it. */
export interface HostRoleIdentity {
    /** The tier, e.g. "app". */
    readonly role: string;
    readonly roleArn: string;
    /** Who signs a host's calls: the role's session on an instance. */
    readonly principal: string;
    /** Its inline policies (RolePolicy), as rendered. */
    readonly inline: IdentityPolicy[];
    /** The managed policies attached by ARN (RolePolicyAttachment), with their documented text. */
    readonly managed: IdentityPolicy[];
}

const runs = new Map<string, Promise<ProgramRun>>();

/**
 * The dev stack, rendered once per test file (per process) and shared by its tests: in `region` when a test's
 * stand-ins answer for another region than the stack's own (the scripts take the region from instance
 * metadata, and an SSM parameter's ARN names it).
 */
export function renderedStack(region?: string): Promise<ProgramRun> {
    const key = region ?? "";
    if (!runs.has(key)) runs.set(key, runMocked("dev", region ? { "aws:region": region } : {}));
    return runs.get(key)!;
}

/** The documented text of an AWS-managed policy, from its fixture. */
function managedPolicy(arn: string): IdentityPolicy {
    const name = arn.split("/").pop()!;
    const file = path.join(MANAGED_POLICIES_DIR, `${name}.json`);
    if (!fs.existsSync(file)) throw new Error(`${arn} is attached, and ${path.relative(process.cwd(), file)} does not hold its documented text: add it (with its source) before evaluating`);
    const fixture = JSON.parse(fs.readFileSync(file, "utf8")) as { arn: string; document: unknown };
    if (fixture.arn !== arn) throw new Error(`${file} is the text of ${fixture.arn}, not ${arn}`);
    return { name, policy: fixture.document };
}

/**
 * The IAM role of a host identity and its policies, from a program run: a tier's ("app" -> the HostIdentity
 * "app-host"), or a physical shard's ("shard-0" -> "shard-0-host": each shard has its own).
 */
export function hostRoleIdentity(run: ProgramRun, role: string): HostRoleIdentity {
    const name = `${role}-host`;
    const resource = run.ofType(T.role).find((r) => r.name === name && run.resources.find((p) => p.urn === r.parentUrn)?.type === "instagram:host:HostIdentity");
    if (!resource) throw new Error(`the program has no host identity ${name} (an aws:iam/role:Role under an instagram:host:HostIdentity)`);
    // A RolePolicy names its role by ID, an attachment by name: either identifies it.
    const refs = [resource.state.id, resource.state.name];
    const inline = run.ofType(T.rolePolicy).filter((p) => refs.includes(p.inputs.role)).map((p) => ({ name: p.name, policy: JSON.parse(p.inputs.policy as string) }));
    const managed = run.ofType(T.rolePolicyAttachment).filter((a) => refs.includes(a.inputs.role)).map((a) => managedPolicy(a.inputs.policyArn as string));
    return {
        role,
        roleArn: resource.state.arn as string,
        principal: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${resource.state.name}/i-0123456789abcdef0`,
        inline,
        managed,
    };
}

export interface Verdict {
    readonly call: AwsCall;
    readonly allowed: boolean;
    /** iam-simulate's result: Allowed, ImplicitlyDenied or ExplicitlyDenied. */
    readonly result: string;
    /** Which statement allowed it, or why nothing did. */
    readonly reason: string;
}

/**
 * One call evaluated against the role's inline policies ("inline": what the program grants), or against those
 * and its attached managed policies ("attached": what AWS evaluates). A call the evaluator cannot take (an
 * unknown action, an ARN of no resource type the action has, a condition key the action does not read) throws.
 */
export async function evaluateCall(identity: HostRoleIdentity, call: AwsCall, policies: "inline" | "attached" = "inline"): Promise<Verdict> {
    const identityPolicies = policies === "inline" ? identity.inline : [...identity.inline, ...identity.managed];
    const response = await runSimulation({
        request: { principal: identity.principal, action: call.action, resource: { resource: call.resource, accountId: ACCOUNT_ID }, contextVariables: { ...call.context } },
        identityPolicies: identityPolicies.map((p) => ({ name: p.name, policy: p.policy })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
    }, {});
    if (response.resultType === "error") throw new Error(`iam-simulate cannot evaluate ${describeCall(call)} (from ${call.request}): ${JSON.stringify(response.errors)}`);
    const results = response.resultType === "single" ? [response.result] : response.results;
    const ignored = [...new Set(results.flatMap((r) => r.ignoredContextKeys ?? []))];
    if (ignored.length) throw new Error(`${describeCall(call)} (from ${call.request}) sets ${ignored.join(", ")}, which ${call.action} does not read: fix its mapping in test/harness/aws-calls.ts`);
    const analyses: RequestAnalysis[] = results.map((r) => r.analysis);
    const allowed = response.overallResult === "Allowed";
    const statement = (s: { statementId?: string; statementIndex: number }) => s.statementId ?? `statement ${s.statementIndex}`;
    let reason: string;
    if (allowed) {
        reason = `allowed by ${analyses.flatMap(getGrantReasons).map((g) => `${"policyIdentifier" in g ? g.policyIdentifier : g.policyType} ${statement(g)}`).join(", ")}`;
    } else {
        const explicit = analyses.flatMap(getDenialReasons).filter((d) => d.denialType === "Explicit");
        reason = explicit.length
            ? `explicitly denied by ${explicit.map((d) => `${d.policyIdentifier ?? d.policyType} ${statement(d)}`).join(", ")}`
            : `no statement of ${identityPolicies.map((p) => p.name).join(", ") || "(no policy)"} allows it`;
    }
    return { call, allowed, result: response.overallResult, reason };
}

/**
 * The calls of `calls` that `role`'s inline policies (as `run` renders them) do not allow, each as
 * "ACTION RESOURCE {context} (from REQUEST): why": an empty list when every call is allowed.
 */
export async function callsDenied(run: ProgramRun, role: string, calls: readonly AwsCall[]): Promise<string[]> {
    const identity = hostRoleIdentity(run, role);
    const denied: string[] = [];
    for (const call of calls) {
        const verdict = await evaluateCall(identity, call, "inline");
        if (!verdict.allowed) denied.push(`${role}: ${describeCall(call)} (from ${call.request}): ${verdict.reason}`);
    }
    return denied;
}

/** The name the program gives one of its buckets ("backups", "media", "app-artifacts"...), so a stand-in serves the rendered one. */
export function renderedBucket(run: ProgramRun, name: string): string {
    const bucket = run.ofType(T.bucket).find((b) => b.name === name);
    if (!bucket) throw new Error(`the program has no bucket ${name}; it has ${run.ofType(T.bucket).map((b) => b.name).join(", ")}`);
    return bucket.state.bucket as string;
}
