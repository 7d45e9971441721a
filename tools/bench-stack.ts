/** What the one-machine benchmarks share: running `npm run local` on a stack directory, and printing a table. */
import { spawn, spawnSync } from "child_process";
import * as path from "path";
import { PROJECT_ROOT } from "../delivery/sources";

/** `npm run local -- ARGS --dir DIR`, as node's arguments. */
const cliArgs = (dir: string, args: string[]) => ["--import", "tsx", path.join(PROJECT_ROOT, "local", "cli.ts"), ...args, "--dir", dir];

export function local(dir: string, args: string[]): { status: number; out: string } {
    const r = spawnSync(process.execPath, cliArgs(dir, args), { cwd: PROJECT_ROOT, encoding: "utf8" });
    return { status: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

/** local(), without blocking this process (a load loop keeps running meanwhile). */
export function localAsync(dir: string, args: string[]): Promise<{ status: number; out: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, cliArgs(dir, args), { cwd: PROJECT_ROOT });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        child.on("close", (code) => resolve({ status: code ?? 1, out }));
    });
}

/** A Markdown table, columns padded to their widest cell. */
export function table(head: string[], rows: string[][]): string {
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
    return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}
