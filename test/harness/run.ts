/** For vitest: run the program afresh (its modules re-evaluated) for a stack, with config overrides. */
import { vi } from "vitest";
import { ProgramRun, runProgram } from "./program";

export async function runStack(stack: string, overrides: Record<string, unknown> = {}): Promise<ProgramRun> {
    vi.resetModules();
    return runProgram(stack, overrides);
}

/** Instances with their host name (the Name tag) for readable assertions. */
export function instanceName(r: { inputs: Record<string, any> }): string {
    return r.inputs.tags?.Name ?? "?";
}
