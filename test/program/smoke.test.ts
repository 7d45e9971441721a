import { test, expect } from "vitest";
import { runProgram } from "../harness/program";
test("smoke", async () => {
  const run = await runProgram("dev");
  const counts: Record<string, number> = {};
  for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  console.log(counts, run.outputs, run.resources.slice(0,5).map(r => [r.urn, r.parentUrn]));
  expect(run.resources.length).toBeGreaterThan(10);
}, 60000);
