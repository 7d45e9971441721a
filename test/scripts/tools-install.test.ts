/**
 * tools-install.sh with the host tools tarball the program uploads (components/host-tools.ts): the download
 * is the tests' `cp` in place of instagram-s3-get; installed tools are executable and run; a tarball whose
 * SHA-256 is not the one named, or that holds something else, installs nothing.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";
import { hostToolsTarball } from "../../components/host-tools";
import { tarArchive } from "../../delivery/tar";

let root: string;
let tarball: string;
let sha: string;

const install = (file: string, want: string, dir: string) =>
    spawnSync("sh", [path.join(SCRIPTS_DIR, "tools-install.sh"), file, want], { env: { PATH: process.env.PATH, INSTAGRAM_ARTIFACT_FETCH: "cp", INSTAGRAM_TOOLS_DIR: dir }, encoding: "utf8" });

beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "tools-install-"));
    const built = hostToolsTarball();
    tarball = path.join(root, "tools.tar.gz");
    fs.writeFileSync(tarball, built.bytes);
    sha = built.sha256;
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("tools-install.sh", () => {
    test("installs every tool, executable, and running it again is harmless", () => {
        const dir = path.join(root, "sbin");
        for (let i = 0; i < 2; i++) {
            const r = install(tarball, sha, dir);
            expect(r.status, r.stderr).toBe(0);
        }
        expect(fs.readdirSync(dir).sort()).toEqual(["instagram-host-metrics", "instagram-shard-backup", "instagram-shard-move", "instagram-shard-promote", "instagram-shard-restore"]);
        expect(fs.statSync(path.join(dir, "instagram-shard-move")).mode & 0o777).toBe(0o755);
        const usage = spawnSync(path.join(dir, "instagram-shard-move"), [], { encoding: "utf8" });
        expect(usage.status).toBe(2);
        expect(usage.stderr).toContain("usage: shard-move ENV_FILE");
    });

    test("a tarball that is not the named SHA-256 is refused, and nothing is installed", () => {
        const dir = path.join(root, "wrong-sha");
        const r = install(tarball, "0".repeat(64), dir);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`has SHA-256 ${sha}, not ${"0".repeat(64)}: refused, nothing installed`);
        expect(fs.existsSync(dir)).toBe(false);
        expect(install(tarball, "not-a-sha", dir).status).toBe(2);
    });

    test("a tarball holding anything but instagram-* tools is refused", () => {
        const bytes = zlib.gzipSync(tarArchive([{ path: "evil", mode: 0o755, content: Buffer.from("#!/bin/sh\n") }], 0));
        const file = path.join(root, "evil.tar.gz");
        fs.writeFileSync(file, bytes);
        const r = install(file, crypto.createHash("sha256").update(bytes).digest("hex"), path.join(root, "evil-dir"));
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("unexpected file evil in the tools tarball: refused, nothing installed");
    });
});
