/** The project checkout's Pulumi files, read from disk: what core/stack-config.ts merges as the CLI does. */
import * as fs from "fs";
import * as path from "path";
import { mergeStackConfig, ProjectConfig, ProjectFiles, readProjectConfig as readDeclarations } from "../core/stack-config";
import { PROJECT_ROOT } from "../delivery/sources";

export function projectFiles(root = PROJECT_ROOT): ProjectFiles {
    return {
        read: (name) => {
            const file = path.join(root, name);
            return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
        },
        list: () => fs.readdirSync(root),
    };
}

/** The config `pulumi up` would hand the program for `stack` in the checkout at `root`, with `overrides` on top. */
export function loadStackConfig(stack: string, overrides: Record<string, unknown> = {}, root = PROJECT_ROOT): Record<string, string> {
    return mergeStackConfig(stack, projectFiles(root), overrides);
}

export function readProjectConfig(root = PROJECT_ROOT): ProjectConfig {
    return readDeclarations(projectFiles(root));
}
