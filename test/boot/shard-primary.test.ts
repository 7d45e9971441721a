/**
 * A shard primary boots from the user data the program renders for it (byte for byte), in a VM with four
 * EBS-like NVMe disks whose serials are the program's volume IDs, and nothing else to talk to but stand-ins
 * for IMDS and SSM: RAID 10 created and mounted, PostgreSQL on it, pgbouncer with SCRAM, the logical-shard
 * schemas and next_id(), cloud-init done with the role's marker. Then the host is replaced: a fresh root
 * image with the same four disks assembles the array and finds the row written on the first boot.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bootImage, BootImage } from "./harness/image";
import { AwsStandIns, startAwsStandIns } from "./harness/aws";
import { makeDisk, Vm, VmDisk } from "./harness/vm";
import { decodeId } from "../../cloud-init/configs/postgres-sql";
import { shardPrimaryUnderTest } from "./harness/shard-host";

const BOOT_TIMEOUT_MS = 25 * 60_000;
let image: BootImage;
let aws: AwsStandIns;
let dir: string;
let disks: VmDisk[];
let userData: string;
/** The VM gets the instance type's memory: PostgreSQL's shared_buffers is sized from it. */
let memoryMiB: number;
let appPassword: string;
const vms: Vm[] = [];
const bootTimes: string[] = [];

beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("the boot test builds its image with debootstrap: run as root");
    const host = await shardPrimaryUnderTest();
    userData = host.userData;
    memoryMiB = host.memoryMiB;
    appPassword = host.parameters["/instagram/dev/postgres-app"];
    aws = await startAwsStandIns("127.0.15.1", { parameters: host.parameters });
    image = bootImage();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "boot-shard-"));
    disks = host.volumeIds.map((volumeId, i) => ({ volumeId, file: makeDisk(path.join(dir, `vol${i}.img`), 2) }));
});

afterAll(async () => {
    for (const vm of vms) await vm.stop();
    await aws?.close();
    if (bootTimes.length) console.log(`boot times:\n${bootTimes.map((b) => `  ${b}`).join("\n")}`);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function boot(name: string, rootDir: string): Promise<Vm> {
    const vm = new Vm({ name: "shard-0-primary", dir: path.join(dir, rootDir), image, userData, disks, forwards: aws.forwards, memoryMiB });
    vms.push(vm);
    vm.start();
    const seconds = await vm.waitForCloudInit(BOOT_TIMEOUT_MS);
    bootTimes.push(`${name}: cloud-init final stage done ${seconds.toFixed(0)} s after launch`);
    await vm.waitForAgent(120_000);
    return vm;
}

const sh = async (vm: Vm, command: string) => {
    const r = await vm.exec(command, 120_000);
    if (r.code !== 0) throw new Error(`\`${command}\` exited ${r.code}: ${r.err}${r.out}`);
    return r.out.trim();
};

describe("a shard primary's first boot", () => {
    let vm: Vm;
    beforeAll(async () => {
        vm = await boot("shard-0-primary, first boot", "first");
    });

    test("cloud-init is done without an error and the role's marker is there", async () => {
        const status = await vm.exec("cloud-init status --long");
        expect(status.out).toMatch(/status: done/);
        expect(status.code, status.out).toBe(0);
        expect(await sh(vm, "cat /var/lib/instagram/role-done")).toBe("common postgres-primary");
        expect(aws.ssmReads.sort()).toEqual(["/instagram/dev/pgbouncer-auth", "/instagram/dev/postgres-app", "/instagram/dev/postgres-replication"]);
    });

    test("the four volumes are a RAID 10 array, XFS striped to match, mounted on /data", async () => {
        const detail = await sh(vm, "mdadm --detail /dev/md/pgdata");
        expect(detail).toMatch(/Raid Level : raid10/);
        expect(detail).toMatch(/Raid Devices : 4/);
        expect(await sh(vm, "findmnt -no FSTYPE /data")).toBe("xfs");
        expect(await sh(vm, "findmnt -no OPTIONS /data")).toMatch(/noatime/);
        // 256 KiB chunks over 2 data disks: sunit 64 and swidth 128 blocks of 4 KiB.
        expect(await sh(vm, "xfs_info /data")).toMatch(/sunit=64\s+swidth=128 blks/);
    });

    test("PostgreSQL runs on the array with the logical shards; pgbouncer takes the app's password (SCRAM); next_id() works", async () => {
        expect(await sh(vm, "runuser -u postgres -- psql -tAc 'show data_directory'")).toMatch(/^\/data\/postgresql\/\d+\/main$/);
        expect(await sh(vm, "runuser -u postgres -- psql -d instagram -tAc \"select count(*) from pg_namespace where nspname ~ '^shard[0-9]{4}$'\"")).toBe("64");
        const insert = `PGPASSWORD='${appPassword}' psql "host=127.0.0.1 port=6432 dbname=instagram user=app" -tAc "insert into shard0005.users (username) values ('boot-test') returning id"`;
        const id = await sh(vm, insert);
        expect(decodeId(BigInt(id.split("\n")[0])).logicalShard).toBe(5);
        expect(await sh(vm, "grep -E '^auth_type' /etc/pgbouncer/pgbouncer.ini")).toMatch(/scram-sha-256/);
    });

    afterAll(async () => {
        await vm?.stop();
    });
});

describe("a replaced shard primary", () => {
    test("a fresh root image with the same four volumes assembles the array instead of creating one, and the data is there", async () => {
        const vm = await boot("shard-0-primary, replacement", "replacement");
        const log = vm.consoleText();
        expect(log).not.toMatch(/creating RAID/);
        expect(log).toMatch(/shard-raid: (assembling existing array|array .* is already running)/);
        expect(await sh(vm, "runuser -u postgres -- psql -d instagram -tAc \"select username from shard0005.users\"")).toBe("boot-test");
        await vm.stop();
    });
});
