/**
 * The RAID script's decisions, against a fake /dev tree and recording stand-ins for mdadm, blkid, mkfs.xfs,
 * mount and update-initramfs (which the script must not call: see its step 3). This machine's kernel has no md driver, so the array itself is exercised only
 * on a real host (and in the VM boot test); what is proven here is discovery by NVMe serial, waiting,
 * create-versus-assemble-versus-refuse, geometry, mdadm.conf and fstab.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";

const SCRIPT = path.resolve(__dirname, "../../cloud-init/scripts/shard-raid.sh");
const VOLUMES = ["vol-0a1b2c3d4e5f60001", "vol-0a1b2c3d4e5f60002", "vol-0a1b2c3d4e5f60003", "vol-0a1b2c3d4e5f60004"];
// Nitro names NVMe devices in attach order, which is not the volumes' order.
const DEVICES = ["nvme3n1", "nvme1n1", "nvme4n1", "nvme2n1"];
const UUID = "11111111:22222222:33333333:44444444";

const FAKES: Record<string, string> = {
    mdadm: `#!/bin/sh
echo "mdadm $*" >> "$FAKE_STATE/calls"
case "$1" in
  --examine) f="$FAKE_STATE/sb-$(basename "$3")"; [ -f "$f" ] && cat "$f" && exit 0; exit 1 ;;
  --detail)
    [ "$2" = --scan ] && { cat "$FAKE_STATE/active" 2>/dev/null; exit 0; }
    echo "ARRAY $3 metadata=1.2 UUID=${UUID} name=host:pgdata"; exit 0 ;;
  --create)
    md=$2; shift 2
    for a in "$@"; do case "$a" in /*) echo "ARRAY /dev/md/pgdata metadata=1.2 UUID=${UUID} name=host:pgdata" > "$FAKE_STATE/sb-$(basename "$a")" ;; esac; done
    echo "ARRAY $md metadata=1.2 UUID=${UUID} name=host:pgdata" > "$FAKE_STATE/active" ;;
  --assemble) echo "ARRAY $2 metadata=1.2 UUID=${UUID} name=host:pgdata" > "$FAKE_STATE/active" ;;
esac
exit 0
`,
    blkid: `#!/bin/sh
echo "blkid $*" >> "$FAKE_STATE/calls"
for dev; do :; done
if [ "$4" = TYPE ]; then f="$FAKE_STATE/fstype-$(basename "$dev")"; [ -f "$f" ] && cat "$f" && exit 0; exit 2; fi
echo "fs-uuid-0001"
`,
    "mkfs.xfs": `#!/bin/sh
echo "mkfs.xfs $*" >> "$FAKE_STATE/calls"
for dev; do :; done
echo xfs > "$FAKE_STATE/fstype-$(basename "$dev")"
`,
    mount: `#!/bin/sh
echo "mount $*" >> "$FAKE_STATE/calls"
`,
    mountpoint: `#!/bin/sh
[ -f "$FAKE_STATE/mounted" ]
`,
    "update-initramfs": `#!/bin/sh
echo "update-initramfs $*" >> "$FAKE_STATE/calls"
`,
};

let root: string;
let state: string;
let dev: string;

beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "raid-"));
    state = path.join(root, "state");
    dev = path.join(root, "dev");
    fs.mkdirSync(state);
    fs.mkdirSync(path.join(dev, "disk", "by-id"), { recursive: true });
    fs.mkdirSync(path.join(root, "bin"));
    fs.mkdirSync(path.join(root, "etc"));
    fs.writeFileSync(path.join(root, "etc", "fstab"), "LABEL=cloudimg-rootfs / ext4 defaults 0 1\n");
    for (const [name, text] of Object.entries(FAKES)) fs.writeFileSync(path.join(root, "bin", name), text, { mode: 0o755 });
    DEVICES.forEach((d) => fs.writeFileSync(path.join(dev, d), ""));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function attach(index: number): void {
    const serial = VOLUMES[index].replace("-", "");
    fs.symlinkSync(`../../${DEVICES[index]}`, path.join(dev, "disk", "by-id", `nvme-Amazon_Elastic_Block_Store_${serial}`));
}

interface Result { status: number; stderr: string; calls: string[] }

function runRaid(env: Record<string, string>, onStart?: () => void): Promise<Result> {
    const bin = path.join(root, "bin");
    return new Promise((resolve) => {
        const child = spawn("sh", [SCRIPT], {
            env: {
                // The fakes first on PATH: an update-initramfs the script should not run would show in the calls.
                PATH: `${bin}:${process.env.PATH}`,
                FAKE_STATE: state,
                DEV_ROOT: dev,
                MDADM: path.join(bin, "mdadm"),
                BLKID: path.join(bin, "blkid"),
                MKFS_XFS: path.join(bin, "mkfs.xfs"),
                MOUNT: path.join(bin, "mount"),
                MOUNTPOINT: path.join(bin, "mountpoint"),
                MDADM_CONF: path.join(root, "etc", "mdadm", "mdadm.conf"),
                FSTAB: path.join(root, "etc", "fstab"),
                MOUNT_POINT: path.join(root, "data"),
                VOLUME_IDS: VOLUMES.join(" "),
                RAID_LEVEL: "10",
                WAIT_SECONDS: "10",
                ...env,
            },
        });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        onStart?.();
        child.on("close", (code) => {
            const callsFile = path.join(state, "calls");
            const calls = fs.existsSync(callsFile) ? fs.readFileSync(callsFile, "utf8").trim().split("\n") : [];
            resolve({ status: code ?? -1, stderr, calls });
        });
    });
}

const diskPaths = (n = 4) => DEVICES.slice(0, n).map((d) => path.join(dev, d)).join(" ");
const mutating = (calls: string[]) => calls.filter((c) => /--create|--assemble|^mkfs|^mount/.test(c));

describe("shard RAID script", () => {
    test("blank disks: creates RAID 10 from the volumes found by serial, in volume order, then XFS with the stripe geometry", async () => {
        VOLUMES.forEach((_, i) => attach(i));
        const r = await runRaid({});
        expect(r.status, r.stderr).toBe(0);
        expect(r.calls).toContain(`mdadm --create /dev/md/pgdata --run --metadata=1.2 --name=pgdata --level=10 --raid-devices=4 --chunk=256 --assume-clean ${diskPaths()}`);
        expect(r.calls).toContain("mkfs.xfs -L pgdata -d su=256k,sw=2 /dev/md/pgdata");
        expect(r.calls.filter((c) => c.startsWith("update-initramfs"))).toEqual([]);
        expect(r.calls.at(-1)).toBe(`mount ${path.join(root, "data")}`);
        expect(fs.readFileSync(path.join(root, "etc", "mdadm", "mdadm.conf"), "utf8")).toBe(`ARRAY /dev/md/pgdata metadata=1.2 UUID=${UUID} name=host:pgdata\n`);
        expect(fs.readFileSync(path.join(root, "etc", "fstab"), "utf8")).toBe(
            `LABEL=cloudimg-rootfs / ext4 defaults 0 1\nUUID=fs-uuid-0001 ${path.join(root, "data")} xfs noatime,nofail,x-systemd.device-timeout=30s 0 2\n`,
        );
    });

    test("RAID 0 stripes over every disk and needs no resync flag", async () => {
        attach(0);
        attach(1);
        const r = await runRaid({ RAID_LEVEL: "0", VOLUME_IDS: VOLUMES.slice(0, 2).join(" ") });
        expect(r.status, r.stderr).toBe(0);
        expect(r.calls).toContain(`mdadm --create /dev/md/pgdata --run --metadata=1.2 --name=pgdata --level=0 --raid-devices=2 --chunk=256 ${diskPaths(2)}`);
        expect(r.calls).toContain("mkfs.xfs -L pgdata -d su=256k,sw=2 /dev/md/pgdata");
    });

    test("a replaced host with the array on its disks assembles it and never creates or formats", async () => {
        VOLUMES.forEach((_, i) => attach(i));
        DEVICES.forEach((d) => fs.writeFileSync(path.join(state, `sb-${d}`), `ARRAY /dev/md/pgdata metadata=1.2 UUID=${UUID} name=old:pgdata\n`));
        fs.writeFileSync(path.join(state, "fstype-pgdata"), "xfs\n");
        // A stale line for the mount point (from the image) is replaced, not duplicated.
        fs.appendFileSync(path.join(root, "etc", "fstab"), `UUID=stale ${path.join(root, "data")} xfs defaults 0 2\n`);
        const r = await runRaid({});
        expect(r.status, r.stderr).toBe(0);
        expect(mutating(r.calls)).toEqual([`mdadm --assemble /dev/md/pgdata --uuid=${UUID} --run ${diskPaths()}`, `mount ${path.join(root, "data")}`]);
        expect(fs.readFileSync(path.join(root, "etc", "fstab"), "utf8").match(/ xfs /g)).toHaveLength(1);
    });

    test("an array udev already assembled as md127 is used as it is", async () => {
        VOLUMES.forEach((_, i) => attach(i));
        DEVICES.forEach((d) => fs.writeFileSync(path.join(state, `sb-${d}`), `ARRAY /dev/md/pgdata metadata=1.2 UUID=${UUID} name=old:pgdata\n`));
        fs.writeFileSync(path.join(state, "active"), `ARRAY /dev/md127 metadata=1.2 UUID=${UUID} name=old:pgdata\n`);
        fs.writeFileSync(path.join(state, "fstype-md127"), "xfs\n");
        const r = await runRaid({});
        expect(r.status, r.stderr).toBe(0);
        expect(mutating(r.calls)).toEqual([`mount ${path.join(root, "data")}`]);
        expect(fs.readFileSync(path.join(root, "etc", "mdadm", "mdadm.conf"), "utf8")).toContain("ARRAY /dev/md127");
    });

    test("a volume attached late is waited for", async () => {
        [0, 1, 2].forEach(attach);
        const r = await runRaid({ WAIT_SECONDS: "30" }, () => setTimeout(() => attach(3), 3000));
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toMatch(/waiting for volumes: vol-0a1b2c3d4e5f60004/);
        expect(r.calls.some((c) => c.startsWith("mdadm --create"))).toBe(true);
    });

    test("a volume that never arrives fails the boot with its ID and changes nothing", async () => {
        [0, 1, 2].forEach(attach);
        const r = await runRaid({ WAIT_SECONDS: "4" });
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/volumes not attached after 4s: vol-0a1b2c3d4e5f60004 \(nothing was created or changed\)/);
        expect(mutating(r.calls)).toEqual([]);
        expect(fs.existsSync(path.join(root, "etc", "mdadm", "mdadm.conf"))).toBe(false);
    });

    test("disks that disagree (half an array, half blank) are refused, not re-created", async () => {
        VOLUMES.forEach((_, i) => attach(i));
        DEVICES.slice(0, 2).forEach((d) => fs.writeFileSync(path.join(state, `sb-${d}`), `ARRAY /dev/md/pgdata metadata=1.2 UUID=${UUID} name=old:pgdata\n`));
        const r = await runRaid({});
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/disks disagree: 2 of 4 blank/);
        expect(mutating(r.calls)).toEqual([]);
    });

    test("a disk holding a foreign filesystem is never overwritten", async () => {
        VOLUMES.forEach((_, i) => attach(i));
        fs.writeFileSync(path.join(state, `fstype-${DEVICES[2]}`), "ext4\n");
        const r = await runRaid({});
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/nvme4n1 holds a ext4 filesystem but no RAID superblock; refusing to overwrite it/);
        expect(mutating(r.calls)).toEqual([]);
    });

    test("an already mounted array is left alone (the script may run on every boot)", async () => {
        fs.writeFileSync(path.join(state, "mounted"), "");
        const r = await runRaid({});
        expect(r.status).toBe(0);
        expect(r.stderr).toMatch(/already mounted/);
        expect(r.calls).toEqual([]);
    });

    test("bad parameters are refused before anything is touched", async () => {
        expect((await runRaid({ RAID_LEVEL: "5" })).stderr).toMatch(/RAID_LEVEL must be 0 or 10, not 5/);
        const three = await runRaid({ VOLUME_IDS: VOLUMES.slice(0, 3).join(" ") });
        expect(three.status).not.toBe(0);
        expect(three.stderr).toMatch(/RAID 10 needs an even number of volumes, at least 4 \(got 3\)/);
    });
});
