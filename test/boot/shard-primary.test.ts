/**
 * A shard's hosts boot from the user data the program renders for them (byte for byte), in VMs whose NVMe
 * disks carry the program's volume IDs as serials, with nothing to talk to but stand-ins for IMDS and SSM
 * and each other on a private segment at the program's addresses:
 *   - the primary's first boot, with its fourth volume attached only after the RAID script started waiting
 *     (as EC2 attaches volumes after the instance starts): RAID 10 created and mounted, PostgreSQL on it,
 *     pgbouncer with SCRAM, the logical-shard schemas and next_id(), cloud-init done with the role's marker;
 *   - the standby clones the primary through its slot and streams: a row written on the primary is read on it;
 *   - the primary is replaced: a fresh root image with the same four disks assembles the array instead of
 *     creating one and finds the row written before; its backup timer's service takes a backup;
 *   - the primary is replaced with blank volumes (as a change of AZ does): it restores its shard from the
 *     backup bucket (the session's S3 stand-in, which every VM shares) instead of serving an empty cluster;
 *   - beside the first boot, a primary whose fourth volume never arrives: the boot waits (the image shortens
 *     the role's 10 minutes to 2), then fails with a message naming the volume, creates no array, leaves the
 *     three disks that did arrive untouched, and never writes the role's finished marker; `cloud-init status`
 *     says error. It boots beside the first boot (one vCPU, off the private segment) because it spends most of
 *     its boot waiting: a VM of its own after the others cost the suite three to four minutes.
 */
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { HostUnderTest, stackUnderTest } from "./harness/hosts";
import { BootSession, expectBootDone, sh } from "./harness/session";
import { AwsStandIns, publishedMetrics } from "./harness/aws";
import { makeDisk, Vm, VmDisk } from "./harness/vm";
import { decodeId } from "../../core/ids";

let session: BootSession;
let primary: HostUnderTest;
let standby: HostUnderTest;
let primaryDisks: VmDisk[];
let appPassword: string;

beforeAll(async () => {
    const stack = await stackUnderTest({ "instagram:shardStandby": true });
    primary = stack.host("shard-0-primary");
    standby = stack.host("shard-0-standby");
    appPassword = stack.parameters["/instagram/dev/postgres-app"];
    session = new BootSession(stack, "127.0.15", "boot-shard-");
    primaryDisks = primary.volumeIds.map((volumeId, i) => ({ volumeId, file: makeDisk(path.join(session.dir, `primary-vol${i}.img`), 2) }));
});

afterAll(async () => {
    await session?.close();
});

const psql = (vm: Vm, sql: string) => sh(vm, `runuser -u postgres -- psql -d instagram -tAc "${sql}"`);
const throughPgbouncer = (sql: string) => `PGPASSWORD='${appPassword}' psql "host=127.0.0.1 port=6432 dbname=instagram user=app" -tAc "${sql}"`;

let firstBoot: Promise<{ vm: Vm; aws: AwsStandIns }>;
let missingVolumeVm: Vm;

beforeAll(async () => {
    // Both launch now; each describe below waits for its own VM. The hot-add must not wait for the other VM's
    // tests (the RAID script gives up after 2 minutes), so the first boot's steps run on their own.
    const present = primary.volumeIds.slice(0, 3).map((volumeId, i) => ({ volumeId, file: makeDisk(path.join(session.dir, `missing-vol${i}.img`), 2) }));
    ({ vm: missingVolumeVm } = await session.launch(primary, { label: "a volume missing", disks: present, cpus: 1 }));
    firstBoot = (async () => {
        const late = primaryDisks[3];
        const booted = await session.launch(primary, { label: "first boot", disks: primaryDisks.slice(0, 3), privateNet: true });
        await booted.vm.waitForConsole(new RegExp(`shard-raid: waiting for volumes: ${late.volumeId}`), 20 * 60_000);
        await booted.vm.hotAddDisk(late, 0);
        await session.ready(booted.vm, "first boot");
        return booted;
    })();
    // Awaited by the first boot's describe; until then a failure must not count as unhandled.
    firstBoot.catch(() => undefined);
});

