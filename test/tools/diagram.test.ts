/**
 * `npm run diagram`: the architecture read from the offline plan's graph (a node per host, an edge per
 * allowed flow), rendered by the real Graphviz, and the CLI's refusals. The README's diagrams are this
 * command's output, so they are checked against it.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { beforeAll, describe, expect, test } from "vitest";
import { architecture, Architecture } from "../../tools/diagram/architecture";
import { toDot, toMermaid } from "../../tools/diagram/render";
import { previewProgram } from "../../tools/offline/preview";
import { ProgramRun } from "../../tools/offline/runtime";

const ROOT = path.resolve(__dirname, "../..");
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
let dev: ProgramRun;
let devArch: Architecture;
let big: ProgramRun;
beforeAll(async () => {
    dev = await previewProgram("dev");
    devArch = architecture("dev", dev.resources);
    big = await previewProgram("instagram-2011");
}, 120_000);

const edgesOf = (dot: string) => dot.split("\n").filter((l) => l.includes(" -> ") && !l.includes("style=invis"));

describe("the architecture from the plan's graph", () => {
    test("a node per host, inside its tier's box and its AZ's", () => {
        for (const run of [dev, big]) {
            const arch = architecture(run.stack, run.resources);
            const dot = toDot(arch);
            const instances = run.ofType("aws:ec2/instance:Instance");
            expect(arch.hosts.map((h) => h.name).sort()).toEqual(instances.map((i) => i.name).sort());
            for (const i of instances) expect(dot).toContain(`"${i.name}" [label="${i.name}\\n${i.inputs.instanceType}"];`);
        }
        const arch = architecture("instagram-2011", big.resources);
        // 12 shards: primaries and standbys across the three AZs, never a pair in one.
        const az = (name: string) => arch.hosts.find((h) => h.name === name)!.az;
        for (let s = 0; s < 12; s++) expect(az(`shard-${s}-primary`)).not.toBe(az(`shard-${s}-standby`));
        expect(new Set(arch.hosts.filter((h) => h.tier === "app").map((h) => h.az))).toEqual(new Set([1, 2, 3]));
        expect(toDot(arch)).toContain('subgraph "cluster_app" {\n    label="app: 25 x c7i.2xlarge";');
    });

    test("an edge per ingress rule between tiers that have hosts, labelled with its port; the rest are named as omitted", () => {
        const dot = toDot(devArch);
        const rules = dev.ofType(INGRESS);
        const allowed = devArch.flows.filter((f) => f.kind === "allowed");
        expect(allowed.length + devArch.omittedRules.length).toBe(rules.length);
        // dev has no worker hosts: only the worker tier's rules are left out.
        expect([...devArch.omittedRules].sort()).toEqual(rules.filter((r) => r.name.includes("worker")).map((r) => r.name).sort());
        expect(edgesOf(dot).filter((l) => !/style=(dashed|dotted)/.test(l))).toHaveLength(allowed.length);
        expect(dot).toContain('"internet" -> "lb" [label="tcp/443"];');
        expect(dot).toContain('"lb" -> "tier:app" [label="tcp/80", lhead="cluster_app"];');
        expect(dot).toContain('"tier:app" -> "tier:shard" [label="tcp/6432", ltail="cluster_app", lhead="cluster_shard"];');
        expect(dot).toContain('"tier:monitoring" -> "tier:redis" [label="tcp/4949", ltail="cluster_monitoring", lhead="cluster_redis"];');
        // Nothing reaches a data tier from the internet or the load balancer.
        for (const tier of ["shard", "redis", "memcached", "gearman", "search"]) expect(dot).not.toMatch(new RegExp(`"(internet|lb)" -> "tier:${tier}"`));
        const bigArch = architecture("instagram-2011", big.resources);
        expect(bigArch.flows.filter((f) => f.kind === "allowed")).toHaveLength(big.ofType(INGRESS).length);
        expect(bigArch.omittedRules).toEqual([]);
    });

    test("the edge and the CDN: DNS aliases, the CDN's bucket origin, the logs, the buckets the hosts are given, the way out", () => {
        const dot = toDot(devArch);
        expect(dot).toContain('"dns" -> "lb" [label="dev.example.com (alias)", style=dotted];');
        expect(dot).toContain('"dns" -> "cdn" [label="media.dev.example.com (alias)", style=dotted];');
        expect(dot).toContain('"cdn" -> "bucket:media" [label="origin (OAC)", style=dotted];');
        expect(dot).toContain('"lb" -> "bucket:edge-logs" [label="access logs", style=dotted];');
        expect(dot).toContain('"tier:app" -> "bucket:media" [label="S3 API (instance role)", ltail="cluster_app", style=dotted];');
        expect(dot).toContain('"tier:shard" -> "bucket:backups"');
        expect(dot).toContain('"tier:shard" -> "nat" [label="out 80, 443", ltail="cluster_shard", style=dashed, color=gray50];');
        expect(dot).not.toMatch(/"tier:app" -> "bucket:backups"/);
    });

    test("Graphviz renders it: every host and every flow is in the SVG", () => {
        for (const arch of [devArch, architecture("instagram-2011", big.resources)]) {
            const dot = toDot(arch);
            const svg = spawnSync("dot", ["-Tsvg"], { input: dot, encoding: "utf8" });
            expect(svg.status, svg.stderr).toBe(0);
            expect(svg.stderr).toBe("");
            expect(svg.stdout).toMatch(/^<\?xml/);
            // Graphviz writes a node's name as its title, with "-" as an entity.
            for (const h of arch.hosts) expect(svg.stdout).toContain(`<title>${h.name.replace(/-/g, "&#45;")}</title>`);
            const drawn = (svg.stdout.match(/<g id="edge\d+" class="edge">/g) ?? []).length;
            // The invisible edges that lay hosts out in rows are not drawn.
            expect(drawn).toBe(arch.flows.length);
        }
    });

    test("Mermaid: a subgraph per tier and AZ, a node per host, labelled edges", () => {
        const text = toMermaid(devArch);
        expect(text.startsWith("flowchart LR\n")).toBe(true);
        expect(text).toContain('  subgraph tier_app["app: 1 x t3.medium"]\n    subgraph tier_app_az1["AZ 1"]\n      host_app_0["app-0 t3.medium"]');
        expect(text).toContain('tier_app -->|"tcp/6432"| tier_shard');
        expect(text).toContain('host_shard_0_primary -->|"tcp/5432"| host_shard_0_primary');
        expect(text.split("\n").filter((l) => /-->|-\.->/.test(l))).toHaveLength(devArch.flows.length);
    });
});

describe("npm run diagram", () => {
    const diagram = (...args: string[]) => spawnSync(path.join(ROOT, "node_modules", ".bin", "tsx"), ["tools/diagram.ts", ...args], { cwd: ROOT, timeout: 90_000 });
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "diagram-test-"));

    test("the README's diagrams are this command's Mermaid output", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        for (const stack of ["dev", "instagram-2011"]) {
            const r = diagram("--stack", stack, "--format", "mermaid");
            expect(r.status, r.stderr.toString()).toBe(0);
            const block = new RegExp(`<!-- diagram: npm run diagram -- --stack ${stack} --format mermaid -->\\n\`\`\`mermaid\\n([\\s\\S]*?)\`\`\``).exec(readme);
            expect(block, `README's ${stack} diagram block`).not.toBeNull();
            expect(block![1], `README's ${stack} diagram is stale: paste the command's output`).toBe(r.stdout.toString());
        }
    }, 90_000);

    test("--out writes an SVG and PNG whole", () => {
        for (const format of ["svg", "png"]) {
            const file = path.join(scratch, `dev.${format}`);
            const r = diagram("--format", format, "--out", file);
            expect(r.status, r.stderr.toString()).toBe(0);
            expect(r.stderr.toString()).toMatch(new RegExp(`diagram: wrote .*dev\\.${format} \\(${format}, 7 hosts, \\d+ flows\\)`));
            const head = fs.readFileSync(file).subarray(0, 8);
            if (format === "png") expect(head.equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
            else expect(head.toString()).toBe("<?xml ve");
        }
        expect(fs.readdirSync(scratch).filter((f) => f.endsWith(".partial"))).toEqual([]);
    }, 90_000);

    test("a bad flag or stack: a clear message and exit 2, nothing written", () => {
        const bad = (args: string[], message: RegExp) => {
            const r = diagram(...args);
            expect(r.status, r.stderr.toString()).toBe(2);
            expect(r.stderr.toString()).toMatch(message);
            expect(r.stdout.toString()).toBe("");
        };
        bad(["--format", "jpeg"], /diagram: --format "jpeg" is not one of svg, png, dot, mermaid\nusage: npm run diagram/);
        bad(["--stack", "nope"], /diagram: stack "nope" cannot be planned:\n {2}- no stack file Pulumi\.nope\.yaml/);
        bad(["--out", path.join(scratch, "no", "such", "dir.svg")], /--out .*: the directory .* does not exist/);
        bad(["--zoom"], /diagram: unknown argument "--zoom"/);
    }, 90_000);
});
