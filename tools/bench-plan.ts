/**
 * `npm run bench:plan`: how long the offline plan takes for each shipped stack, and beside it the two tools
 * that read the same plan, `npm run cost` and `npm run diagram` (SVG, Graphviz included), as a table. Each
 * run is a fresh process, as a user runs it; "evaluation" is the program under mocks (the plan prints it),
 * "wall" includes starting Node, tsx and loading the SDKs. The ratio is each tool's wall median over the
 * plan's, measured in the same run.
 */
import { spawnSync } from "child_process";
import * as path from "path";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 50) {
    console.error("bench:plan: BENCH_RUNS must be a whole number from 1 to 50");
    process.exit(2);
}
const root = path.resolve(__dirname, "..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timed(args: string[], what: string): { ms: number; stdout: string } {
    const started = process.hrtime.bigint();
    const result = spawnSync(tsx, args, { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) {
        console.error(`bench:plan: ${what} failed:\n${result.stdout.slice(0, 2000)}${result.stderr}`);
        process.exit(1);
    }
    return { ms, stdout: result.stdout };
}

const rows: string[][] = [];
for (const stack of ["dev", "instagram-2011"]) {
    const evaluation: number[] = [];
    const wall = { plan: [] as number[], cost: [] as number[], diagram: [] as number[] };
    let resources = "";
    for (let i = 0; i < RUNS; i++) {
        const plan = timed(["tools/plan.ts", "--stack", stack, "--quiet"], `plan of ${stack}`);
        const match = /(\d+) to create .* evaluated in (\d+) ms/.exec(plan.stdout);
        if (!match) {
            console.error(`bench:plan: the plan of ${stack} printed no evaluation time:\n${plan.stdout}`);
            process.exit(1);
        }
        resources = match[1];
        evaluation.push(Number(match[2]));
        wall.plan.push(plan.ms);
        wall.cost.push(timed(["tools/cost.ts", "--stack", stack], `cost of ${stack}`).ms);
        wall.diagram.push(timed(["tools/diagram.ts", "--stack", stack, "--format", "svg"], `diagram of ${stack}`).ms);
    }
    const planWall = median(wall.plan);
    rows.push([
        stack, resources, `${median(evaluation).toFixed(0)}`, `${Math.max(...evaluation).toFixed(0)}`, `${planWall.toFixed(0)}`, `${Math.max(...wall.plan).toFixed(0)}`,
        `${median(wall.cost).toFixed(0)} (${(median(wall.cost) / planWall).toFixed(2)}x)`, `${median(wall.diagram).toFixed(0)} (${(median(wall.diagram) / planWall).toFixed(2)}x)`,
    ]);
}

const header = ["stack", "resources", "plan evaluation median ms", "plan evaluation max ms", "plan wall median ms", "plan wall max ms", "cost wall median ms (x plan)", "diagram svg wall median ms (x plan)"];
console.log(`Offline plan, cost and diagram, ${RUNS} runs each, ${require("os").cpus().length} cores, Node ${process.version}\n`);
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map(() => "---").join("|")}|`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
