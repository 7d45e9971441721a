/**
 * A shard primary whose fourth volume never arrives: the boot waits (the image shortens the role's 10
 * minutes to 2), then fails with a message naming the volume, creates no array, leaves the three disks that
 * did arrive untouched, and never writes the role's finished marker; `cloud-init status` says error.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bootImage } from "./harness/image";
import { AwsStandIns, startAwsStandIns } from "./harness/aws";
import { makeDisk, Vm } from "./harness/vm";
import { shardPrimaryUnderTest, ShardHostUnderTest } from "./harness/shard-host";

let host: ShardHostUnderTest;
let aws: AwsStandIns;
let dir: string;
let vm: Vm;

beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("the boot test builds its image with debootstrap: run as root");
    host = await shardPrimaryUnderTest();
    aws = await startAwsStandIns("127.0.15.2", { parameters: host.parameters });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "boot-missing-"));
    const present = host.volumeIds.slice(0, 3).map((volumeId, i) => ({ volumeId, file: makeDisk(path.join(dir, `vol${i}.img`), 2) }));
    vm = new Vm({ name: "shard-0-primary", dir: path.join(dir, "vm"), image: bootImage(), userData: host.userData, disks: present, forwards: aws.forwards, memoryMiB: host.memoryMiB });
    vm.start();
    const seconds = await vm.waitForCloudInit(25 * 60_000);
    console.log(`boot times:\n  shard-0-primary, a volume missing: cloud-init final stage done ${seconds.toFixed(0)} s after launch`);
    await vm.waitForAgent(120_000);
});

afterAll(async () => {
    await vm?.stop();
    await aws?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("a shard primary with a volume that never arrives", () => {
    test("the boot fails with the volume named, after waiting; cloud-init reports the error", async () => {
        const missing = host.volumeIds[3];
        expect(vm.consoleText()).toMatch(new RegExp(`shard-raid: waiting for volumes: ${missing}`));
        expect(vm.consoleText()).toMatch(new RegExp(`shard-raid: volumes not attached after 120s: ${missing} \\(nothing was created or changed\\)`));
        const status = await vm.exec("cloud-init status --long");
        expect(status.out).toMatch(/status: error/);
        expect(status.code).not.toBe(0);
    });

    test("nothing was created: no array, the three disks still blank, no cluster, no finished marker", async () => {
        expect((await vm.exec("cat /proc/mdstat")).out).not.toMatch(/^md\d+ :/m);
        for (const disk of ["nvme0n1", "nvme1n1", "nvme2n1"]) {
            const examine = await vm.exec(`mdadm --examine /dev/${disk}`);
            expect(examine.code, examine.out).not.toBe(0);
            expect((await vm.exec(`blkid -p /dev/${disk}`)).out).toBe("");
        }
        expect((await vm.exec("findmnt /data")).code).not.toBe(0);
        expect((await vm.exec("test -e /var/lib/instagram/role-done")).code).not.toBe(0);
        expect((await vm.exec("ls /data/postgresql")).code).not.toBe(0);
    });
});
