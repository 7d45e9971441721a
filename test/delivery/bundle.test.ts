/**
 * The app bundle: reproducible, self-describing, independent of the checkout it is built in, and runnable
 * by the systemd unit it carries once instagram-app-install has made it current.
 */
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildAppBundle, BundleManifest, compileApp, reusableBundle } from "../../delivery/build";
import { APP_SOURCE_INPUTS, appSourceFiles, appSourceHash, PROJECT_ROOT } from "../../delivery/sources";
import { APP_CURRENT, APP_SOCKET, APP_UNIT_NAME, WORK_UNIT_NAME } from "../../core/app-contract";
import { startSentryStandIn } from "../../tools/sentry-stand-in";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";
import { eventually } from "../harness/daemons";

const sha256 = (data: Buffer) => crypto.createHash("sha256").update(data).digest("hex");
let dir: string;
let first: BundleManifest;

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bundle-"));
    first = await buildAppBundle(path.join(dir, "a"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function untar(artifact: string, into: string): void {
    fs.mkdirSync(into, { recursive: true });
    const r = spawnSync("tar", ["-xzf", artifact, "-C", into], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
}

describe("npm run build:app", () => {
    test("two builds of the same sources are byte-identical, and the manifest's SHA-256 is the file's", async () => {
        const second = await buildAppBundle(path.join(dir, "b"));
        const a = fs.readFileSync(first.path);
        expect(fs.readFileSync(second.path).equals(a)).toBe(true);
        expect(sha256(a)).toBe(first.sha256);
        expect(path.basename(first.path)).toBe(`instagram-app-${first.sha256}.tar.gz`);
        expect(first).toMatchObject({ bytes: a.length, sourceHash: appSourceHash(), node: ">=20" });
        expect(JSON.parse(fs.readFileSync(path.join(dir, "a", "manifest.json"), "utf8"))).toEqual(first);
    });

    test("a bundle already built for the same sources is reused; one whose file was changed or whose sources differ is not", async () => {
        const out = path.join(dir, "reuse");
        const built = await buildAppBundle(out);
        const mtime = fs.statSync(built.path).mtimeMs;
        expect(await buildAppBundle(out, { reuse: true })).toEqual(built);
        expect(fs.statSync(built.path).mtimeMs).toBe(mtime);
        expect(reusableBundle(out, "0".repeat(64))).toBeUndefined();
        const bytes = fs.readFileSync(built.path);
        bytes[bytes.length - 1] ^= 0xff;
        fs.writeFileSync(built.path, bytes);
        expect(reusableBundle(out, built.sourceHash)).toBeUndefined();
        const rebuilt = await buildAppBundle(out, { reuse: true });
        expect(fs.readFileSync(rebuilt.path).equals(fs.readFileSync(first.path))).toBe(true);
    });

    test("a clean checkout (only the declared sources, no dist/, another path) builds the same bytes", async () => {
        const checkout = path.join(dir, "checkout");
        for (const file of appSourceFiles()) {
            fs.mkdirSync(path.dirname(path.join(checkout, file)), { recursive: true });
            fs.copyFileSync(path.join(PROJECT_ROOT, file), path.join(checkout, file));
        }
        fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(checkout, "node_modules"));
        const r = spawnSync(process.execPath, ["--import", "tsx", "tools/build-app.ts", "--json", "--out", path.join(dir, "clean")], { cwd: checkout, encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
        const built = JSON.parse(r.stdout) as BundleManifest;
        expect(built.sha256).toBe(first.sha256);
        expect(built.sourceHash).toBe(first.sourceHash);
    });

    test("every source file the compiler read is one the source hash covers (so no change goes undeployed)", async () => {
        const { inputs } = await compileApp();
        const own = inputs.filter((f) => !f.startsWith("node_modules/"));
        expect(own.length).toBeGreaterThan(10);
        for (const file of own) {
            expect(APP_SOURCE_INPUTS.some((input) => file === input || file.startsWith(`${input}/`)), file).toBe(true);
        }
    });

    test("MANIFEST.json inside lists every file with its SHA-256; the launcher is executable; no path escapes", () => {
        const into = path.join(dir, "unpacked");
        untar(first.path, into);
        const listing = spawnSync("tar", ["-tvzf", first.path], { encoding: "utf8" }).stdout.trim().split("\n");
        for (const line of listing) {
            expect(line).toMatch(/^[d-]r[w-]xr-xr-x 0\/0 |^-rw-r--r-- 0\/0 /);
            expect(line).toContain("2011-10-06");
            expect(line).not.toMatch(/ \/| \.\.\//);
        }
        const inner = JSON.parse(fs.readFileSync(path.join(into, "MANIFEST.json"), "utf8"));
        expect(inner).toMatchObject({ name: "instagram-app", version: first.version, sourceHash: first.sourceHash });
        expect(Object.keys(inner.files).sort()).toEqual(["bin/instagram-app", "lib/api/app.js", "lib/jobs/functions.js", "lib/server/cli.js", "lib/server/worker-main.js", `systemd/${APP_UNIT_NAME}`, `systemd/${WORK_UNIT_NAME}`]);
        for (const [file, digest] of Object.entries(inner.files)) expect(sha256(fs.readFileSync(path.join(into, file))), file).toBe(digest);
        expect(fs.statSync(path.join(into, "bin/instagram-app")).mode & 0o777).toBe(0o755);
        // Self-contained: no node_modules next to it, yet the API's dependencies load.
        expect(fs.existsSync(path.join(into, "node_modules"))).toBe(false);
    });

    test("installed by instagram-app-install, the unit's ExecStart serves /healthz from `current`", async () => {
        const root = path.join(dir, "host");
        const install = spawnSync("sh", [path.join(SCRIPTS_DIR, "app-install.sh"), first.path, first.sha256], {
            encoding: "utf8",
            env: { PATH: process.env.PATH!, INSTAGRAM_ARTIFACT_FETCH: "cp", INSTAGRAM_APP_HOME: path.join(root, "opt/instagram"), INSTAGRAM_UNIT_DIR: path.join(root, "etc/systemd/system"), INSTAGRAM_CREDENTIAL_ROOT: root },
        });
        expect(install.status, install.stderr).toBe(0);
        const unit = fs.readFileSync(path.join(root, "etc/systemd/system", APP_UNIT_NAME), "utf8");
        const execStart = /^ExecStart=(.+)$/m.exec(unit)![1];
        expect(execStart.startsWith(`${APP_CURRENT}/bin/instagram-app serve`)).toBe(true);
        // The same command line, with the host's absolute paths moved under the temporary root.
        const socket = path.join(root, "app.sock");
        const argv = execStart.replace(APP_CURRENT, path.join(root, "opt/instagram/current")).replace(APP_SOCKET, socket)
            .replace("/run/instagram-app/master.pid", path.join(root, "master.pid")).split(" ");
        // With a DSN, the bundled Sentry SDK starts and names the release by the directory it was installed into.
        const sentry = await startSentryStandIn("127.0.51.60");
        const proc = spawn(argv[0], argv.slice(1), { env: { PATH: process.env.PATH!, WEB_CONCURRENCY: "2", INSTAGRAM_SENTRY_DSN: sentry.dsn }, stdio: ["ignore", "pipe", "pipe"] });
        let log = "";
        proc.stderr!.on("data", (d) => (log += d));
        proc.stdout!.on("data", (d) => (log += d));
        try {
            const body = await eventually(() => new Promise<string | undefined>((resolve) => {
                http.get({ socketPath: socket, path: "/healthz", agent: false }, (res) => {
                    let b = "";
                    res.on("data", (d) => (b += d));
                    res.on("end", () => resolve(res.statusCode === 200 ? b : undefined));
                }).on("error", () => resolve(undefined));
            }), 15_000, `/healthz on ${socket}`);
            expect(JSON.parse(body)).toMatchObject({ status: "ok" });
            const ready = await new Promise<string>((resolve, reject) => {
                http.get({ socketPath: socket, path: "/readyz", agent: false }, (res) => {
                    let b = "";
                    res.on("data", (d) => (b += d));
                    res.on("end", () => resolve(b));
                }).on("error", reject);
            });
            expect(JSON.parse(ready).errorReports).toBe(`on (environment unset, release ${first.sha256})`);
            expect(log).toContain("2 workers");
            expect(log).toContain("Booting worker");
        } finally {
            const stopping = Date.now();
            proc.kill("SIGTERM");
            await new Promise((resolve) => proc.on("close", resolve));
            expect(Date.now() - stopping, "an idle server stops at once on TERM").toBeLessThan(5000);
            await sentry.close();
        }
        expect(log).toMatch(/master \d+ exits 0/);
    });
});
