/**
 * A resource's inputs checked against AWS's API models: each input goes, through its mapping
 * (api-mappings.ts), to a member of the request AWS will receive, and that member's shape's constraints apply:
 * enum values, string length, pattern, numeric range, list and map sizes, and the members a request requires.
 * What no member takes is recorded as unchecked, so `npm run validate -- --coverage` can say what is not
 * covered instead of passing it silently.
 */
import { API_MAPPINGS, NO_API_REQUEST, OperationMapping } from "./api-mappings";
import { ModelShape, patternRegExp, ServiceModel, serviceModel } from "./models";
import { isKnown, Ledger, PlannedResource, ResourceRule } from "./types";

/** Inputs no model check reached, by resource type: "path (why)". */
export class Coverage {
    readonly unchecked = new Map<string, Set<string>>();
    note(type: string, path: string, why: string): void {
        if (!this.unchecked.has(type)) this.unchecked.set(type, new Set());
        this.unchecked.get(type)!.add(`${path} (${why})`);
    }
}

const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
/** A path with its list indices replaced by [] ("routes[2].cidrBlock" → "routes[].cidrBlock"). */
const normalized = (path: string): string => path.replace(/\[\d+\]/g, "[]");

interface Target {
    readonly mapping: OperationMapping;
    /** The member path in the operation's request, or "" when the input is not sent to AWS as such. */
    readonly member: string;
}

/**
 * Which operation and member an input (by its normalized path) goes to: the longest mapped path that is it or
 * contains it, across the resource's operations (a mapping to a member beats one to "" of the same length);
 * else, by name, the first operation's member; undefined when neither applies.
 */
function targetOf(mappings: readonly OperationMapping[], path: string): Target | undefined {
    let best: { mapping: OperationMapping; key: string } | undefined;
    for (const mapping of mappings) {
        for (const key of Object.keys(mapping.properties)) {
            if (!(path === key || path.startsWith(`${key}.`) || path.startsWith(`${key}[]`))) continue;
            const longer = !best || key.length > best.key.length;
            const sameButMapped = best && key.length === best.key.length && best.mapping.properties[best.key] === "" && mapping.properties[key] !== "";
            if (longer || sameButMapped) best = { mapping, key };
        }
    }
    if (best) {
        const mapped = best.mapping.properties[best.key];
        return { mapping: best.mapping, member: mapped === "" ? "" : mapped + memberSuffix(path.slice(best.key.length)) };
    }
    const first = mappings[0];
    return first && !first.listedOnly ? { mapping: first, member: memberSuffix(path).replace(/^\./, "") } : undefined;
}

/** The rest of a Pulumi path as member names: ".volumeSize" → ".VolumeSize", "[].cidrBlock" → "[].CidrBlock". */
function memberSuffix(rest: string): string {
    return rest.replace(/(^|\.)([a-z][A-Za-z0-9]*)/g, (_m, dot: string, name: string) => dot + pascal(name));
}

/** The shape a member path names in a request, or undefined when the model has no such member. */
function shapeAt(model: ServiceModel, operation: string, member: string): { name: string; shape: ModelShape } | undefined {
    let name = model.operations[operation];
    const segments = member === "" ? [] : member.replace(/\[\]/g, ".[]").split(".").filter((s) => s !== "");
    for (const segment of segments) {
        let shape = model.shapes[name];
        if (segment === "[]") {
            // A Pulumi list of one may stand for a single structure: step into a list only when there is one.
            if (shape.type === "list") name = shape.member!;
            continue;
        }
        // A Pulumi object may stand for a list's element (one rule, one mapping).
        if (shape.type === "list") {
            name = shape.member!;
            shape = model.shapes[name];
        }
        if (shape.type !== "structure") return undefined;
        const members = shape.members ?? {};
        const found = members[segment] ?? Object.entries(members).find(([m]) => m.toLowerCase() === segment.toLowerCase())?.[1];
        if (!found) return undefined;
        name = found;
    }
    return { name, shape: model.shapes[name] };
}

/**
 * A Pulumi map (tags, alarm dimensions) as the list of Key/Value (or Name/Value) pairs AWS takes, when the
 * member is such a list: the pairs and the element's key and value shapes.
 */
