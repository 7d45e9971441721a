/**
 * The program as `pulumi preview` sees it, offline: the real program under PreviewMocks (what only the
 * cloud knows stays unknown). What `npm run plan`, `npm run cost` and `npm run diagram` read.
 */
import { ConfigError } from "../../core/config";
import { PreviewMocks } from "./preview-mocks";
import { ProgramRun, runProgram } from "./runtime";

export function previewProgram(stack: string, overrides?: Record<string, unknown>): Promise<ProgramRun> {
    return runProgram(stack, { mocks: () => new PreviewMocks(), preview: true, overrides });
}

/**
 * The preview for a tool that reads the plan (cost, diagram), or undefined once it has printed why the stack
 * cannot be planned: no such stack file, or the config's problems, one a line.
 */
export async function previewForTool(tool: string, stack: string): Promise<ProgramRun | undefined> {
    try {
        return await previewProgram(stack);
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        console.error(`${tool}: stack "${stack}" cannot be planned:`);
        for (const p of e.problems) console.error(`  - ${p}`);
        return undefined;
    }
}
