/**
 * instagram-app-install against a temporary root, with `cp` standing in for the S3 download: it refuses a
 * tampered artifact before unpacking anything, installs a good one, keeps the previous release for a roll
 * back, drops older ones, and switches `current` with a rename (a reader never finds it missing).
 */
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";
import { tarArchive } from "../../delivery/tar";

const SCRIPT = path.join(SCRIPTS_DIR, "app-install.sh");
let dir: string;
let home: string;
let unitDir: string;
let credentialRoot: string;

/** A minimal bundle: what the script requires (MANIFEST.json, the launcher, the two units), tagged by `label`. */
function bundle(label: string, unitLines = ""): { file: string; sha256: string } {
    const gz = zlib.gzipSync(tarArchive([
        { path: "bin/", mode: 0o755 },
        { path: "systemd/", mode: 0o755 },
        { path: "MANIFEST.json", mode: 0o644, content: Buffer.from(JSON.stringify({ label })) },
        { path: "bin/instagram-app", mode: 0o755, content: Buffer.from(`#!/bin/sh\necho ${label}\n`) },
        { path: "systemd/instagram-app.service", mode: 0o644, content: Buffer.from(`[Service]\n# ${label}\n${unitLines}`) },
        { path: "systemd/instagram-work.service", mode: 0o644, content: Buffer.from(`[Service]\n# work ${label}\n`) },
    ], 0));
    const sha256 = crypto.createHash("sha256").update(gz).digest("hex");
    const file = path.join(dir, `${label}.tar.gz`);
    fs.writeFileSync(file, gz);
    return { file, sha256 };
}

function install(file: string, sha: string, fetch = "cp"): Promise<{ status: number; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn("sh", [SCRIPT, file, sha], {
            env: { PATH: process.env.PATH!, INSTAGRAM_ARTIFACT_FETCH: fetch, INSTAGRAM_APP_HOME: home, INSTAGRAM_UNIT_DIR: unitDir, INSTAGRAM_CREDENTIAL_ROOT: credentialRoot },
        });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ status: code ?? -1, stderr }));
    });
}

const current = () => fs.readlinkSync(path.join(home, "current"));
const releases = () => fs.readdirSync(path.join(home, "releases")).sort();
const unit = () => fs.readFileSync(path.join(unitDir, "instagram-app.service"), "utf8");
const workUnit = () => fs.readFileSync(path.join(unitDir, "instagram-work.service"), "utf8");

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "app-install-"));
    home = path.join(dir, "opt", "instagram");
    unitDir = path.join(dir, "etc", "systemd", "system");
    credentialRoot = path.join(dir, "root");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("instagram-app-install", () => {
    test("refuses an artifact whose SHA-256 is not the expected one, and unpacks nothing", async () => {
        const good = bundle("v1");
        const tampered = path.join(dir, "tampered.tar.gz");
        const bytes = fs.readFileSync(good.file);
        bytes[bytes.length - 10] ^= 0xff;
        fs.writeFileSync(tampered, bytes);
        const r = await install(tampered, good.sha256);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`refusing .*tampered.tar.gz: its SHA-256 is [0-9a-f]{64}, expected ${good.sha256} \\(nothing was unpacked\\)`));
        expect(releases()).toEqual([]);
        expect(fs.existsSync(path.join(home, "current"))).toBe(false);
        expect(fs.readdirSync(home).filter((f) => f.startsWith("."))).toEqual([]);
    });

    test("rejects a malformed SHA-256 and a failed download with clear messages", async () => {
        const bad = await install("x", "ABC");
        expect(bad).toMatchObject({ status: 2, stderr: expect.stringContaining("SHA256 must be 64 lowercase hex digits") });
        const missing = await install(path.join(dir, "nope.tar.gz"), "0".repeat(64));
        expect(missing).toMatchObject({ status: 1, stderr: expect.stringContaining("could not download") });
    });

    test("installs a good release, makes it current and installs its units (the app server's and the job workers')", async () => {
        const v1 = bundle("v1");
        const r = await install(v1.file, v1.sha256);
        expect(r.status, r.stderr).toBe(0);
        expect(current()).toBe(`releases/${v1.sha256}`);
        expect(spawnSync(path.join(home, "current", "bin", "instagram-app"), { encoding: "utf8" }).stdout).toBe("v1\n");
        expect(unit()).toContain("# v1");
        expect(workUnit()).toContain("# work v1");
        // Running it again (a reboot re-running the step) is harmless.
        const again = await install(v1.file, v1.sha256);
        expect(again.status).toBe(0);
        expect(again.stderr).toContain("already unpacked");
    });

    test("a new release keeps the previous one; a third drops the oldest; current never goes missing", async () => {
        const v1 = bundle("v1");
        const v2 = bundle("v2");
        const v3 = bundle("v3");
        expect((await install(v2.file, v2.sha256)).status).toBe(0);
        expect(current()).toBe(`releases/${v2.sha256}`);
        expect(releases()).toEqual([v1.sha256, v2.sha256].sort());
        expect(unit()).toContain("# v2");
        expect(workUnit()).toContain("# work v2");

        // A reader polling `current` during the switch always finds a release.
        let misses = 0;
        let reads = 0;
        const reader = setInterval(() => {
            reads++;
            try { fs.readFileSync(path.join(home, "current", "MANIFEST.json")); } catch { misses++; }
        }, 1);
        const r = await install(v3.file, v3.sha256);
        clearInterval(reader);
        expect(r.status, r.stderr).toBe(0);
        expect(reads).toBeGreaterThan(0);
        expect(misses).toBe(0);
        expect(current()).toBe(`releases/${v3.sha256}`);
        expect(releases()).toEqual([v2.sha256, v3.sha256].sort());
        expect(r.stderr).toContain(`removed old release ${v1.sha256}`);

        // Rolling back to the kept release needs no download.
        const back = await install("unused", v2.sha256, "false");
        expect(back.status, back.stderr).toBe(0);
        expect(current()).toBe(`releases/${v2.sha256}`);
        expect(unit()).toContain("# v2");
        expect(workUnit()).toContain("# work v2");
    });

    test("leaves an empty root-only file for a credential the units load that the host lacks, and keeps one it has", async () => {
        const secrets = path.join(credentialRoot, "etc/instagram/secrets");
        fs.mkdirSync(secrets, { recursive: true });
        fs.writeFileSync(path.join(secrets, "postgres-app"), "kept", { mode: 0o600 });
        const v = bundle("credentials", "LoadCredential=postgres-app:/etc/instagram/secrets/postgres-app\nLoadCredential=sentry-dsn:/etc/instagram/secrets/sentry-dsn\n");
        const r = await install(v.file, v.sha256);
        expect(r.status, r.stderr).toBe(0);
        expect(fs.readFileSync(path.join(secrets, "postgres-app"), "utf8")).toBe("kept");
        const placeholder = fs.statSync(path.join(secrets, "sentry-dsn"));
        expect([placeholder.size, placeholder.mode & 0o777]).toEqual([0, 0o600]);
        expect(r.stderr).toContain("no /etc/instagram/secrets/sentry-dsn: left empty (that feature stays off)");
        expect(r.stderr).not.toContain("postgres-app");
    });
});
