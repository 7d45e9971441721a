/**
 * The files an app bundle is built from, and their hash. The Pulumi program triggers a rebuild when this
 * hash changes; it may include a file the bundle does not use (a rebuild then yields the same bytes, since
 * the build is reproducible), but it must never miss one (a test compares it with what the build read).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** Paths relative to the project root: directories are taken whole. */
export const APP_SOURCE_INPUTS = [
    "app",
    // the pure domain the app shares with the program (shard map, ID layout, secret names, runtime contract)
    "core",
    "tools/build-app.ts",
    "delivery",
    "package.json",
    "package-lock.json",
    // esbuild reads it (the target decides how class fields compile)
    "tsconfig.json",
] as const;

function listFiles(root: string, rel: string): string[] {
    const full = path.join(root, rel);
    const stat = fs.statSync(full);
    if (!stat.isDirectory()) return [rel];
    return fs.readdirSync(full).sort().flatMap((entry) => listFiles(root, path.posix.join(rel, entry)));
}

/** Every source file, relative and sorted. */
export function appSourceFiles(root = PROJECT_ROOT): string[] {
    return APP_SOURCE_INPUTS.flatMap((input) => listFiles(root, input)).sort();
}

/** SHA-256 over each source file's path and bytes. */
export function appSourceHash(root = PROJECT_ROOT): string {
    const hash = crypto.createHash("sha256");
    for (const file of appSourceFiles(root)) {
        const content = fs.readFileSync(path.join(root, file));
        hash.update(`${file}\0${content.length}\0`).update(content);
    }
    return hash.digest("hex");
}
