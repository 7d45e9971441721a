/** The real program under the test mocks (every output answered, preview off, so every apply runs). */
import { ProgramRun, runProgram } from "../../tools/offline/runtime";
import { StackMocks } from "./mocks";

export function runMocked(stack: string, overrides: Record<string, unknown> = {}): Promise<ProgramRun> {
    return runProgram(stack, { overrides, mocks: (region) => new StackMocks(region), preview: false });
}
