/**
 * Merges Pulumi.yaml's declared config (defaults, project values) with a stack's Pulumi.<stack>.yaml,
 * the way the Pulumi CLI does before it starts the program. Under the mocks runtime nothing else does it,
 * so the offline plan, the one-machine stack and the test harness use this, and the program keeps its
 * defaults in one place. Pure: the files come through a ProjectFiles reader (local/project-files.ts reads a
 * checkout).
 */
import * as yaml from "js-yaml";
import { ConfigError } from "./config";

/** The project's Pulumi files by name ("Pulumi.yaml", "Pulumi.dev.yaml"). */
export interface ProjectFiles {
    /** The file's text, or undefined when there is no such file. */
    read(name: string): string | undefined;
    /** Every file name in the project directory. */
    list(): readonly string[];
}

type DeclaredType = "string" | "integer" | "boolean" | "array";

interface Declaration {
    readonly type?: DeclaredType;
    readonly default?: unknown;
    readonly value?: unknown;
    readonly description?: string;
}

export interface ProjectConfig {
    readonly project: string;
    /** Fully qualified key -> declaration. */
    readonly declarations: ReadonlyMap<string, Declaration>;
}

function readYaml(files: ProjectFiles, name: string): Record<string, unknown> {
    const text = files.read(name);
    if (text === undefined) throw new ConfigError([`${name}: no such file in the project directory`]);
    let doc: unknown;
    try {
        doc = yaml.load(text);
    } catch (e) {
        throw new ConfigError([`${name}: ${(e as Error).message.split("\n")[0]}`]);
    }
    if (doc === null || doc === undefined) return {};
    if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError([`${name}: expected a YAML mapping at the top level`]);
    return doc as Record<string, unknown>;
}

export function readProjectConfig(files: ProjectFiles): ProjectConfig {
    const doc = readYaml(files, "Pulumi.yaml");
    const project = String(doc.name);
    const declarations = new Map<string, Declaration>();
    for (const [key, decl] of Object.entries((doc.config ?? {}) as Record<string, unknown>)) {
        const qualified = key.includes(":") ? key : `${project}:${key}`;
        declarations.set(qualified, decl !== null && typeof decl === "object" && !Array.isArray(decl) ? (decl as Declaration) : { value: decl });
    }
    return { project, declarations };
}

function typeMatches(type: DeclaredType, value: unknown): boolean {
    switch (type) {
        case "string": return typeof value === "string" || typeof value === "number";
        case "integer": return Number.isInteger(value) || (typeof value === "string" && /^-?\d+$/.test(value));
        case "boolean": return typeof value === "boolean" || value === "true" || value === "false";
        case "array": return Array.isArray(value);
    }
}

/** How the CLI hands a value to the program: scalars as text, arrays and objects as JSON. */
function asConfigString(value: unknown): string {
    return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
}

/**
 * The config the program would receive for `stack`: project defaults and values, overridden by the stack
 * file, overridden by `overrides` (tests). Values are checked against the declared types, as the CLI does.
 */
export function mergeStackConfig(stack: string, files: ProjectFiles, overrides: Record<string, unknown> = {}): Record<string, string> {
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new ConfigError([`stack name ${JSON.stringify(stack)}: use letters, digits, '-', '_' and '.' only`]);
    const { declarations } = readProjectConfig(files);
    const stackFile = `Pulumi.${stack}.yaml`;
    if (files.read(stackFile) === undefined) {
        const known = files.list().filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => f.slice(7, -5)).sort();
        throw new ConfigError([`no stack file ${stackFile}; the stacks here are: ${known.join(", ")}`]);
    }
    const stackValues = (readYaml(files, stackFile).config ?? {}) as Record<string, unknown>;
    const merged: Record<string, unknown> = {};
    for (const [key, decl] of declarations) {
        if (decl.value !== undefined) merged[key] = decl.value;
        else if (decl.default !== undefined) merged[key] = decl.default;
    }
    Object.assign(merged, stackValues, overrides);

    const problems: string[] = [];
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(merged)) {
        if (value === undefined || value === null) continue;
        if (typeof value === "object" && !Array.isArray(value) && "secure" in (value as object)) {
            problems.push(`${key} is an encrypted secret; the offline plan cannot decrypt it (use \`pulumi preview\`)`);
            continue;
        }
        const type = declarations.get(key)?.type;
        if (type && !typeMatches(type, value)) {
            problems.push(`${key} = ${JSON.stringify(value)}: Pulumi.yaml declares it as ${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`);
            continue;
        }
        out[key] = asConfigString(value);
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return out;
}
