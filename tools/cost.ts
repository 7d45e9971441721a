/**
 * `npm run cost -- [--stack NAME] [--json] [--usage FILE]`: a monthly estimate of what the stack costs on
 * AWS, before anything exists: the offline plan's resources priced at tools/cost/prices.json's on-demand
 * rates, traffic from the usage file (tools/cost/usage.yml by default). Exits 2 on a bad flag, stack or
 * usage file.
 */
import { parseFlags, runTool } from "./cli-args";
import { estimateCost } from "./cost/estimate";
import { loadPrices } from "./cost/prices";
import { costText } from "./cost/report";
import { DEFAULT_USAGE_FILE, loadUsageFile, usageFor, UsageFileError } from "./cost/usage";
import { previewForTool } from "./offline/preview";

const USAGE = "usage: npm run cost -- [--stack NAME] [--json] [--usage FILE]   (NAME defaults to dev; FILE defaults to tools/cost/usage.yml)";

async function main(): Promise<number> {
    const flags = parseFlags(process.argv.slice(2), { values: ["stack", "usage"], booleans: ["json"], aliases: { "-s": "stack" } });
    const stack = flags.values.stack ?? "dev";
    try {
        // The usage file is checked before the program runs: a typo costs no evaluation.
        const usageFile = loadUsageFile(flags.values.usage ?? DEFAULT_USAGE_FILE);
        const run = await previewForTool("cost", stack);
        if (!run) return 2;
        const estimate = estimateCost({ stack, region: run.region, resources: run.resources }, loadPrices(), { file: usageFile.file, ...usageFor(usageFile, stack) });
        if (flags.booleans.has("json")) console.log(JSON.stringify(estimate, null, 2));
        else for (const line of costText(estimate)) console.log(line);
        return 0;
    } catch (e) {
        if (!(e instanceof UsageFileError)) throw e;
        console.error(`cost: ${e.message}`);
        return 2;
    }
}

if (require.main === module) runTool("cost", USAGE, main);