function pairList(model: ServiceModel, shape: ModelShape, value: unknown): { pairs: [string, unknown][]; keyShape: string; valueShape: string; keyMember: string } | undefined {
    if (shape.type !== "list" || typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    const element = model.shapes[shape.member!];
    const keyMember = element.members?.Key ? "Key" : element.members?.Name ? "Name" : undefined;
    if (element.type !== "structure" || !keyMember || !element.members?.Value) return undefined;
    return { pairs: Object.entries(value as Record<string, unknown>), keyShape: element.members[keyMember], valueShape: element.members.Value, keyMember };
}

const codePoints = (s: string): number => [...s].length;

class ModelCheck {
    constructor(
        private readonly resource: PlannedResource,
        private readonly ledger: Ledger,
        private readonly coverage: Coverage | undefined,
    ) {}

    private source(model: ServiceModel, operation: string, member: string, shapeName: string) {
        return { family: "api-model" as const, ref: `${model.service} ${operation} ${member || "(request)"}: shape ${shapeName}, ${model.source}` };
    }

    /** Every constraint of the shape on a value that matches its type. */
    checkValue(model: ServiceModel, operation: string, member: string, path: string, shapeName: string, value: unknown): void {
        const shape = model.shapes[shapeName];
        const src = this.source(model, operation, member, shapeName);
        const check = (ok: boolean, rule: string, shown: unknown = value) => this.ledger.check(ok, this.resource, path, shown, rule, src);
        if (shape.type === "string" && typeof value === "string") {
            if (shape.enum) check(shape.enum.includes(value), `must be one of ${shape.enum.length > 12 ? `the ${shape.enum.length} values of ${shapeName}` : shape.enum.join(", ")}`);
            if (shape.min !== undefined) check(codePoints(value) >= shape.min, `must be at least ${shape.min} characters`);
            if (shape.max !== undefined) check(codePoints(value) <= shape.max, `must be at most ${shape.max} characters (is ${codePoints(value)})`);
            if (shape.pattern !== undefined) {
                const re = patternRegExp(shape.pattern);
                if (re) check(re.test(value), `must match ${shape.pattern}`);
                else this.coverage?.note(this.resource.type, path, `pattern ${shape.pattern} is not JavaScript`);
            }
        } else if (["integer", "long", "float", "double"].includes(shape.type) && typeof value === "number") {
            if (shape.min !== undefined) check(value >= shape.min, `must be at least ${shape.min}`);
            if (shape.max !== undefined) check(value <= shape.max, `must be at most ${shape.max}`);
        } else if (shape.type === "list" && Array.isArray(value)) {
            if (shape.min !== undefined) check(value.length >= shape.min, `must have at least ${shape.min} items`, value.length);
            if (shape.max !== undefined) check(value.length <= shape.max, `must have at most ${shape.max} items (has ${value.length})`, value.length);
        } else if (shape.type === "list") {
            const list = pairList(model, shape, value);
            if (!list) return;
            const n = list.pairs.length;
            if (shape.min !== undefined) check(n >= shape.min, `must have at least ${shape.min} entries`, n);
            if (shape.max !== undefined) check(n <= shape.max, `must have at most ${shape.max} entries (has ${n})`, n);
            for (const [k, v] of list.pairs) {
                this.checkValue(model, operation, `${member}[].${list.keyMember}`, `${path}.${k}(key)`, list.keyShape, k);
                if (isKnown(v)) this.checkValue(model, operation, `${member}[].Value`, `${path}.${k}`, list.valueShape, v);
            }
        } else if (shape.type === "map" && typeof value === "object" && value !== null && !Array.isArray(value)) {
            const entries = Object.entries(value as Record<string, unknown>);
            if (shape.min !== undefined) check(entries.length >= shape.min, `must have at least ${shape.min} entries`, entries.length);
            if (shape.max !== undefined) check(entries.length <= shape.max, `must have at most ${shape.max} entries (has ${entries.length})`, entries.length);
            for (const [k, v] of entries) {
                this.checkValue(model, operation, `${member}{key}`, `${path}.${k}(key)`, shape.key!, k);
                if (isKnown(v)) this.checkValue(model, operation, `${member}{value}`, `${path}.${k}`, shape.value!, v);
            }
        }
    }

    /** Walks the inputs; returns the member paths (normalized) each operation received, for the required check. */
    walk(mappings: readonly OperationMapping[], path: string, value: unknown, sent: Map<OperationMapping, Set<string>>): void {
        if (value === undefined || value === null) return;
        const target = path === "" ? undefined : targetOf(mappings, normalized(path));
        let isTagMap = false;
        if (path !== "") {
            if (!target) {
                if (typeof value === "object") return this.walkChildren(mappings, path, value, sent);
                this.coverage?.note(this.resource.type, normalized(path), "no operation takes it");
                return;
            }
            if (target.member === "") {
                this.coverage?.note(this.resource.type, normalized(path), "the provider's own setting, or checked by a documentation rule");
                return;
            }
            const model = serviceModel(target.mapping.service);
            const at = shapeAt(model, target.mapping.operation, target.member);
            if (!at) {
                // An object or list whose own path names no member may still hold mapped inputs (aliases[].name).
                if (typeof value === "object") return this.walkChildren(mappings, path, value, sent);
                this.coverage?.note(this.resource.type, normalized(path), `${target.mapping.operation} has no member ${target.member}`);
                return;
            }
            if (!sent.has(target.mapping)) sent.set(target.mapping, new Set());
            sent.get(target.mapping)!.add(normalized(target.member));
            if (isKnown(value)) this.checkValue(model, target.mapping.operation, target.member, path, at.name, value);
            isTagMap = pairList(model, at.shape, value) !== undefined || at.shape.type === "map";
        }
        if (!isTagMap) this.walkChildren(mappings, path, value, sent);
    }

    private walkChildren(mappings: readonly OperationMapping[], path: string, value: unknown, sent: Map<OperationMapping, Set<string>>): void {
        if (!isKnown(value) || typeof value !== "object") return;
        if (Array.isArray(value)) value.forEach((v, i) => this.walk(mappings, `${path}[${i}]`, v, sent));
        else for (const [k, v] of Object.entries(value as Record<string, unknown>)) this.walk(mappings, path === "" ? k : `${path}.${k}`, v, sent);
    }

    /** The members each request requires, among the structures the inputs reached. */
    checkRequired(mappings: readonly OperationMapping[], sent: Map<OperationMapping, Set<string>>): void {
        for (const mapping of mappings) {
            const members = sent.get(mapping);
            if (!members && mapping.listedOnly) continue;
            const model = serviceModel(mapping.service);
            const reached = new Set<string>([""]);
            for (const m of members ?? []) {
                const parts = m.replace(/\[\]/g, "").split(".");
                for (let i = 1; i < parts.length; i++) reached.add(parts.slice(0, i).join("."));
            }
            const present = new Set([...(members ?? [])].map((m) => m.replace(/\[\]/g, "")));
            const provided = new Set((mapping.provided ?? []).map((m) => m.replace(/\[\]/g, "")));
            for (const structure of reached) {
                const at = shapeAt(model, mapping.operation, structure);
                let shape = at?.shape;
                if (shape?.type === "list") shape = model.shapes[shape.member!];
                if (!at || shape?.type !== "structure") continue;
                for (const required of shape.required ?? []) {
                    const full = structure ? `${structure}.${required}` : required;
                    const given = present.has(full) || [...present].some((p) => p.startsWith(`${full}.`)) || provided.has(full) || provided.has(`*.${required}`);
                    this.ledger.check(given, this.resource, `(${mapping.operation}) ${full}`, null, `is required by ${mapping.operation}`, this.source(model, mapping.operation, full, at.name));
                }
            }
        }
    }
}

/** Checks one resource's inputs against the API models of the operations it becomes. */
export function checkAgainstApiModels(resource: PlannedResource, ledger: Ledger, coverage?: Coverage): void {
    const mappings = API_MAPPINGS[resource.type];
    if (!mappings) {
        if (!(resource.type in NO_API_REQUEST) && resource.type.startsWith("aws:")) coverage?.note(resource.type, "*", "no mapping to an AWS operation");
        return;
    }
    const check = new ModelCheck(resource, ledger, coverage);
    const sent = new Map<OperationMapping, Set<string>>();
    check.walk(mappings, "", resource.inputs, sent);
    check.checkRequired(mappings, sent);
}

export const apiModelRule: ResourceRule = (resource, ledger) => checkAgainstApiModels(resource, ledger);
