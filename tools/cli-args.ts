/**
 * The flags of the offline tools (plan, cost, diagram): `--name VALUE`, `--name=VALUE` and boolean
 * `--name`, each checked against what the tool takes. A bad flag is a UsageError, which the tool prints
 * with its usage line and exits 2 for.
 */

export class UsageError extends Error {}

export interface FlagSpec {
    /** Flags that take a value, by long name. */
    readonly values: readonly string[];
    /** Flags that are on or off. */
    readonly booleans: readonly string[];
    /** Short forms: "-s" -> "stack". */
    readonly aliases?: Readonly<Record<string, string>>;
}

export interface ParsedFlags {
    readonly values: Record<string, string>;
    readonly booleans: Set<string>;
}

export function parseFlags(argv: readonly string[], spec: FlagSpec): ParsedFlags {
    const values: Record<string, string> = {};
    const booleans = new Set<string>();
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--help" || arg === "-h") throw new UsageError("");
        const aliased = spec.aliases?.[arg];
        const [flag, inline] = aliased ? [aliased, undefined] : splitFlag(arg);
        if (flag === undefined) throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
        if (spec.values.includes(flag)) {
            const value = inline ?? argv[++i];
            if (value === undefined || value === "" || (inline === undefined && value.startsWith("-"))) throw new UsageError(`--${flag} needs a value`);
            if (flag in values) throw new UsageError(`--${flag} is given twice`);
            values[flag] = value;
        } else if (spec.booleans.includes(flag)) {
            if (inline !== undefined) throw new UsageError(`--${flag} takes no value`);
            booleans.add(flag);
        } else {
            throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
        }
    }
    return { values, booleans };
}

function splitFlag(arg: string): [string | undefined, string | undefined] {
    if (!arg.startsWith("--") || arg.length === 2) return [undefined, undefined];
    const eq = arg.indexOf("=");
    return eq < 0 ? [arg.slice(2), undefined] : [arg.slice(2, eq), arg.slice(eq + 1)];
}

/**
 * Runs a tool's main and exits with its code once stdout is flushed (a JSON plan or an SVG is larger than a
 * pipe's buffer, and exit() would cut it). A UsageError prints the usage and exits 2 (0 for --help).
 */
export function runTool(tool: string, usage: string, main: () => Promise<number>): void {
    // Stack traces the SDK captures are not shown by the tools; mapping them through tsx's source maps is
    // slow (see runProgram). PLAN_STACK_TRACES=1 keeps both for debugging the program.
    if (!process.env.PLAN_STACK_TRACES) process.setSourceMapsEnabled(false);
    main().catch((e) => {
        if (e instanceof UsageError) {
            if (e.message) console.error(`${tool}: ${e.message}`);
            console.error(usage);
            return e.message ? 2 : 0;
        }
        console.error(`${tool}: ${(e as Error).stack ?? e}`);
        return 1;
    }).then((code) => process.stdout.write("", () => process.exit(code)));
}
