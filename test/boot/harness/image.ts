/**
 * The boot test's image (tools/boot/build-image.sh), built once and cached outside the repository under
 * BOOT_CACHE (default /var/cache/instagram-boot/<hash of the build script, the packages and the Node.js it
 * copies in>), rebuilt when any of them changes. The image's node is the one running this test (NodeSource's, as on the hosts).
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

export interface BootImage {
    readonly vmlinuz: string;
    readonly initrd: string;
    readonly root: string;
}

const SCRIPT = path.resolve(__dirname, "../../../tools/boot/build-image.sh");

/**
 * `packages`: what the hosts' user data installs (StackUnderTest.packages); NodeSource's nodejs is left out
 * (the image copies this test's node in instead: no network to NodeSource here).
 */
/**
 * Packages named for the release's PostgreSQL (the search host's postgresql-16-postgis-3 on Ubuntu 24.04) are
 * installed as this image's Debian build of them, as its `postgresql` is Debian's 15: the boot scripts use
 * the PostgreSQL that is installed (shard-postgres.sh says so in the log).
 */
function forDebian(pkg: string): string {
    return pkg.replace(/^postgresql-\d+-postgis-3$/, `postgresql-${DEBIAN_POSTGRES_MAJOR}-postgis-3`);
}
const DEBIAN_POSTGRES_MAJOR = 15;

export function bootImage(packages: readonly string[]): BootImage {
    const debianPackages = [...new Set(packages.filter((p) => !p.startsWith("nodejs=")).map(forDebian))].sort();
    const hash = crypto.createHash("sha256").update(fs.readFileSync(SCRIPT)).update(process.version).update(debianPackages.join(" ")).digest("hex").slice(0, 16);
    const dir = path.join(process.env.BOOT_CACHE ?? "/var/cache/instagram-boot", hash);
    const image = { vmlinuz: path.join(dir, "vmlinuz"), initrd: path.join(dir, "initrd.img"), root: path.join(dir, "root.img") };
    if (Object.values(image).every((f) => fs.existsSync(f))) return image;
    const r = spawnSync("sh", [SCRIPT, dir, ...debianPackages], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_BINARY: process.execPath } });
    if (r.status !== 0) throw new Error(`building the boot image failed (${r.status}):\n${(r.stdout + r.stderr).slice(-4000)}`);
    return image;
}
