/**
 * Runs the real program (index.ts) under the Pulumi mocks runtime and records every resource it registers,
 * with its parent, inputs and outputs. `npm run plan` runs it as a preview with PreviewMocks (what only the
 * cloud knows stays unknown); the tests run it with mocks that answer every output, so every apply runs.
 */
import * as pulumi from "@pulumi/pulumi";
import { isUnknown } from "@pulumi/pulumi/output";
import { loadStackConfig } from "../../local/project-files";

/**
 * What stands for a value that is unknown until `pulumi up`, in recorded inputs, state and outputs: the
 * engine's own sentinel, as `pulumi preview --json` shows it.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface RecordedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly custom: boolean;
    readonly parentUrn?: string;
    /** Inputs as the engine received them (secrets unwrapped). */
    readonly inputs: Record<string, any>;
    /** The top-level inputs that arrived as secrets (so the engine keeps them encrypted in the state). */
    readonly secretInputs: readonly string[];
    /** Inputs plus the mocked provider outputs. */
    readonly state: Record<string, any>;
    readonly protect: boolean;
    readonly retainOnDelete: boolean;
    /** Position in the order the program registered resources (the order of its code). */
    readonly order: number;
    /** The explicit provider reference ("urn::id"), when the resource was given one. */
    readonly provider?: string;
    /** URNs this resource depends on, and per input property (what a policy pack sees at preview). */
    readonly dependencies: string[];
    readonly propertyDependencies: Record<string, string[]>;
}

export interface RecordedCall {
    readonly token: string;
    readonly inputs: Record<string, any>;
    /** The provider reference ("urn::id") the call went through, when it was given one. */
    readonly provider?: string;
}

export interface ProgramRun {
    readonly stack: string;
    /** Ran as a preview: applies on unknown values did not run, and unknowns are UNKNOWN. */
    readonly preview: boolean;
    readonly config: Record<string, string>;
    /** The stack's region (aws:region, or the provider's default). */
    readonly region: string;
    readonly resources: RecordedResource[];
    readonly outputs: Record<string, unknown>;
    /** Data-source calls (invokes) the program made. */
    readonly calls: RecordedCall[];
    ofType(type: string): RecordedResource[];
    named(type: string, name: string): RecordedResource;
}

