/** The text of `npm run cost`: the estimate as a table by tier and component, then what it leaves out. */
import * as path from "path";
import { Estimate } from "./estimate";

export function money(n: number): string {
    return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function rate(n: number): string {
    return `$${Number(n.toPrecision(4)).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 6 })}`;
}

function quantity(n: number): string {
    return n >= 1000 ? Math.round(n).toLocaleString("en-US") : String(Number(n.toPrecision(4)));
}

export function costText(e: Estimate): string[] {
    const relative = path.relative(process.cwd(), e.usage.file);
    const file = relative.startsWith("..") || path.isAbsolute(relative) ? e.usage.file : relative;
    const out = [
        `Monthly cost estimate of stack "${e.stack}" (region ${e.region}, ${e.currency}, ${e.hoursPerMonth} hours a month)`,
        `Prices: on-demand list prices in tools/cost/prices.json, transcribed ${e.pricesTranscribed}; no free tier, Savings Plan or reservation subtracted.`,
        `Usage: ${e.usage.section ? `${file}, section "${e.usage.section}"` : `${file} has no section for this stack and no default: every usage figure is unknown`}.`,
        "",
    ];
    const order = new Map(e.byTier.map((t, i) => [t.tier, i]));
    const lines = [...e.lines].sort((a, b) => (order.get(a.tier)! - order.get(b.tier)!) || b.monthly - a.monthly || a.component.localeCompare(b.component));
    const rows = lines.map((l) => [l.tier, l.component + (l.basis === "usage" ? " *" : ""), String(l.resources.length), `${quantity(l.quantity)} ${l.unit}`, rate(l.unitPrice), money(l.monthly)]);
    const header = ["tier", "component", "resources", "quantity", "unit price", "monthly"];
    const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
    const right = [false, false, true, true, true, true];
    const fmt = (r: string[]) => r.map((c, k) => (right[k] ? c.padStart(widths[k]) : c.padEnd(widths[k]))).join("  ").trimEnd();
    out.push(fmt(header), widths.map((w) => "-".repeat(w)).join("  "));
    let previous = "";
    for (const [k, r] of rows.entries()) {
        if (previous && previous !== lines[k].tier) out.push("");
        previous = lines[k].tier;
        out.push(fmt(r));
    }
    out.push("", "* from a usage figure");
    for (const l of lines.filter((x) => x.note)) out.push(`  ${l.tier}, ${l.component}: ${l.note}`);
    out.push("", "By tier:");
    const tw = Math.max(...e.byTier.map((t) => t.tier.length));
    for (const t of e.byTier) out.push(`  ${t.tier.padEnd(tw)}  ${money(t.monthly).padStart(12)}`);
    out.push("", `Total of the priced lines: ${money(e.total)} a month`);
    if (e.unknowns.length > 0) {
        out.push("", `Unknown, not in the total (${e.unknowns.length}): give the figure, or wait for \`pulumi up\``);
        for (const x of e.unknowns) out.push(`  - ${x.tier}: ${x.component} (${names(x.resources)}) needs ${x.needs}`);
    }
    if (e.unpriced.length > 0) {
        out.push("", `Unpriced, not in the total (${e.unpriced.length}):`);
        for (const x of e.unpriced) out.push(`  - ${x.tier}: ${x.type} (${names(x.resources)}): ${x.reason}`);
    }
    const c = e.comparison2011;
    if (c.rows.length > 0) {
        out.push("", "The same fleet in 2011 (EC2 on-demand, compute only; Instagram ran 25 app servers and 24 database hosts):");
        for (const r of c.rows) {
            out.push(`  ${r.role.padEnd(5)}  ${String(r.hosts).padStart(3)} x ${r.then.instanceType} at ${rate(r.then.perHour)}/h = ${money(r.then.monthly).padStart(11)}   today ${r.hosts} x ${r.now.instanceTypes.join(", ")}: ${money(r.now.monthly)}`);
        }
        out.push(`  total                              ${money(c.thenMonthly).padStart(11)}   today ${money(c.nowMonthly)} (${((100 * c.nowMonthly) / c.thenMonthly).toFixed(0)} % of 2011's)`);
    }
    return out;
}

function names(resources: readonly string[]): string {
    return resources.length <= 3 ? resources.join(", ") : `${resources.slice(0, 2).join(", ")} and ${resources.length - 2} more`;
}
