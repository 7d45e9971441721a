/** Builds the app bundle (see tools/build-app.ts): esbuild, then a deterministic tar, gzipped. */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import * as esbuild from "esbuild";
import { appUnit, workUnit } from "../app/deploy/unit";
import { APP_UNIT_NAME, WORK_UNIT_NAME } from "../core/app-contract";
import { tarArchive, TarEntry } from "./tar";
import { appSourceHash, PROJECT_ROOT } from "./sources";

/** What `build:app --json` prints and dist/app/manifest.json holds. */
export interface BundleManifest {
    readonly name: "instagram-app";
    readonly version: string;
    /** SHA-256 of the .tar.gz: the artifact's identity (its S3 key and what hosts verify). */
    readonly sha256: string;
    readonly bytes: number;
    readonly files: number;
    readonly sourceHash: string;
    /** Absolute path of the artifact. */
    readonly path: string;
    /** The Node.js major versions the bundle is compiled for. */
    readonly node: string;
}

/** Entry points, by their path in the bundle. The workers, the API and the job functions are loaded by path at run time. */
const ENTRY_POINTS: Record<string, string> = {
    "lib/server/cli": "app/server/cli.ts",
    "lib/server/worker-main": "app/server/worker-main.ts",
    "lib/api/app": "app/api/app.ts",
    "lib/jobs/functions": "app/jobs/functions.ts",
};
export const NODE_TARGET = "node20";
/** 2011-10-06, Instagram's first birthday: every file in every bundle has this mtime. */
const BUNDLE_MTIME = 1317859200;

const LAUNCHER = `#!/bin/sh
# instagram-app: runs the server of the release this file belongs to (resolving the "current" link).
here=$(dirname "$(readlink -f "$0")")
exec node "$here/../lib/server/cli.js" "$@"
`;

const sha256 = (data: Buffer | string) => crypto.createHash("sha256").update(data).digest("hex");

/** Compile the entry points with their dependencies; returns output files and the sources esbuild read. */
export async function compileApp(): Promise<{ files: Map<string, Buffer>; inputs: string[] }> {
    const result = await esbuild.build({
        absWorkingDir: PROJECT_ROOT,
        entryPoints: Object.entries(ENTRY_POINTS).map(([out, input]) => ({ out, in: input })),
        bundle: true,
        platform: "node",
        target: NODE_TARGET,
        format: "cjs",
        outdir: "bundle",
        write: false,
        metafile: true,
        minify: false,
        sourcemap: false,
        legalComments: "eof",
        logLevel: "silent",
        // Module paths appear in the output's comments: keep them as node_modules/... even where node_modules
        // is a link (a CI cache), so they do not depend on where the dependencies physically are.
        preserveSymlinks: true,
        // Optional native add-ons the libraries try to load and fall back from.
        external: ["pg-native", "aws-crt", "@aws-sdk/signature-v4-crt"],
    });
    if (result.errors.length > 0) throw new Error(result.errors.map((e) => e.text).join("; "));
    const files = new Map<string, Buffer>();
    for (const out of result.outputFiles) {
        files.set(path.relative(path.join(PROJECT_ROOT, "bundle"), out.path).split(path.sep).join("/"), Buffer.from(out.contents));
    }
    return { files, inputs: Object.keys(result.metafile!.inputs) };
}

/**
 * The bundle already in outDir for these sources, if its file is intact. The build is reproducible and the
 * source hash covers every input (package-lock.json for the dependencies), so a rebuild would give these bytes.
 */
export function reusableBundle(outDir: string, sourceHash: string): BundleManifest | undefined {
    try {
        const manifest = JSON.parse(fs.readFileSync(path.join(outDir, "manifest.json"), "utf8")) as BundleManifest;
        if (manifest.sourceHash !== sourceHash || manifest.path !== path.join(outDir, path.basename(manifest.path))) return undefined;
        return sha256(fs.readFileSync(manifest.path)) === manifest.sha256 ? manifest : undefined;
    } catch {
        return undefined;
    }
}

/** Builds the bundle into outDir; with `reuse`, returns the one already there for the same sources instead. */
export async function buildAppBundle(outDir: string, options: { reuse?: boolean } = {}): Promise<BundleManifest> {
    const version = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")).version as string;
    const sourceHash = appSourceHash();
    const existing = options.reuse ? reusableBundle(outDir, sourceHash) : undefined;
    if (existing) return existing;
    const { files: compiled } = await compileApp();

    const files = new Map<string, { content: Buffer; mode: number }>();
    for (const [file, content] of compiled) files.set(file, { content, mode: 0o644 });
    files.set("bin/instagram-app", { content: Buffer.from(LAUNCHER), mode: 0o755 });
    files.set(`systemd/${APP_UNIT_NAME}`, { content: Buffer.from(appUnit()), mode: 0o644 });
    files.set(`systemd/${WORK_UNIT_NAME}`, { content: Buffer.from(workUnit()), mode: 0o644 });
    const inner = {
        name: "instagram-app",
        version,
        sourceHash,
        node: `>=${NODE_TARGET.slice(4)}`,
        files: Object.fromEntries([...files.keys()].sort().map((f) => [f, sha256(files.get(f)!.content)])),
    };
    files.set("MANIFEST.json", { content: Buffer.from(`${JSON.stringify(inner, null, 2)}\n`), mode: 0o644 });

    const sorted = [...files.keys()].sort();
    const dirs = [...new Set(sorted.flatMap((f) => f.split("/").slice(0, -1).map((_, i, parts) => `${parts.slice(0, i + 1).join("/")}/`)))].sort();
    const entries: TarEntry[] = [
        ...dirs.map((d) => ({ path: d, mode: 0o755 })),
        ...sorted.map((f) => ({ path: f, mode: files.get(f)!.mode, content: files.get(f)!.content })),
    ];
    const gz = zlib.gzipSync(tarArchive(entries, BUNDLE_MTIME), { level: 9 });
    const digest = sha256(gz);

    fs.mkdirSync(outDir, { recursive: true });
    const artifact = path.join(outDir, `instagram-app-${digest}.tar.gz`);
    // Written under a temporary name and renamed, so a reader never sees half an artifact.
    const tmp = `${artifact}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, gz);
    fs.renameSync(tmp, artifact);
    const manifest: BundleManifest = { name: "instagram-app", version, sha256: digest, bytes: gz.length, files: sorted.length, sourceHash, path: artifact, node: inner.node };
    const manifestPath = path.join(outDir, "manifest.json");
    fs.writeFileSync(`${manifestPath}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
    fs.renameSync(`${manifestPath}.tmp`, manifestPath);
    return manifest;
}
