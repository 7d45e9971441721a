/**
 * `npm run plan -- [--stack NAME] [--json]`: an offline `pulumi preview`. Runs the real program as a preview
 * under the Pulumi mocks runtime with the stack's config (Pulumi.yaml defaults merged with
 * Pulumi.<stack>.yaml, as the CLI does) and PreviewMocks, which know only what is known without the cloud:
 * every provider-computed value, and everything derived from one, prints as unknown. Prints the resource
 * tree, a count by type and the stack outputs, or all of it as JSON. Exits 2 on a bad flag, 1 on invalid
 * config.
 */
import { ConfigError } from "../core/config";
import { parseFlags, runTool } from "./cli-args";
import { previewProgram } from "./offline/preview";
import { ProgramRun, UNKNOWN } from "./offline/runtime";
import { countByType, renderTree } from "./offline/tree";

const USAGE = "usage: npm run plan -- [--stack NAME] [--quiet] [--json]   (NAME defaults to dev; the stacks are the Pulumi.NAME.yaml files)";

/** How the text plan shows a value known only after `pulumi up`, as `pulumi preview` shows an unknown output. */
export const UNKNOWN_TEXT = "output<unknown>";

const FLAGS = { values: ["stack"], booleans: ["quiet", "json"], aliases: { "-s": "stack", "-q": "quiet" } };

/** A value for the text plan: JSON, with every unknown shown as output<unknown>. */
export function showValue(value: unknown): string {
    if (value === UNKNOWN) return UNKNOWN_TEXT;
    return JSON.stringify(value, (_k, v) => (v === UNKNOWN ? UNKNOWN_TEXT : v)).replace(new RegExp(`"${UNKNOWN_TEXT}"`, "g"), UNKNOWN_TEXT);
}

function planText(run: ProgramRun, ms: number, quiet: boolean): string[] {
    const lines = [
        `Offline plan of stack "${run.stack}" (project instagram, region ${run.config["aws:region"]})`,
        "No cloud was contacted: the program ran as a preview under the Pulumi mocks runtime. What only exists after",
        `\`pulumi up\` (IDs, ARNs, addresses, generated passwords, a command's output) shows as ${UNKNOWN_TEXT}, as`,
        "`pulumi preview` shows it; the app release is built here, so its SHA-256 is real.",
        "",
    ];
    if (!quiet) lines.push(...renderTree(`instagram-${run.stack}`, run.resources), "");
    lines.push("Resources by type:");
    const counts = countByType(run.resources);
    const width = Math.max(...counts.map(([t]) => t.length));
    for (const [type, n] of counts) lines.push(`  ${type.padEnd(width)}  ${String(n).padStart(4)}`);
    lines.push("", `  ${run.resources.length + 1} to create (including the stack), evaluated in ${ms.toFixed(0)} ms`, "", "Outputs:");
    for (const [key, value] of Object.entries(run.outputs)) lines.push(`  ${key}: ${showValue(value)}`);
    return lines;
}

export const SECRET_TEXT = "[secret]";

/** The plan for other tools: every resource with its inputs (unknowns as Pulumi's sentinel), and the outputs. */
export function planJson(run: ProgramRun): Record<string, unknown> {
    return {
        project: "instagram",
        stack: run.stack,
        region: run.config["aws:region"],
        unknownValue: UNKNOWN,
        resources: run.resources.map((r) => ({
            urn: r.urn,
            type: r.type,
            name: r.name,
            parent: r.parentUrn ?? null,
            custom: r.custom,
            provider: r.provider ?? null,
            protect: r.protect,
            retainOnDelete: r.retainOnDelete,
            dependencies: r.dependencies,
            // As `pulumi preview --json` shows them: a secret input's value never leaves the program.
            inputs: Object.fromEntries(Object.entries(r.inputs).map(([k, v]) => [k, r.secretInputs.includes(k) ? SECRET_TEXT : v])),
        })),
        outputs: run.outputs,
    };
}

async function main(): Promise<number> {
    const flags = parseFlags(process.argv.slice(2), FLAGS);
    const stack = flags.values.stack ?? "dev";
    const started = process.hrtime.bigint();
    try {
        const run = await previewProgram(stack);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (flags.booleans.has("json")) console.log(JSON.stringify(planJson(run), null, 2));
        else for (const line of planText(run, ms, flags.booleans.has("quiet"))) console.log(line);
        return 0;
    } catch (e) {
        if (e instanceof ConfigError) {
            console.error(`plan: stack "${stack}" has an invalid configuration:`);
            for (const p of e.problems) console.error(`  - ${p}`);
            return 1;
        }
        console.error(`plan: ${(e as Error).message}`);
        return 1;
    }
}

if (require.main === module) runTool("plan", USAGE, main);
