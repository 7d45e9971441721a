/**
 * `npm run diagram -- [--stack NAME] [--format svg|png|dot|mermaid] [--out FILE]`: the architecture the
 * program declares, drawn from the offline plan's resource graph before anything exists. svg and png are
 * rendered by Graphviz's `dot` (Debian's graphviz package); dot and mermaid are text. Written to stdout, or
 * to FILE (whole or not at all). Exits 2 on a bad flag or stack.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseFlags, runTool, UsageError } from "./cli-args";
import { architecture } from "./diagram/architecture";
import { toDot, toMermaid } from "./diagram/render";
import { previewForTool } from "./offline/preview";

const USAGE = "usage: npm run diagram -- [--stack NAME] [--format svg|png|dot|mermaid] [--out FILE]   (NAME defaults to dev, the format to svg)";
const FORMATS = ["svg", "png", "dot", "mermaid"] as const;
type Format = (typeof FORMATS)[number];

/** Renders DOT with Graphviz; a missing `dot` is named with the package that has it. */
export function renderDot(dot: string, format: "svg" | "png"): Buffer {
    const result = spawnSync("dot", [`-T${format}`], { input: dot, maxBuffer: 64 * 1024 * 1024 });
    if (result.error) {
        const missing = (result.error as NodeJS.ErrnoException).code === "ENOENT";
        throw new Error(missing ? "Graphviz's `dot` is not installed (Debian: apt-get install graphviz)" : `dot failed: ${result.error.message}`);
    }
    if (result.status !== 0) throw new Error(`dot failed (exit ${result.status}): ${result.stderr.toString().trim()}`);
    return result.stdout;
}

async function main(): Promise<number> {
    const flags = parseFlags(process.argv.slice(2), { values: ["stack", "format", "out"], booleans: [], aliases: { "-s": "stack", "-f": "format", "-o": "out" } });
    const stack = flags.values.stack ?? "dev";
    const format = (flags.values.format ?? "svg") as Format;
    if (!FORMATS.includes(format)) throw new UsageError(`--format ${JSON.stringify(format)} is not one of ${FORMATS.join(", ")}`);
    const out = flags.values.out;
    if (out && !fs.existsSync(path.dirname(path.resolve(out)))) throw new UsageError(`--out ${out}: the directory ${path.dirname(path.resolve(out))} does not exist`);
    const run = await previewForTool("diagram", stack);
    if (!run) return 2;
    const arch = architecture(stack, run.resources);
    const body: Buffer | string = format === "mermaid" ? toMermaid(arch) : format === "dot" ? toDot(arch) : renderDot(toDot(arch), format);
    if (out) {
        // Whole or not at all: a failed render leaves the file that was there.
        const partial = `${out}.${process.pid}.partial`;
        fs.writeFileSync(partial, body);
        fs.renameSync(partial, out);
        console.error(`diagram: wrote ${out} (${format}, ${arch.hosts.length} hosts, ${arch.flows.length} flows)`);
    } else {
        process.stdout.write(body);
    }
    return 0;
}

if (require.main === module) runTool("diagram", USAGE, main);
