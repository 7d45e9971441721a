/**
 * AWS's API models as the acceptance check reads them: the request shapes of the operations the Pulumi
 * resources become, with their constraints (enum, min, max, pattern, required), trimmed from botocore's
 * service-2.json files by tools/aws-models/trim.ts into models/<service>.json beside this file. Documentation
 * and output shapes are dropped; nothing else is changed.
 */
import * as fs from "fs";
import * as path from "path";

export interface ModelShape {
    readonly type: "structure" | "list" | "map" | "string" | "integer" | "long" | "float" | "double" | "boolean" | "timestamp" | "blob";
    readonly required?: readonly string[];
    /** Structure members: member name → shape name. */
    readonly members?: Readonly<Record<string, string>>;
    /** List element shape. */
    readonly member?: string;
    readonly key?: string;
    readonly value?: string;
    readonly min?: number;
    readonly max?: number;
    readonly pattern?: string;
    readonly enum?: readonly string[];
}

export interface ServiceModel {
    /** Where the shapes come from, e.g. "botocore 1.43.67". */
    readonly source: string;
    readonly service: string;
    readonly apiVersion: string;
    /** Operation → its request shape. */
    readonly operations: Readonly<Record<string, string>>;
    readonly shapes: Readonly<Record<string, ModelShape>>;
}

export const MODELS_DIR = path.join(__dirname, "models");

const loaded = new Map<string, ServiceModel>();

export function serviceModel(service: string): ServiceModel {
    let model = loaded.get(service);
    if (!model) {
        model = JSON.parse(fs.readFileSync(path.join(MODELS_DIR, `${service}.json`), "utf8")) as ServiceModel;
        loaded.set(service, model);
    }
    return model;
}

/**
 * A botocore pattern as a JavaScript RegExp that must match the whole value. AWS validates a member's pattern
 * against all of it, and its API reference prints the patterns anchored (^...$); newer models dropped the
 * anchors from some (CloudFront and ACM tags, IAM role descriptions: `[\p{L}...]*` unanchored would match
 * anything), so the check anchors every pattern itself. Some use Unicode property escapes, which need the u
 * flag; one JavaScript cannot compile returns undefined and the check lists it as skipped.
 */
const compiled = new Map<string, RegExp | undefined>();
export function patternRegExp(pattern: string): RegExp | undefined {
    if (!compiled.has(pattern)) {
        // Java's \p{all} (any character) has no JavaScript name.
        const source = `^(?:${pattern.replace(/\\p\{all\}/g, "\\s\\S")})$`;
        let re: RegExp | undefined;
        try {
            re = new RegExp(source, "u");
        } catch {
            // Without the u flag, Java's loose classes ([0-9-_]) compile as Java reads them; \p would not.
            if (!source.includes("\\p")) re = new RegExp(source);
        }
        compiled.set(pattern, re);
    }
    return compiled.get(pattern);
}