describe("a shard primary with a volume that never arrives", () => {
    beforeAll(async () => {
        await session.ready(missingVolumeVm, "a volume missing");
    });

    test("the boot fails with the volume named, after waiting; cloud-init reports the error", async () => {
        const missing = primary.volumeIds[3];
        expect(missingVolumeVm.consoleText()).toMatch(new RegExp(`shard-raid: waiting for volumes: ${missing}`));
        expect(missingVolumeVm.consoleText()).toMatch(new RegExp(`shard-raid: volumes not attached after 120s: ${missing} \\(nothing was created or changed\\)`));
        const status = await missingVolumeVm.exec("cloud-init status --long");
        expect(status.out).toMatch(/status: error/);
        expect(status.code).not.toBe(0);
    });

    test("nothing was created: no array, the three disks still blank, no cluster, no finished marker", async () => {
        const vm = missingVolumeVm;
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

    afterAll(async () => {
        await missingVolumeVm?.stop();
    });
});

describe("a shard primary's first boot, its last volume attached late", () => {
    let vm: Vm;
    let aws: AwsStandIns;
    beforeAll(async () => {
        ({ vm, aws } = await firstBoot);
    });

    test("the RAID script waited for the late volume, then went on", async () => {
        expect(vm.consoleText()).not.toMatch(/volumes not attached after/);
        expect(await sh(vm, "cat /sys/block/md*/md/raid_disks")).toBe("4");
    });

    test("cloud-init is done without an error and the role's marker is there; the host tools are installed from the artifacts bucket", async () => {
        await expectBootDone(vm, "common postgres-primary");
        expect(await sh(vm, "instagram-shard-move 2>&1; echo \"exit $?\"")).toMatch(/usage: shard-move ENV_FILE[\s\S]*exit 2$/);
        expect(await sh(vm, "test -x /usr/local/sbin/instagram-shard-promote && echo yes")).toBe("yes");
        expect(aws.ssmReads.sort()).toEqual(["/instagram/dev/pgbackrest-cipher", "/instagram/dev/pgbouncer-auth", "/instagram/dev/postgres-app", "/instagram/dev/postgres-replication"]);
    });

    test("its first full backup and its WAL are in the backup bucket under the shard's prefix, encrypted; the backup timers are set", async () => {
        expect(vm.consoleText()).toMatch(/no backup of shard-0 has ever been taken: initializing a new shard/);
        const backups = session.backups.keys("pgbackrest/shard-0/backup/shard-0/");
        expect(backups.some((k) => /\/\d{8}-\d{6}F\/backup\.manifest$/.test(k))).toBe(true);
        expect(session.backups.objects.get("pgbackrest/shard-0/backup/shard-0/backup.info")!.subarray(0, 8).toString("latin1")).toBe("Salted__");
        await psql(vm, "select pg_switch_wal()");
        let archived = "";
        for (let i = 0; i < 30 && archived !== "t"; i++) {
            archived = await psql(vm, "select archived_count > 0 and failed_count = 0 from pg_stat_archiver");
            if (archived !== "t") await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        expect(archived).toBe("t");
        expect(session.backups.keys("pgbackrest/shard-0/archive/shard-0/").length).toBeGreaterThan(1);
        expect(await sh(vm, "systemctl is-enabled instagram-shard-backup-full.timer instagram-shard-backup-diff.timer")).toBe("enabled\nenabled");
        expect(await sh(vm, "systemctl show -p TimersCalendar --value instagram-shard-backup-full.timer")).toMatch(/Sun \*-\*-\* 02:00:00 UTC/);
    });

    test("publishes its data volume's space and IO and its WAL archive lag to CloudWatch once a minute (the script from its host tools)", async () => {
        const want = ["DataVolumeIoBusyPercent", "DataVolumeUsedPercent", "WalArchiveLagSeconds"];
        const deadline = Date.now() + 180_000;
        while (publishedMetrics(aws, "shard-0-primary").join() !== want.join() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2000));
        expect(publishedMetrics(aws, "shard-0-primary")).toEqual(want);
    });

    test("the four volumes are a RAID 10 array, XFS striped to match, mounted on /data", async () => {
        const detail = await sh(vm, "mdadm --detail /dev/md/pgdata");
        expect(detail).toMatch(/Raid Level : raid10/);
        expect(detail).toMatch(/Raid Devices : 4/);
        expect(detail).toMatch(/State : (clean|active)/);
        expect(await sh(vm, "findmnt -no FSTYPE /data")).toBe("xfs");
        expect(await sh(vm, "findmnt -no OPTIONS /data")).toMatch(/noatime/);
        // 256 KiB chunks over 2 data disks: sunit 64 and swidth 128 blocks of 4 KiB.
        expect(await sh(vm, "xfs_info /data")).toMatch(/sunit=64\s+swidth=128 blks/);
    });

    test("PostgreSQL runs on the array with the logical shards; pgbouncer takes the app's password (SCRAM); next_id() works", async () => {
        expect(await sh(vm, "runuser -u postgres -- psql -tAc 'show data_directory'")).toMatch(/^\/data\/postgresql\/\d+\/main$/);
        expect(await psql(vm, "select count(*) from pg_namespace where nspname ~ '^shard[0-9]{4}$'")).toBe("64");
        const id = await sh(vm, throughPgbouncer("insert into shard0005.users (username) values ('boot-test') returning id"));
        expect(decodeId(BigInt(id.split("\n")[0])).logicalShard).toBe(5);
        expect(await sh(vm, "grep -E '^auth_type' /etc/pgbouncer/pgbouncer.ini")).toMatch(/scram-sha-256/);
    });

    describe("its standby, on the private network", () => {
        let standbyVm: Vm;
        let standbyAws: AwsStandIns;
        beforeAll(async () => {
            const disks = standby.volumeIds.map((volumeId, i) => ({ volumeId, file: makeDisk(path.join(session.dir, `standby-vol${i}.img`), 2) }));
            ({ vm: standbyVm, aws: standbyAws } = await session.boot(standby, { label: "clone of the primary", disks, privateNet: true }));
        });

        test("cloned the primary through its slot and streams from it", async () => {
            expect(await sh(standbyVm, "cat /var/lib/instagram/role-done")).toBe("common postgres-standby");
            expect(await sh(standbyVm, "runuser -u postgres -- psql -tAc 'select pg_is_in_recovery()'")).toBe("t");
            expect(await psql(vm, "select application_name || ' ' || state from pg_stat_replication")).toBe("shard-0-standby streaming");
            expect(await psql(vm, "select active from pg_replication_slots")).toBe("t");
            expect(await sh(standbyVm, "findmnt -no FSTYPE /data")).toBe("xfs");
        });

        test("publishes its replication lag (and its data volume's figures)", async () => {
            const want = ["DataVolumeIoBusyPercent", "DataVolumeUsedPercent", "ReplicationLagSeconds"];
            const deadline = Date.now() + 180_000;
            while (publishedMetrics(standbyAws, "shard-0-standby").join() !== want.join() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2000));
            expect(publishedMetrics(standbyAws, "shard-0-standby")).toEqual(want);
        });

        test("a row written on the primary is read on the standby", async () => {
            await sh(vm, throughPgbouncer("insert into shard0005.users (username) values ('streamed')"));
            let seen = "";
            for (let i = 0; i < 30 && seen !== "1"; i++) {
                seen = await psql(standbyVm, "select count(*) from shard0005.users where username = 'streamed'");
                if (seen !== "1") await new Promise((resolve) => setTimeout(resolve, 1000));
            }
            expect(seen).toBe("1");
            const write = await standbyVm.exec(`runuser -u postgres -- psql -d instagram -tAc "insert into shard0005.users (username) values ('nope')"`);
            expect(write.err).toMatch(/read-only transaction/);
        });

        afterAll(async () => {
            await standbyVm?.stop();
        });
    });

    afterAll(async () => {
        await vm?.stop();
    });
});

describe("a replaced shard primary", () => {
    test("a fresh root image with the same four volumes assembles the array instead of creating one, and the data is there", async () => {
        const { vm } = await session.boot(primary, { label: "replacement", disks: primaryDisks, privateNet: true });
        const log = vm.consoleText();
        expect(log).not.toMatch(/creating RAID/);
        expect(log).toMatch(/shard-raid: (assembling existing array|array .* is already running)/);
        expect(await psql(vm, "select string_agg(username, ',' order by username) from shard0005.users")).toBe("boot-test,streamed");
        // What the daily timer starts: an incremental backup now (it also archives the WAL up to now).
        await psql(vm, "insert into shard0005.users (username) values ('backed-up')");
        await sh(vm, "systemctl start instagram-shard-backup@incr.service", 600_000);
        expect(await sh(vm, "journalctl -u instagram-shard-backup@incr.service --no-pager -o cat")).toMatch(/incr backup of shard-0 taken in \d+ s/);
        await vm.stop();
    });
});

describe("a shard primary replaced with blank volumes", () => {
    test("restores its shard from the backup bucket instead of initializing an empty cluster, then serves", async () => {
        const blank = primary.volumeIds.map((volumeId, i) => ({ volumeId, file: makeDisk(path.join(session.dir, `blank-vol${i}.img`), 2) }));
        const { vm } = await session.boot(primary, { label: "blank volumes", disks: blank, privateNet: true });
        const log = vm.consoleText();
        expect(log).toMatch(/shard-raid: all 4 disks are blank: creating RAID 10/);
        expect(log).toMatch(/blank volumes, and shard-0's repository holds its backups: restoring the shard/);
        expect(log).not.toMatch(/initializing a new shard/);
        await expectBootDone(vm, "common postgres-primary");
        expect(await psql(vm, "select string_agg(username, ',' order by username) from shard0005.users")).toBe("backed-up,boot-test,streamed");
        expect(await psql(vm, "select pg_is_in_recovery()")).toBe("f");
        expect(await sh(vm, throughPgbouncer("select count(*) from shard0005.users"))).toBe("3");
        await vm.stop();
    });
});

describe("the IAM policies", () => {
    // The failed boot's calls are among them (it may have made none before the RAID step gave up).
    test("every AWS call each boot made (SSM, S3, CloudWatch, and pgBackRest's backup bucket) is allowed by the shard role's rendered IAM policy", async () => {
        const { calls, denied } = await session.deniedAwsCalls();
        expect(denied).toEqual([]);
        expect(calls).toBeGreaterThan(0);
    });
});
