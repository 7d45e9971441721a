/** The real program under the test mocks (every output answered, preview off, so every apply runs). */
import { ProgramRun, runProgram } from "../../tools/offline/runtime";
import { StackMocks } from "../../tools/offline/example-mocks";

/** `deployed`: SSM parameters that exist before the run (a deployed shard directory). */
export function runMocked(stack: string, overrides: Record<string, unknown> = {}, deployed: Record<string, string> = {}): Promise<ProgramRun> {
    return runProgram(stack, { overrides, mocks: (region) => new StackMocks(region, deployed), preview: false });
}
