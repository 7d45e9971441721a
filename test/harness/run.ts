/** For vitest: run the program afresh (its modules re-evaluated) for a stack, with config overrides. */
import { vi } from "vitest";
import { ProgramRun } from "../../tools/offline/runtime";
import { runMocked } from "./program";

export async function runStack(stack: string, overrides: Record<string, unknown> = {}, deployed: Record<string, string> = {}): Promise<ProgramRun> {
    vi.resetModules();
    return runMocked(stack, overrides, deployed);
}
