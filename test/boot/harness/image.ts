/**
 * The boot test's image (tools/boot/build-image.sh), built once and cached outside the repository under
 * BOOT_CACHE (default /var/cache/instagram-boot/<hash of the build script>), rebuilt when the script changes.
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

export function bootImage(): BootImage {
    const hash = crypto.createHash("sha256").update(fs.readFileSync(SCRIPT)).digest("hex").slice(0, 16);
    const dir = path.join(process.env.BOOT_CACHE ?? "/var/cache/instagram-boot", hash);
    const image = { vmlinuz: path.join(dir, "vmlinuz"), initrd: path.join(dir, "initrd.img"), root: path.join(dir, "root.img") };
    if (Object.values(image).every((f) => fs.existsSync(f))) return image;
    const r = spawnSync("sh", [SCRIPT, dir], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`building the boot image failed (${r.status}):\n${(r.stdout + r.stderr).slice(-4000)}`);
    return image;
}
