/**
 * `npm run bench:plan`: how long the offline plan takes for each shipped stack, as a table. Each run is a
 * fresh process (`tsx tools/plan.ts --quiet`), as a user runs it; "evaluation" is the program under mocks,
 * "wall" includes starting Node, tsx and loading the SDKs.
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

const rows: string[][] = [];
for (const stack of ["dev", "instagram-2011"]) {
    const evaluation: number[] = [];
    const wall: number[] = [];
    let resources = "";
    for (let i = 0; i < RUNS; i++) {
        const started = process.hrtime.bigint();
        const result = spawnSync(tsx, ["tools/plan.ts", "--stack", stack, "--quiet"], { cwd: root, encoding: "utf8" });
        wall.push(Number(process.hrtime.bigint() - started) / 1e6);
        const match = /(\d+) to create .* evaluated in (\d+) ms/.exec(result.stdout);
        if (result.status !== 0 || !match) {
            console.error(`bench:plan: plan of ${stack} failed:\n${result.stdout}${result.stderr}`);
            process.exit(1);
        }
        resources = match[1];
        evaluation.push(Number(match[2]));
    }
    rows.push([stack, resources, `${median(evaluation).toFixed(0)}`, `${Math.max(...evaluation).toFixed(0)}`, `${median(wall).toFixed(0)}`, `${Math.max(...wall).toFixed(0)}`]);
}

const header = ["stack", "resources", "evaluation median ms", "evaluation max ms", "wall median ms", "wall max ms"];
console.log(`Offline plan, ${RUNS} runs each, ${require("os").cpus().length} cores, Node ${process.version}\n`);
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map(() => "---").join("|")}|`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
