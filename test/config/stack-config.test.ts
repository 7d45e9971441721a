import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, test } from "vitest";
import { CONFIG_KEYS } from "../../core/config";
import { loadStackConfig, readProjectConfig } from "../../local/project-files";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stack-config-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function project(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(tmp, "p-"));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
}

const PULUMI_YAML = `name: demo
runtime: nodejs
config:
  aws:region:
    value: eu-west-1
  size:
    type: integer
    default: 2
  names:
    type: array
    items: { type: string }
    default: []
  flag:
    type: boolean
    default: true
  domain:
    type: string
`;

describe("config merge, as the Pulumi CLI does it", () => {
    test("project defaults, then project values, then the stack file; values reach the program as strings", () => {
        const dir = project({ "Pulumi.yaml": PULUMI_YAML, "Pulumi.a.yaml": "config:\n  demo:size: 5\n  demo:names: [x, y]\n" });
        expect(loadStackConfig("a", {}, dir)).toEqual({
            "aws:region": "eu-west-1",
            "demo:size": "5",
            "demo:names": '["x","y"]',
            "demo:flag": "true",
        });
    });

    test("a stack value of the wrong type is refused, as the CLI refuses it", () => {
        const dir = project({ "Pulumi.yaml": PULUMI_YAML, "Pulumi.b.yaml": "config:\n  demo:size: big\n  demo:flag: maybe\n" });
        expect(() => loadStackConfig("b", {}, dir)).toThrow(/demo:size = "big": Pulumi.yaml declares it as an integer[\s\S]*demo:flag = "maybe": Pulumi.yaml declares it as a boolean/);
    });

    test("encrypted values cannot be read offline, and say so", () => {
        const dir = project({ "Pulumi.yaml": PULUMI_YAML, "Pulumi.c.yaml": "config:\n  demo:domain:\n    secure: AAABAD==\n" });
        expect(() => loadStackConfig("c", {}, dir)).toThrow(/demo:domain is an encrypted secret; the offline plan cannot decrypt it/);
    });

    test("an unknown stack lists the stacks that exist; a bad stack name is refused", () => {
        const dir = project({ "Pulumi.yaml": PULUMI_YAML, "Pulumi.a.yaml": "config: {}\n" });
        expect(() => loadStackConfig("zzz", {}, dir)).toThrow(/no stack file Pulumi.zzz.yaml; the stacks here are: a/);
        expect(() => loadStackConfig("../etc/passwd", {}, dir)).toThrow(/stack name/);
    });

    test("malformed YAML is reported with the file's name", () => {
        const dir = project({ "Pulumi.yaml": PULUMI_YAML, "Pulumi.d.yaml": "config: [unclosed\n" });
        expect(() => loadStackConfig("d", {}, dir)).toThrow(/Pulumi.d.yaml:/);
    });

    test("this project's Pulumi.yaml declares every key the program reads, with a type and a description", () => {
        const { project: name, declarations } = readProjectConfig();
        expect(name).toBe("instagram");
        for (const { key } of CONFIG_KEYS) {
            const decl = declarations.get(key);
            // A provider's optional key (aws:profile) has no project-wide value to declare.
            if (key === "aws:profile") continue;
            expect(decl, `${key} is not declared in Pulumi.yaml`).toBeDefined();
            if (key.startsWith("instagram:")) {
                expect(decl!.type, `${key} has no type`).toBeDefined();
                expect(decl!.description?.length, `${key} has no description`).toBeGreaterThan(20);
            }
        }
        const read = new Set(CONFIG_KEYS.map((k) => k.key));
        for (const key of declarations.keys()) expect(read.has(key), `${key} is declared but never read`).toBe(true);
    });
});
