/**
 * The import directions of DESIGN.md, read from every TypeScript file in the tree: a folder imports only
 * the folders it may, core/ is pure (nothing of ours outside it, no @pulumi/*, no fs), and nothing outside
 * test/ imports test/.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../delivery/sources";

/** Top-level folder → the folders of ours it may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
    core: [],
    "cloud-init": ["core"],
    components: ["core", "cloud-init", "delivery"],
    app: ["core"],
    // The bundle is built from app/ and ships app/deploy's unit (DESIGN.md names no direction for it).
    delivery: ["core", "app"],
    local: ["core", "cloud-init", "delivery"],
    policies: [],
    tools: ["core", "cloud-init", "components", "app", "delivery", "local", "policies", "index.ts"],
    "index.ts": ["core", "components", "delivery"],
    test: ["*"],
};
/** Modules core/ may not use: it runs anywhere, touches nothing. */
const IMPURE = [/^@pulumi\//, /^(node:)?fs(\/|$)/, /^(node:)?child_process$/];

interface Import { readonly file: string; readonly line: number; readonly spec: string }

function sourceFiles(dir: string): string[] {
    return fs.readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((e) => {
        const rel = path.posix.join(dir, e.name);
        if (e.isDirectory()) return e.name === "node_modules" || e.name.startsWith(".") || e.name === "dist" ? [] : sourceFiles(rel);
        return /\.(ts|mts|js)$/.test(e.name) && !e.name.endsWith(".d.ts") ? [rel] : [];
    });
}

/** Static imports, re-exports, dynamic import() and require() of string literals. */
export function importsOf(file: string, text: string): Import[] {
    const found: Import[] = [];
    const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;
    for (const m of text.matchAll(pattern)) found.push({ file, line: text.slice(0, m.index).split("\n").length, spec: m[1] });
    return found;
}

/** The top-level folder (or root file) of a path relative to the project. */
function areaOf(rel: string): string {
    if (rel.includes("/")) return rel.split("/")[0];
    return fs.existsSync(path.join(PROJECT_ROOT, `${rel}.ts`)) ? `${rel}.ts` : rel;
}

const ROOTS = Object.keys(ALLOWED).filter((a) => a !== "index.ts");
const files = [...ROOTS.flatMap((dir) => (fs.existsSync(path.join(PROJECT_ROOT, dir)) ? sourceFiles(dir) : [])), "index.ts"];
const imports = files.flatMap((file) => importsOf(file, fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8")));

function target(imp: Import): string | undefined {
    if (!imp.spec.startsWith(".")) return undefined;
    return path.posix.relative(PROJECT_ROOT, path.resolve(PROJECT_ROOT, path.dirname(imp.file), imp.spec));
}

describe("import directions (DESIGN.md)", () => {
    test("the scan sees the tree: every area has files and imports", () => {
        for (const area of ["core", "cloud-init", "components", "app", "delivery", "local", "policies", "tools", "test"]) {
            expect(files.some((f) => areaOf(f) === area), area).toBe(true);
        }
        expect(imports.length).toBeGreaterThan(300);
    });

    test("each folder imports only the folders it may", () => {
        const wrong: string[] = [];
        for (const imp of imports) {
            const to = target(imp);
            if (to === undefined) continue;
            const from = areaOf(imp.file);
            const toArea = areaOf(to);
            if (toArea.startsWith("..")) wrong.push(`${imp.file}:${imp.line} imports ${imp.spec}, outside the project`);
            else if (toArea !== from && !ALLOWED[from].includes("*") && !ALLOWED[from].includes(toArea)) wrong.push(`${imp.file}:${imp.line} (${from}/) imports ${to} (${toArea}/)`);
        }
        expect(wrong).toEqual([]);
    });

    test("nothing outside test/ imports test/", () => {
        const wrong = imports.filter((imp) => areaOf(imp.file) !== "test" && areaOf(target(imp) ?? "") === "test");
        expect(wrong.map((i) => `${i.file}:${i.line} ${i.spec}`)).toEqual([]);
    });

    test("the AGPL packages (@cloud-copilot/iam-simulate and what it pulls in) are imported by tests only", () => {
        const agpl = /^@cloud-copilot\/iam-(simulate|policy|utils)(\/|$)/;
        const wrong = imports.filter((imp) => areaOf(imp.file) !== "test" && agpl.test(imp.spec));
        expect(wrong.map((i) => `${i.file}:${i.line} ${i.spec}`)).toEqual([]);
        expect(imports.some((imp) => areaOf(imp.file) === "test" && agpl.test(imp.spec))).toBe(true);
    });

    test("core/ is pure: no @pulumi/*, no fs, no child processes", () => {
        const wrong = imports.filter((imp) => areaOf(imp.file) === "core" && IMPURE.some((re) => re.test(imp.spec)));
        expect(wrong.map((i) => `${i.file}:${i.line} ${i.spec}`)).toEqual([]);
    });

    test("the scanner catches what it should (a forbidden import in made-up files)", () => {
        const sample = `import { x } from "../components/stack";\nexport { y } from "./y";\nconst z = require("fs");\nconst w = await import("../test/harness/queries");\nimport "./side-effect";\n`;
        expect(importsOf("core/sample.ts", sample).map((i) => i.spec)).toEqual(["../components/stack", "./y", "fs", "../test/harness/queries", "./side-effect"]);
    });
});
