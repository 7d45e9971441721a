/**
 * The program as `pulumi preview` sees it, offline: the real program under PreviewMocks (what only the
 * cloud knows stays unknown). What `npm run plan`, `npm run cost` and `npm run diagram` read.
 */
import { PreviewMocks } from "./preview-mocks";
import { ProgramRun, runProgram } from "./runtime";

export function previewProgram(stack: string, overrides?: Record<string, unknown>): Promise<ProgramRun> {
    return runProgram(stack, { mocks: () => new PreviewMocks(), preview: true, overrides });
}
