/**
 * `npm run validate -- [--stack NAME | --plan FILE] [--coverage] [--quotas FILE] [--strict-quotas]`: would AWS accept every input? The AWS
 * acceptance check (policies/rules/acceptance) over a stack's offline plan, or over a plan file: one
 * written by `npm run plan -- --json`, or the output of `pulumi preview --json` of any Pulumi AWS program.
 *
 * One line per refusal (resource, property path, value, rule, source); exit 1 when any input is refused,
 * 0 with the number of constraints checked by source when none, 2 on a bad flag or an unreadable file.
 * With --stack, IAM and resource policies whose documents the plan cannot know (they name ARNs AWS assigns)
 * are also checked as rendered with example IDs and ARNs (tools/offline/example-mocks.ts), and said so.
 * Then the quotas the plan needs (tools/quotas/) against AWS's defaults or the account's values in --quotas FILE:
 * a quota too low is account state AWS raises on request, not a refusal, so it prints what to raise and exits 0,
 * or 3 with --strict-quotas (when nothing is refused). A bad quotas file exits 2.
 */
import * as fs from "fs";
import { ConfigError } from "../core/config";
import { checkPlan } from "../policies/rules/acceptance/check";
import { Coverage } from "../policies/rules/acceptance/api-model";
import { PlannedResource, refusalLine } from "../policies/rules/acceptance/types";
import { parseFlags, runTool, UsageError } from "./cli-args";
import { checkDocumentsWithExampleIds, countsBySource, plannedFromRun } from "./offline/acceptance";
import { previewProgram } from "./offline/preview";
import { accountQuotasFromFlag, quotaSection } from "./quotas/cli";
import { PlanResource } from "./quotas/needs";

const USAGE = "usage: npm run validate -- [--stack NAME | --plan FILE] [--coverage] [--quotas FILE] [--strict-quotas]   (NAME defaults to dev; FILE: `npm run plan -- --json` or `pulumi preview --json` output; --quotas: JSON or YAML, quota code -> your account's value; exit 1 if AWS would refuse an input, 3 with --strict-quotas if a quota is too low, else 0)";
const FLAGS = { values: ["stack", "plan", "quotas"], booleans: ["coverage", "strict-quotas"], aliases: { "-s": "stack" } };

const OPS_AWS_SEES = new Set(["create", "update", "replace", "create-replacement"]);

/**
 * The resources of a plan file: `npm run plan -- --json` ({resources: [{type, name, urn, inputs}]}) or
 * `pulumi preview --json` ({steps: [{op, urn, newState: {type, inputs}}]}, only the steps AWS would see).
 */
export function plannedFromFile(text: string, file: string): PlannedResource[] {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (e) {
        throw new UsageError(`${file} is not JSON (${(e as Error).message})`);
    }
    const d = doc as { resources?: unknown; steps?: unknown };
    if (Array.isArray(d.steps)) {
        return (d.steps as { op?: string; urn?: string; newState?: FileResource }[])
            .filter((s) => OPS_AWS_SEES.has(s.op ?? "") && s.newState?.type && s.newState.custom !== false)
            .map((s) => planned({ ...s.newState!, urn: s.newState!.urn ?? s.urn }));
    }
    if (Array.isArray(d.resources)) {
        return (d.resources as FileResource[]).filter((r) => typeof r.type === "string" && r.custom !== false && typeof r.inputs === "object").map(planned);
    }
    throw new UsageError(`${file} is neither \`npm run plan -- --json\` output (resources[]) nor \`pulumi preview --json\` output (steps[])`);
}

/** A resource as both files give it; the links (property dependencies, provider) let the cross-resource rules follow references. */
interface FileResource {
    type?: string;
    name?: string;
    urn?: string;
    custom?: boolean;
    inputs?: Record<string, unknown>;
    propertyDependencies?: Record<string, string[]>;
    provider?: string;
}

function planned(r: FileResource): PlannedResource {
    return { type: r.type!, name: r.name ?? r.urn?.split("::").pop() ?? "", urn: r.urn, inputs: r.inputs ?? {}, propertyDependencies: r.propertyDependencies, provider: r.provider ?? undefined };
}

async function main(): Promise<number> {
    const flags = parseFlags(process.argv.slice(2), FLAGS);
    if (flags.values.stack && flags.values.plan) throw new UsageError("give --stack or --plan, not both");
    const coverage = flags.booleans.has("coverage") ? new Coverage() : undefined;
    const account = accountQuotasFromFlag(flags.values.quotas);
    let planned: PlannedResource[];
    let quotaResources: readonly PlanResource[];
    let region: string | undefined;
    let subject: string;
    let examples: Awaited<ReturnType<typeof checkDocumentsWithExampleIds>>;
    if (flags.values.plan) {
        const file = flags.values.plan;
        let text: string;
        try {
            text = fs.readFileSync(file, "utf8");
        } catch (e) {
            throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        planned = plannedFromFile(text, file);
        quotaResources = planned;
        subject = `plan file ${file}`;
    } else {
        const stack = flags.values.stack ?? "dev";
        try {
            const run = await previewProgram(stack);
            planned = plannedFromRun(run);
            // With their dependencies: which hosts wait for a previous rollout batch.
            quotaResources = run.resources.filter((r) => r.custom);
            region = run.region;
            examples = await checkDocumentsWithExampleIds(stack, planned);
        } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            console.error(`validate: stack "${stack}" cannot be planned:`);
            for (const p of e.problems) console.error(`  - ${p}`);
            return 2;
        }
        subject = `the offline plan of stack "${stack}"`;
    }
    const ledger = await checkPlan(planned, coverage);
    const exampleLedger = examples?.ledger;
    const refusals = [...ledger.refusals, ...(exampleLedger?.refusals ?? [])];
    for (const refusal of refusals) console.log(refusalLine(refusal));
    if (refusals.length > 0) console.log("");
    console.log(`AWS acceptance check of ${subject}: ${planned.length} resources, ${ledger.total} constraints checked, ${refusals.length} refused`);
    for (const line of countsBySource(ledger)) console.log(line);
    if (exampleLedger) {
        console.log(`  and ${exampleLedger.total} more on ${examples!.documents} policy documents the plan cannot know (they name ARNs AWS assigns), rendered with example IDs and ARNs (account 123456789012):`);
        for (const line of countsBySource(exampleLedger)) console.log(line);
    }
    if (coverage) {
        console.log("", "Inputs no API-model constraint reached (documentation rules may still check them):");
        for (const [type, paths] of [...coverage.unchecked].sort(([a], [b]) => a.localeCompare(b))) console.log(`  ${type}: ${[...paths].sort().join("; ")}`);
    }
    const quotas = quotaSection(quotaResources, { stack: flags.values.stack, region, account, strictFlag: "--strict-quotas" });
    for (const line of ["", ...quotas.lines]) console.log(line);
    if (refusals.length > 0) return 1;
    return quotas.short.length > 0 && flags.booleans.has("strict-quotas") ? 3 : 0;
}

if (require.main === module) runTool("validate", USAGE, main);
