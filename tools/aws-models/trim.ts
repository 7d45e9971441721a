/**
 * `npm run aws-models -- [--botocore DIR] [--out DIR]`: refreshes the AWS API models the acceptance check
 * reads (policies/rules/acceptance/models/<service>.json) from a copy of botocore, AWS's Python SDK core,
 * whose botocore/data/<service>/<api-version>/service-2.json files are AWS's published API models.
 *
 * For each service the Pulumi mappings name, it takes the newest API version, keeps the request shapes
 * reachable from the mapped operations with their constraints (type, members, required, enum, min, max,
 * pattern) and drops documentation, outputs and everything else. The result is deterministic (sorted keys),
 * so a refresh shows as a reviewable diff. DIR defaults to Debian's python3-botocore
 * (/usr/lib/python3/dist-packages/botocore); the committed models came from a newer botocore (the version
 * is in each file's "source"), since Debian 12's 1.29 predates instance types and enums AWS sells today.
 */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { API_MAPPINGS } from "../../policies/rules/acceptance/api-mappings";
import { MODELS_DIR, ModelShape, ServiceModel } from "../../policies/rules/acceptance/models";
import { parseFlags, runTool } from "../cli-args";

const USAGE = "usage: npm run aws-models -- [--botocore DIR] [--out DIR]   (DIR: a botocore package directory, the one holding data/ and __init__.py)";
export const DEBIAN_BOTOCORE = "/usr/lib/python3/dist-packages/botocore";

interface BotocoreShape {
    type: ModelShape["type"];
    required?: string[];
    members?: Record<string, { shape: string }>;
    member?: { shape: string };
    key?: { shape: string };
    value?: { shape: string };
    min?: number;
    max?: number;
    pattern?: string;
    enum?: string[];
}

interface BotocoreModel {
    metadata: { apiVersion: string };
    operations: Record<string, { input?: { shape: string } }>;
    shapes: Record<string, BotocoreShape>;
}

/** botocore's own version, from its __init__.py. */
export function botocoreVersion(botocoreDir: string): string {
    const init = fs.readFileSync(path.join(botocoreDir, "__init__.py"), "utf8");
    const match = /__version__\s*=\s*['"]([^'"]+)['"]/.exec(init);
    if (!match) throw new Error(`${botocoreDir}/__init__.py names no __version__: not a botocore package directory`);
    return match[1];
}

function readServiceModel(botocoreDir: string, service: string): BotocoreModel {
    const serviceDir = path.join(botocoreDir, "data", service);
    if (!fs.existsSync(serviceDir)) throw new Error(`${serviceDir} does not exist: this botocore has no model of ${service}`);
    const versions = fs.readdirSync(serviceDir).filter((v) => /^\d{4}-\d{2}-\d{2}$/.test(v)).sort();
    const dir = path.join(serviceDir, versions[versions.length - 1]);
    for (const file of ["service-2.json", "service-2.json.gz"]) {
        const full = path.join(dir, file);
        if (!fs.existsSync(full)) continue;
        const raw = fs.readFileSync(full);
        return JSON.parse((file.endsWith(".gz") ? zlib.gunzipSync(raw) : raw).toString("utf8")) as BotocoreModel;
    }
    throw new Error(`${dir} has no service-2.json`);
}

const sorted = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

/** One service's model reduced to the request shapes of `operations`, with their constraints only. */
export function trimModel(model: BotocoreModel, service: string, operations: string[], source: string): ServiceModel {
    const shapes: Record<string, ModelShape> = {};
    const visit = (name: string): void => {
        if (shapes[name]) return;
        const s = model.shapes[name];
        if (!s) throw new Error(`${service}: shape ${name} is referenced but not defined`);
        const trimmed: Record<string, unknown> = { type: s.type };
        if (s.required?.length) trimmed.required = [...s.required].sort();
        if (s.members) trimmed.members = sorted(Object.fromEntries(Object.entries(s.members).map(([m, ref]) => [m, ref.shape])));
        if (s.member) trimmed.member = s.member.shape;
        if (s.key) trimmed.key = s.key.shape;
        if (s.value) trimmed.value = s.value.shape;
        for (const k of ["min", "max", "pattern", "enum"] as const) if (s[k] !== undefined) trimmed[k] = s[k];
        shapes[name] = trimmed as unknown as ModelShape;
        for (const ref of [...Object.values(s.members ?? {}), s.member, s.key, s.value]) if (ref) visit(ref.shape);
    };
    const ops: Record<string, string> = {};
    for (const op of operations) {
        const input = model.operations[op]?.input?.shape;
        if (!input) throw new Error(`${service} has no operation ${op} with a request: fix the mapping in policies/rules/acceptance/api-mappings.ts`);
        ops[op] = input;
        visit(input);
    }
    return { source, service, apiVersion: model.metadata.apiVersion, operations: sorted(ops), shapes: sorted(shapes) };
}

/** The services and operations the mappings use. */
export function mappedOperations(): Map<string, string[]> {
    const byService = new Map<string, Set<string>>();
    for (const ops of Object.values(API_MAPPINGS)) {
        for (const { service, operation } of ops) byService.set(service, (byService.get(service) ?? new Set()).add(operation));
    }
    return new Map([...byService].sort(([a], [b]) => a.localeCompare(b)).map(([s, ops]) => [s, [...ops].sort()]));
}

/** Every trimmed model, as the files would hold them. */
export function trimAll(botocoreDir: string): ServiceModel[] {
    const source = `botocore ${botocoreVersion(botocoreDir)}`;
    return [...mappedOperations()].map(([service, ops]) => trimModel(readServiceModel(botocoreDir, service), service, ops, source));
}

async function main(): Promise<number> {
    const flags = parseFlags(process.argv.slice(2), { values: ["botocore", "out"], booleans: [], aliases: {} });
    const botocoreDir = flags.values.botocore ?? DEBIAN_BOTOCORE;
    const out = flags.values.out ?? MODELS_DIR;
    const models = trimAll(botocoreDir);
    fs.mkdirSync(out, { recursive: true });
    for (const model of models) {
        const file = path.join(out, `${model.service}.json`);
        fs.writeFileSync(`${file}.partial`, `${JSON.stringify(model, null, 1)}\n`);
        fs.renameSync(`${file}.partial`, file);
        console.log(`${file}: ${Object.keys(model.operations).length} operations, ${Object.keys(model.shapes).length} shapes (${model.source}, ${model.service} ${model.apiVersion})`);
    }
    return 0;
}

if (require.main === module) runTool("aws-models", USAGE, main);
