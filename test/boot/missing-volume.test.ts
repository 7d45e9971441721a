/**
 * A shard primary whose fourth volume never arrives: the boot waits (the image shortens the role's 10
 * minutes to 2), then fails with a message naming the volume, creates no array, leaves the three disks that
 * did arrive untouched, and never writes the role's finished marker; `cloud-init status` says error.
 */
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { HostUnderTest, stackUnderTest } from "./harness/hosts";
import { BootSession } from "./harness/session";
import { makeDisk, Vm } from "./harness/vm";

let host: HostUnderTest;
let session: BootSession;
let vm: Vm;

beforeAll(async () => {
    const stack = await stackUnderTest();
    host = stack.host("shard-0-primary");
    session = new BootSession(stack, "127.0.17", "boot-missing-");
    const present = host.volumeIds.slice(0, 3).map((volumeId, i) => ({ volumeId, file: makeDisk(path.join(session.dir, `vol${i}.img`), 2) }));
    ({ vm } = await session.boot(host, { label: "a volume missing", disks: present }));
});

afterAll(async () => {
    await session?.close();
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

describe("the IAM policies", () => {
    test("every AWS call the failed boot made is allowed by the shard role's rendered IAM policy", async () => {
        // It may have made none before the RAID step gave up: only the verdict on those it made is asserted.
        expect((await session.deniedAwsCalls()).denied).toEqual([]);
    });
});
