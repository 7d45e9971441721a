/**
 * `npm run build:app -- [--out DIR] [--json] [--rebuild]`: the app bundle a host installs. One gzipped tar holding the
 * server and API compiled by esbuild with their production dependencies inlined (no node_modules on the
 * host), a launcher, the systemd unit and MANIFEST.json (version, source hash, each file's SHA-256). The
 * build is reproducible: same sources, same bytes, so the artifact's SHA-256 names its content.
 * Writes DIR/instagram-app-<sha256>.tar.gz and DIR/manifest.json; prints a summary, or with --json the
 * manifest (what the Pulumi program reads). A bundle already in DIR for the same source hash is reused (the
 * plan and every `pulumi up` run this); --rebuild builds it again anyway.
 */
import * as path from "path";
import { buildAppBundle, BundleManifest } from "../delivery/build";
import { PROJECT_ROOT } from "../delivery/sources";

const USAGE = "usage: npm run build:app -- [--out DIR] [--json] [--rebuild]   (DIR defaults to dist/app)";

function parseArgs(argv: readonly string[]): { out: string; json: boolean; rebuild: boolean } {
    const args = { out: path.join(PROJECT_ROOT, "dist", "app"), json: false, rebuild: false };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--out") {
            const value = argv[++i];
            if (!value || value.startsWith("-")) throw new Error("--out needs a directory");
            args.out = path.resolve(value);
        } else if (arg === "--json") {
            args.json = true;
        } else if (arg === "--rebuild") {
            args.rebuild = true;
        } else {
            throw new Error(`unknown argument ${JSON.stringify(arg)}`);
        }
    }
    return args;
}

async function main(): Promise<number> {
    let args: { out: string; json: boolean; rebuild: boolean };
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (e) {
        console.error(`build:app: ${(e as Error).message}\n${USAGE}`);
        return 2;
    }
    let manifest: BundleManifest;
    try {
        manifest = await buildAppBundle(args.out, { reuse: !args.rebuild });
    } catch (e) {
        console.error(`build:app: ${(e as Error).message}`);
        return 1;
    }
    if (args.json) {
        process.stdout.write(`${JSON.stringify(manifest)}\n`);
    } else {
        console.log(`built ${path.relative(process.cwd(), manifest.path) || manifest.path}`);
        console.log(`  version ${manifest.version}, ${manifest.bytes} bytes, ${manifest.files} files`);
        console.log(`  sha256  ${manifest.sha256}`);
        console.log(`  sources ${manifest.sourceHash}`);
    }
    return 0;
}

main().then((code) => process.exit(code));
