/** `npm run local` as a user runs it, in a child process, for one state directory. */
import { spawn } from "child_process";
import * as path from "path";
import { PROJECT_ROOT } from "../../delivery/sources";

export interface CliResult { status: number; stdout: string; stderr: string }

export function runLocal(dir: string, args: readonly string[]): Promise<CliResult> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "local", "cli.ts"), ...args, "--dir", dir], { cwd: PROJECT_ROOT });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr }));
    });
}
