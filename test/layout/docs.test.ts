/**
 * The program's reference documentation is its doc comments: every component class, every field of a
 * component's args, and every stack output says what it is, so `pulumi` users and editors show it.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../delivery/sources";

/** Lines of `text` that declare `pattern` without a doc comment (`/** … *\/`) right above them. */
export function undocumented(text: string, pattern: RegExp): string[] {
    const lines = text.split("\n");
    return lines.flatMap((line, i) => {
        if (!pattern.test(line)) return [];
        let j = i - 1;
        while (j >= 0 && /^\s*\/\/|^\s*$/.test(lines[j])) j--;
        return j >= 0 && /\*\/\s*$/.test(lines[j]) ? [] : [`${i + 1}: ${line.trim()}`];
    });
}

/** The bodies of `export interface …Args { … }` blocks, with their first line number. */
function argsFields(text: string): string[] {
    const found: string[] = [];
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
        if (!/^export interface \w+Args\b/.test(lines[i])) continue;
        const body: string[] = [];
        for (let j = i + 1; j < lines.length && !/^}/.test(lines[j]); j++) body.push(lines[j]);
        found.push(...undocumented(body.join("\n"), /^\s{4}readonly \w+/).map((l) => `${lines[i].replace(/ \{$/, "")} line ${Number(l.split(":")[0]) + i + 1}:${l.split(":").slice(1).join(":")}`));
    }
    return found;
}

const componentFiles = fs.readdirSync(path.join(PROJECT_ROOT, "components")).filter((f) => f.endsWith(".ts")).map((f) => `components/${f}`);
const read = (file: string) => fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8");

describe("doc comments", () => {
    test("every component class", () => {
        const missing = componentFiles.flatMap((f) => undocumented(read(f), /^export class \w+ extends pulumi\.ComponentResource/).map((l) => `${f}:${l}`));
        expect(missing).toEqual([]);
        expect(componentFiles.length).toBeGreaterThan(10);
    });

    test("every field of every component's args", () => {
        const missing = componentFiles.flatMap((f) => argsFields(read(f)).map((l) => `${f}: ${l}`));
        expect(missing).toEqual([]);
    });

    test("every stack output (the properties of the object the program returns)", () => {
        const text = read("index.ts");
        const returned = text.slice(text.indexOf("    return {"), text.lastIndexOf("    };"));
        expect(returned.match(/^\s{8}\w+: /gm)?.length ?? 0).toBeGreaterThan(10);
        expect(undocumented(returned, /^\s{8}\w+: /)).toEqual([]);
    });

    test("the check finds a missing comment", () => {
        expect(undocumented("/** yes */\nexport const a = 1;\nexport const b = 2;\n", /^export const/)).toEqual(["3: export const b = 2;"]);
        expect(argsFields("export interface XArgs {\n    /** ok */\n    readonly a: string;\n    readonly b: string;\n}\n")).toEqual(["export interface XArgs line 4: readonly b: string;"]);
    });
});
