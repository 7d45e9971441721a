/**
 * The quota check as `npm run plan` and `npm run validate` run it: `--quotas FILE` read and checked (a bad file
 * is a UsageError: exit 2), and the report of a plan's resources against the file's values or AWS's defaults.
 */
import * as fs from "fs";
import { UsageError } from "../cli-args";
import { PlanResource, stackNeeds } from "./needs";
import { AccountQuotas, checkQuotas, parseQuotasFile, QuotaCheck, quotaNeeds, quotaReportLines } from "./report";

/** The account's values from `--quotas FILE`, or undefined without the flag. */
export function accountQuotasFromFlag(file: string | undefined): AccountQuotas | undefined {
    if (file === undefined) return undefined;
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
        return parseQuotasFile(text, file);
    } catch (e) {
        throw new UsageError((e as Error).message);
    }
}

/** The report's lines and the quotas too low for the plan. */
export function quotaSection(resources: readonly PlanResource[], options: { stack?: string; region?: string; account?: AccountQuotas; strictFlag?: string }): { lines: string[]; short: QuotaCheck[] } {
    const checks = checkQuotas(quotaNeeds(stackNeeds(resources, { stack: options.stack })), options.account);
    return { lines: quotaReportLines(checks, options), short: checks.filter((c) => c.raiseTo !== undefined) };
}
