/**
 * `npm run plan -- [--stack NAME] [--json] [--quotas FILE]`: an offline `pulumi preview`. Runs the real program as a preview
 * under the Pulumi mocks runtime with the stack's config (Pulumi.yaml defaults merged with
 * Pulumi.<stack>.yaml, as the CLI does) and PreviewMocks, which know only what is known without the cloud:
 * every provider-computed value, and everything derived from one, prints as unknown. Prints the resource
 * tree, a count by type, what AWS would refuse (the acceptance check of policies/rules/acceptance) and the
 * quotas it needs against AWS's defaults or the account's values in FILE (tools/quotas/), and the stack outputs,
 * or all of it as JSON (quotas to raise then go to stderr). Exits 2 on a bad flag or quotas file, 1 on invalid
 * config or an input AWS would refuse; a quota to raise is a warning.
 */
import { ConfigError } from "../core/config";
import { checkPlan } from "../policies/rules/acceptance/check";
import { Ledger, PlannedResource, refusalLine } from "../policies/rules/acceptance/types";
import { parseFlags, runTool } from "./cli-args";
import { countsBySource, plannedFromRun, unknownDocuments } from "./offline/acceptance";
import { previewProgram } from "./offline/preview";
import { accountQuotasFromFlag, quotaSection } from "./quotas/cli";
import { ProgramRun, UNKNOWN } from "./offline/runtime";
import { countByType, renderTree } from "./offline/tree";

const USAGE = "usage: npm run plan -- [--stack NAME] [--quiet] [--json] [--quotas FILE]   (NAME defaults to dev; the stacks are the Pulumi.NAME.yaml files; FILE: JSON or YAML, quota code -> your account's value)";

/** How the text plan shows a value known only after `pulumi up`, as `pulumi preview` shows an unknown output. */
export const UNKNOWN_TEXT = "output<unknown>";

const FLAGS = { values: ["stack", "quotas"], booleans: ["quiet", "json"], aliases: { "-s": "stack", "-q": "quiet" } };

/** A value for the text plan: JSON, with every unknown shown as output<unknown>. */
export function showValue(value: unknown): string {
    if (value === UNKNOWN) return UNKNOWN_TEXT;
    return JSON.stringify(value, (_k, v) => (v === UNKNOWN ? UNKNOWN_TEXT : v)).replace(new RegExp(`"${UNKNOWN_TEXT}"`, "g"), UNKNOWN_TEXT);
}

/** What the acceptance check says of the plan: the refusals, or the count of constraints that hold. */
function acceptanceText(run: ProgramRun, planned: readonly PlannedResource[], ledger: Ledger): string[] {
    const unknown = unknownDocuments(planned).length;
    const lines = ledger.refusals.length > 0
        ? [`AWS would refuse ${ledger.refusals.length} input(s) of this plan:`, ...ledger.refusals.map((r) => `  ${refusalLine(r)}`)]
        : [`AWS acceptance: ${ledger.total} constraints checked, none refused:`];
    lines.push(...countsBySource(ledger));
    if (unknown > 0) {
        lines.push(`  ${unknown} policy documents name ARNs AWS assigns, so they are unknown here: \`npm run validate -- --stack ${run.stack}\` checks them with example ARNs, and the policy pack checks them during \`pulumi up\`.`);
    }
    return lines;
}

function planText(run: ProgramRun, ms: number, quiet: boolean, planned: readonly PlannedResource[], ledger: Ledger, quotaLines: readonly string[]): string[] {
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
    lines.push("", `  ${run.resources.length + 1} to create (including the stack), evaluated in ${ms.toFixed(0)} ms`, "", ...acceptanceText(run, planned, ledger), "", ...quotaLines, "", "Outputs:");
    for (const [key, value] of Object.entries(run.outputs)) lines.push(`  ${key}: ${showValue(value)}`);
    return lines;
}

export const SECRET_TEXT = "[secret]";

/** The plan for other tools: every resource with its inputs (unknowns as Pulumi's sentinel), and the outputs. */
export function planJson(run: ProgramRun, ledger?: Ledger): Record<string, unknown> {
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
            propertyDependencies: r.propertyDependencies,
            // As `pulumi preview --json` shows them: a secret input's value never leaves the program.
            inputs: Object.fromEntries(Object.entries(r.inputs).map(([k, v]) => [k, r.secretInputs.includes(k) ? SECRET_TEXT : v])),
        })),
        outputs: run.outputs,
        ...(ledger ? { acceptance: { checked: Object.fromEntries(ledger.counts), refusals: ledger.refusals } } : {}),
    };
}

async function main(): Promise<number> {
    const flags = parseFlags(process.argv.slice(2), FLAGS);
    const stack = flags.values.stack ?? "dev";
    const account = accountQuotasFromFlag(flags.values.quotas);
    const started = process.hrtime.bigint();
    try {
        const run = await previewProgram(stack);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const planned = plannedFromRun(run);
        const ledger = await checkPlan(planned);
        const quotas = quotaSection(run.resources.filter((r) => r.custom), { stack, region: run.region, account });
        if (flags.booleans.has("json")) {
            console.log(JSON.stringify(planJson(run, ledger), null, 2));
            for (const refusal of ledger.refusals) console.error(`plan: AWS would refuse ${refusalLine(refusal)}`);
            for (const q of quotas.short) console.error(`plan: quota ${q.quota.id} (${q.quota.name}) is ${q.limit} (${q.limitFrom}), the plan needs ${q.need} ${q.quota.unit}`);
        } else {
            for (const line of planText(run, ms, flags.booleans.has("quiet"), planned, ledger, quotas.lines)) console.log(line);
        }
        return ledger.refusals.length > 0 ? 1 : 0;
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
