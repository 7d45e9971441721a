/**
 * Runs CrossGuard rules without the policy server: fake validation args that behave as the server's
 * (isType/asType by the class's __pulumiType, getConfig with the schema's defaults, notApplicable), and
 * stack resources built from a recorded program run with their property dependencies resolved.
 */
import { Policy, PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { ProgramRun } from "../../tools/offline/runtime";

class NotApplicable extends Error {}

function configFor(policy: Policy, given: Record<string, unknown> = {}): Record<string, unknown> {
    const defaults = Object.fromEntries(
        Object.entries(policy.configSchema?.properties ?? {}).filter(([, s]) => (s as { default?: unknown }).default !== undefined).map(([k, s]) => [k, (s as { default: unknown }).default]),
    );
    return { ...defaults, ...given };
}

const typeOf = (cls: unknown) => (cls as { __pulumiType?: string }).__pulumiType;

export interface Violation {
    readonly policy: string;
    readonly level: string;
    readonly message: string;
    readonly urn?: string;
}

/** Violations of one resource rule for one resource ([] when the rule does not apply). */
export async function checkResource(policy: ResourceValidationPolicy, type: string, props: Record<string, any>, name = "subject", config: Record<string, unknown> = {}): Promise<string[]> {
    const messages: string[] = [];
    const urn = `urn:pulumi:test::instagram::${type}::${name}`;
    const args = {
        type,
        props,
        urn,
        name,
        opts: {} as never,
        stackTags: new Map<string, string>(),
        isType: (cls: unknown) => typeOf(cls) === type,
        asType: (cls: unknown) => (typeOf(cls) === type ? props : undefined),
        getConfig: () => configFor(policy, config),
        notApplicable: (reason?: string): never => { throw new NotApplicable(reason); },
    };
    for (const validate of [policy.validateResource ?? []].flat()) {
        try {
            await validate(args as never, (message: string) => messages.push(message));
        } catch (e) {
            if (!(e instanceof NotApplicable)) throw e;
        }
    }
    return messages;
}

/** Violations of one stack rule, with the URN each names. */
export async function checkStack(policy: StackValidationPolicy, resources: PolicyResource[], config: Record<string, unknown> = {}): Promise<{ message: string; urn?: string }[]> {
    const found: { message: string; urn?: string }[] = [];
    const args = {
        resources,
        stackTags: new Map<string, string>(),
        getConfig: () => configFor(policy, config),
        notApplicable: (reason?: string): never => { throw new NotApplicable(reason); },
    };
    try {
        await policy.validateStack(args as never, (message: string, urn?: string) => found.push({ message, urn }));
    } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
    }
    return found;
}

/** The recorded resources as a policy's stack validation sees them: outputs as props, references resolved. */
export function policyResources(run: ProgramRun): PolicyResource[] {
    const byUrn = new Map<string, PolicyResource>();
    const custom = run.resources.filter((r) => r.custom);
    for (const r of custom) {
        byUrn.set(r.urn, {
            type: r.type,
            name: r.name,
            urn: r.urn,
            props: structuredClone(r.state),
            opts: {} as never,
            dependencies: [],
            propertyDependencies: {},
            isType: (cls: unknown) => typeOf(cls) === r.type,
            asType(this: PolicyResource, cls: unknown) { return typeOf(cls) === r.type ? this.props : undefined; },
        } as unknown as PolicyResource);
    }
    for (const r of custom) {
        const resource = byUrn.get(r.urn)!;
        const resolve = (urns: string[]) => urns.map((u) => byUrn.get(u)).filter((x): x is PolicyResource => !!x);
        resource.dependencies.push(...resolve(r.dependencies));
        for (const [prop, urns] of Object.entries(r.propertyDependencies)) resource.propertyDependencies[prop] = resolve(urns);
    }
    return [...byUrn.values()];
}

/** Every rule against every resource and the stack as a whole. */
export async function checkAll(policies: (ResourceValidationPolicy | StackValidationPolicy)[], run: ProgramRun, config: Record<string, Record<string, unknown>> = {}): Promise<Violation[]> {
    const resources = policyResources(run);
    const violations: Violation[] = [];
    for (const policy of policies) {
        const level = policy.enforcementLevel ?? "advisory";
        if (!("validateStack" in policy)) {
            for (const r of resources) {
                for (const message of await checkResource(policy, r.type, r.props, r.name, config[policy.name])) violations.push({ policy: policy.name, level, message, urn: r.urn });
            }
        } else {
            for (const v of await checkStack(policy, resources, config[policy.name])) violations.push({ policy: policy.name, level, ...v });
        }
    }
    return violations;
}