type Callback = (err: Error | null, resp: any) => void;

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const isSecretValue = (value: any) => Boolean(value && typeof value === "object" && value[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270");

/** Strips Pulumi's secret wrappers so tests can look at values; an unknown becomes UNKNOWN. */
function unwrapSecrets(value: any): any {
    if (isUnknown(value) || value === UNKNOWN) return UNKNOWN;
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    // An asset's path arrives as a promise: kept here, settled when the run ends (settlePromises).
    if (value instanceof Promise) return value;
    if (value && typeof value === "object") {
        if (isSecretValue(value)) return unwrapSecrets(value.value);
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

/** A copy of `value` with every promise inside replaced by what it resolves to. */
async function settlePromises(value: any): Promise<any> {
    if (value instanceof Promise) return settlePromises(await value);
    if (Array.isArray(value)) return Promise.all(value.map(settlePromises));
    if (value && typeof value === "object") {
        const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await settlePromises(v)] as const));
        return Object.fromEntries(entries);
    }
    return value;
}

let running = false;

export interface RunOptions {
    /** Config values on top of the stack's (tests). */
    readonly overrides?: Record<string, unknown>;
    /** The provider stand-in: what each resource's outputs and each data-source call answer. */
    readonly mocks: (region: string) => pulumi.runtime.Mocks;
    /** Run as `pulumi preview` does: outputs the mocks do not answer, and applies on them, stay unknown. */
    readonly preview: boolean;
}

/**
 * Run the program for `stack`. One run at a time per process: the Pulumi runtime is global state.
 */
export async function runProgram(stack: string, options: RunOptions): Promise<ProgramRun> {
    const overrides = options.overrides ?? {};
    if (running) throw new Error("runProgram: a run is already in progress in this process");
    running = true;
    // The SDK captures a stack trace for every resource and promise; formatting them (through source maps,
    // under tsx and vitest) dominated the run. Errors thrown by the program keep their messages.
    const stackTraceLimit = Error.stackTraceLimit;
    if (!process.env.PLAN_STACK_TRACES) Error.stackTraceLimit = 0;
    try {
        const config = loadStackConfig(stack, overrides);
        const region = config["aws:region"] ?? "us-east-1";
        const mocks = options.mocks(region);
        const recorded: RecordedResource[] = [];
        interface Pending { type: string; name: string; custom: boolean; parentUrn?: string; protect: boolean; retainOnDelete: boolean; dependencies: string[]; propertyDependencies: Record<string, string[]> }
        const pending: Pending[] = [];

        const calls: RecordedCall[] = [];
        const call = mocks.call.bind(mocks);
        mocks.call = (args) => {
            calls.push({ token: args.token, inputs: unwrapSecrets(args.inputs), provider: args.provider || undefined });
            return call(args);
        };
        const newResource = mocks.newResource.bind(mocks);
        mocks.newResource = async (args) => {
            const result = await newResource(args);
            const meta = pending.find((p) => p.type === args.type && p.name === args.name);
            recorded.push({
                urn: "",
                type: args.type,
                name: args.name,
                custom: args.custom ?? true,
                parentUrn: meta?.parentUrn,
                protect: meta?.protect ?? false,
                retainOnDelete: meta?.retainOnDelete ?? false,
                order: meta ? pending.indexOf(meta) : pending.length,
                provider: args.provider || undefined,
                dependencies: meta?.dependencies ?? [],
                propertyDependencies: meta?.propertyDependencies ?? {},
                inputs: unwrapSecrets(args.inputs),
                secretInputs: Object.keys(args.inputs ?? {}).filter((k) => isSecretValue(args.inputs[k])),
                state: unwrapSecrets(result.state),
            });
            return result;
        };

        pulumi.runtime.setAllConfig(config, []);
        await pulumi.runtime.setMocks(mocks, "instagram", stack, options.preview);
        // The mock monitor sees each registration's parent; the Mocks interface does not, so listen in.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const settings = require("@pulumi/pulumi/runtime/settings");
        const monitor = settings.getMonitor();
        const register = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req: any, callback: Callback) => {
            const propertyDependencies: Record<string, string[]> = {};
            req.getPropertydependenciesMap().forEach((deps: any, key: string) => { propertyDependencies[key] = deps.getUrnsList(); });
            pending.push({
                type: req.getType(),
                name: req.getName(),
                custom: req.getCustom(),
                parentUrn: req.getParent() || undefined,
                protect: req.getProtect?.() ?? false,
                retainOnDelete: req.getRetainondelete?.() ?? false,
                dependencies: req.getDependenciesList(),
                propertyDependencies,
            });
            register(req, (err: Error | null, resp: any) => {
                if (!err) {
                    const entry = recorded.find((r) => r.type === req.getType() && r.name === req.getName() && r.urn === "");
                    if (entry) (entry as { urn: string }).urn = resp.getUrn();
                }
                callback(err, resp);
            });
        };

        // index.ts is `export = async () => outputs`, as the Pulumi CLI runs it: call it, then read what it returns.
        const entry = await import("../../index");
        const main = (typeof entry === "function" ? entry : (entry as { default: unknown }).default) as () => Promise<Record<string, unknown>>;
        const program = await main();
        const outputs: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(program)) {
            outputs[key] = pulumi.Output.isInstance(value) ? unwrapSecrets(await outputValue(value as pulumi.Output<unknown>)) : value;
        }
        await settings.disconnect();
        for (const r of recorded) {
            (r as { inputs: unknown }).inputs = await settlePromises(r.inputs);
            (r as { state: unknown }).state = await settlePromises(r.state);
        }
        recorded.sort((a, b) => a.order - b.order);
        return {
            stack,
            preview: options.preview,
            config,
            region,
            resources: recorded,
            outputs,
            calls,
            ofType: (type) => recorded.filter((r) => r.type === type),
            named: (type, name) => {
                const found = recorded.find((r) => r.type === type && r.name === name);
                if (!found) throw new Error(`no ${type} named ${name}; the ${type} resources are: ${recorded.filter((r) => r.type === type).map((r) => r.name).join(", ")}`);
                return found;
            },
        };
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
        running = false;
    }
}

/** The value of an Output, or UNKNOWN when it will be known only after `pulumi up` (a preview's unknowns). */
export async function outputValue<T>(output: pulumi.Output<T>): Promise<T | typeof UNKNOWN> {
    // isKnown and promise() are the SDK's own (OutputImpl) way to read an output without apply, which never
    // runs on an unknown one.
    const impl = output as unknown as { isKnown: Promise<boolean>; promise(withUnknowns?: boolean): Promise<T> };
    if (!(await impl.isKnown)) return UNKNOWN;
    return impl.promise(true);
}
