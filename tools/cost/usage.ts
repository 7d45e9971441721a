/**
 * The usage file of `npm run cost` (tools/cost/usage.yml is the default and documents every figure):
 * what the program cannot know, per month. Validated whole before anything is priced: an unknown key, a
 * negative or non-numeric figure, or a version this code does not read is refused with its path.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

export const DEFAULT_USAGE_FILE = path.join(__dirname, "usage.yml");

/** A figure, or null where the user does not know it (it prints as unknown). */
export type Figure = number | null;

export interface BucketUsage {
    readonly storage_gb?: Figure;
    readonly put_requests?: Figure;
    readonly get_requests?: Figure;
}

export interface StackUsage {
    readonly cloudfront?: { readonly data_transfer_out_gb?: Figure; readonly https_requests?: Figure };
    readonly buckets?: Readonly<Record<string, BucketUsage>>;
    readonly ebs_snapshots?: { readonly storage_gb?: Figure };
    readonly nat_gateway?: { readonly processed_gb?: Figure };
    readonly load_balancer?: {
        readonly new_connections_per_second?: Figure;
        readonly active_connections_per_minute?: Figure;
        readonly processed_gb_per_hour?: Figure;
        readonly rule_evaluations_per_second?: Figure;
    };
    readonly data_transfer?: { readonly internet_out_gb?: Figure; readonly inter_az_gb?: Figure };
    readonly route53?: { readonly standard_queries?: Figure };
    readonly sns?: { readonly alarm_notifications?: Figure };
}

/** The figures each section takes; `buckets` takes any bucket name, each with BUCKET_FIGURES. */
const SECTIONS: Record<string, readonly string[]> = {
    cloudfront: ["data_transfer_out_gb", "https_requests"],
    ebs_snapshots: ["storage_gb"],
    nat_gateway: ["processed_gb"],
    load_balancer: ["new_connections_per_second", "active_connections_per_minute", "processed_gb_per_hour", "rule_evaluations_per_second"],
    data_transfer: ["internet_out_gb", "inter_az_gb"],
    route53: ["standard_queries"],
    sns: ["alarm_notifications"],
};
const BUCKET_FIGURES = ["storage_gb", "put_requests", "get_requests"];

export class UsageFileError extends Error {}

export interface UsageFile {
    readonly file: string;
    readonly stacks: Readonly<Record<string, StackUsage>>;
}

export function loadUsageFile(file: string = DEFAULT_USAGE_FILE): UsageFile {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new UsageFileError(`usage file ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    let doc: unknown;
    try {
        doc = yaml.load(text);
    } catch (e) {
        throw new UsageFileError(`usage file ${file} is not YAML: ${(e as Error).message.split("\n")[0]}`);
    }
    return { file, stacks: parseUsage(doc, file) };
}

export function parseUsage(doc: unknown, file: string): Record<string, StackUsage> {
    const fail = (where: string, what: string): never => { throw new UsageFileError(`usage file ${file}: ${where} ${what}`); };
    if (!isObject(doc)) return fail("the document", "must be a mapping with `version: 1` and `stacks`");
    for (const key of Object.keys(doc)) if (key !== "version" && key !== "stacks") fail(key, "is not a key of a usage file (it has version and stacks)");
    if (doc.version !== 1) fail("version", `is ${JSON.stringify(doc.version)}; this tool reads version 1`);
    if (!isObject(doc.stacks)) return fail("stacks", "must be a mapping of stack name (or default) to its figures");
    const stacks: Record<string, StackUsage> = {};
    for (const [stack, section] of Object.entries(doc.stacks)) {
        if (section === null) { stacks[stack] = {}; continue; }
        if (!isObject(section)) fail(`stacks.${stack}`, "must be a mapping of sections");
        for (const [name, figures] of Object.entries(section as Record<string, unknown>)) {
            const where = `stacks.${stack}.${name}`;
            if (name === "buckets") {
                if (!isObject(figures)) fail(where, "must be a mapping of bucket name to its figures");
                for (const [bucket, b] of Object.entries(figures as Record<string, unknown>)) checkFigures(`${where}.${bucket}`, b, BUCKET_FIGURES, fail);
            } else if (SECTIONS[name]) {
                checkFigures(where, figures, SECTIONS[name], fail);
            } else {
                fail(where, `is not a section of a usage file (they are: ${[...Object.keys(SECTIONS), "buckets"].sort().join(", ")})`);
            }
        }
        stacks[stack] = section as StackUsage;
    }
    return stacks;
}

function checkFigures(where: string, figures: unknown, allowed: readonly string[], fail: (where: string, what: string) => never): void {
    if (figures === null) return;
    if (!isObject(figures)) fail(where, `must be a mapping of ${allowed.join(", ")}`);
    for (const [key, value] of Object.entries(figures as Record<string, unknown>)) {
        if (!allowed.includes(key)) fail(`${where}.${key}`, `is not a figure this section takes (it takes: ${allowed.join(", ")})`);
        if (value !== null && (typeof value !== "number" || !Number.isFinite(value) || value < 0)) {
            fail(`${where}.${key}`, `is ${JSON.stringify(value)}; a figure is a number of 0 or more, or null when it is not known`);
        }
    }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The stack's own section, else `default`, else nothing (every usage-priced line is then unknown). */
export function usageFor(usage: UsageFile, stack: string): { section: string | null; figures: StackUsage } {
    if (usage.stacks[stack]) return { section: stack, figures: usage.stacks[stack] };
    if (usage.stacks.default) return { section: "default", figures: usage.stacks.default };
    return { section: null, figures: {} };
}
