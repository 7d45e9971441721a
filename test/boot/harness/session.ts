/**
 * One boot test file's VMs and everything around them: the image, a scratch directory, per-VM stand-ins
 * for IMDS/SSM/S3 (each VM has its own instance metadata: its own private address), the private segment
 * between them, boot times to print, and a close() that stops every VM by its pid whatever happened.
 * What each VM's host asked of AWS is judged against its role's rendered IAM policy (deniedAwsCalls).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "vitest";
import { bootImage, BootImage } from "./image";
import { AwsStandIns, BOOT_CREDENTIALS, startAwsStandIns } from "./aws";
import { FakeS3 } from "../../harness/fake-s3";
import { AwsCall, callKey } from "../../harness/aws-calls";
import { callsDenied } from "../../harness/iam-evaluate";
import { HostUnderTest, StackUnderTest } from "./hosts";
import { PrivateNet, startPrivateNet } from "./private-net";
import { Vm, VmDisk } from "./vm";
import { shellQuote } from "../../../core/shell-quote";
import { ROLE_DONE_MARKER } from "../../../cloud-init/role";

export const BOOT_TIMEOUT_MS = 25 * 60_000;

export interface BootOptions {
    /** A label for the boot-times table ("first boot", "replacement"). */
    readonly label?: string;
    readonly disks?: readonly VmDisk[];
    /** Join the private segment with the host's address (for hosts that talk to each other). */
    readonly privateNet?: boolean;
    readonly cpus?: number;
    /** S3 objects the host may download, by path-style key ("/bucket/key"). */
    readonly objects?: Record<string, Buffer>;
}

export interface BootedVm {
    readonly vm: Vm;
    readonly aws: AwsStandIns;
}

export class BootSession {
    readonly dir: string;
    readonly image: BootImage;
    private readonly vms: Vm[] = [];
    private readonly standIns: AwsStandIns[] = [];
    /** Each VM launched with its stand-ins (a host booted twice is here twice). */
    private readonly launched: { host: HostUnderTest; aws: AwsStandIns }[] = [];
    private readonly bootTimes: string[] = [];
    /** The promise, not the hub: VMs launched together must share one segment. */
    private net?: Promise<PrivateNet>;
    private nextLoopback = 1;
    /** The backup bucket every VM of the session shares (a replaced host restores from what the first wrote). */
    readonly backups: FakeS3;
    private backupsAddress?: Promise<{ host: string; port: number }>;

    /** `loopbackNet` ("127.0.15") is where this file's stand-ins listen, one address per VM. */
    constructor(readonly stack: StackUnderTest, private readonly loopbackNet: string, prefix: string) {
        if (process.getuid?.() !== 0) throw new Error("the boot test builds its image with debootstrap: run as root");
        this.image = bootImage(stack.packages);
        this.backups = new FakeS3(stack.backupBucket, BOOT_CREDENTIALS);
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    }

    /** Starts `host`'s VM (the program's user data, the instance type's memory); does not wait. */
    async launch(host: HostUnderTest, o: BootOptions = {}): Promise<BootedVm> {
        this.backupsAddress ??= this.backups.start(`${this.loopbackNet}.249`);
        const aws = await startAwsStandIns(`${this.loopbackNet}.${this.nextLoopback++}`, { parameters: this.stack.parameters, objects: { ...this.stack.objects, ...o.objects }, privateIp: host.privateIp, backupS3: await this.backupsAddress });
        this.standIns.push(aws);
        this.launched.push({ host, aws });
        let privateNet;
        if (o.privateNet) {
            this.net ??= startPrivateNet(`${this.loopbackNet}.250`);
            privateNet = { port: await (await this.net).port(), address: host.privateIp, prefixLength: this.stack.vpcPrefixLength };
        }
        const label = o.label ?? "boot";
        const vm = new Vm({
            name: host.name,
            dir: path.join(this.dir, `${host.name}-${label}`.replace(/[^A-Za-z0-9-]+/g, "-")),
            image: this.image,
            userData: host.userDataBytes,
            disks: o.disks,
            forwards: aws.forwards,
            memoryMiB: host.memoryMiB,
            cpus: o.cpus,
            privateNet,
        });
        this.vms.push(vm);
        vm.start();
        return { vm, aws };
    }

    /** Waits for cloud-init's end and the guest agent; records the boot time. */
    async ready(vm: Vm, label = "boot"): Promise<Vm> {
        const seconds = await vm.waitForCloudInit(BOOT_TIMEOUT_MS);
        this.bootTimes.push(`${vm.o.name}, ${label}: cloud-init final stage done ${seconds.toFixed(0)} s after launch`);
        await vm.waitForAgent(120_000);
        return vm;
    }

    async boot(host: HostUnderTest, o: BootOptions = {}): Promise<BootedVm> {
        const booted = await this.launch(host, o);
        await this.ready(booted.vm, o.label);
        return booted;
    }

    /**
     * Every AWS call the session's hosts made so far (each VM's SSM, S3 and CloudWatch stand-ins, and the shared
     * backup bucket), evaluated against the inline IAM policies the program renders for each VM's role: how many
     * distinct calls there were, and the denied ones with the reason. The backup bucket is pgBackRest's
     * repository, which only the shard hosts use (cloud-init/roles/postgres.ts): its calls are their shard's
     * role's, so a session whose shard hosts belong to more than one shard cannot attribute them.
     */
    async deniedAwsCalls(): Promise<{ calls: number; denied: string[] }> {
        const byRole = new Map<string, Map<string, AwsCall>>();
        const add = (role: string, calls: AwsCall[]) => {
            const known = byRole.get(role) ?? new Map<string, AwsCall>();
            for (const c of calls) known.set(callKey(c), c);
            byRole.set(role, known);
        };
        for (const { host, aws } of this.launched) add(host.identity, aws.calls.distinct());
        const backupCalls = this.backups.calls.distinct();
        if (backupCalls.length > 0) {
            const shards = [...new Set(this.launched.filter(({ host }) => host.role === "shard").map(({ host }) => host.identity))];
            if (shards.length !== 1) throw new Error(`the backup bucket's calls cannot be attributed to one shard's role (the session's shard hosts: ${shards.join(", ") || "none"})`);
            add(shards[0], backupCalls);
        }
        let calls = 0;
        const denied: string[] = [];
        for (const [role, known] of byRole) {
            calls += known.size;
            denied.push(...await callsDenied(this.stack.run, role, [...known.values()]));
        }
        return { calls, denied };
    }

    async close(): Promise<void> {
        for (const vm of this.vms) await vm.stop();
        for (const aws of this.standIns) await aws.close();
        if (this.backupsAddress) await this.backups.stop();
        await (await this.net)?.close();
        if (this.bootTimes.length) console.log(`boot times:\n${this.bootTimes.map((b) => `  ${b}`).join("\n")}`);
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

/** Runs a command in the VM; throws with its output unless it exits 0. */
export async function sh(vm: Vm, command: string, timeoutMs = 120_000): Promise<string> {
    const r = await vm.exec(command, timeoutMs);
    if (r.code !== 0) throw new Error(`${vm.o.name}: \`${command}\` exited ${r.code}: ${r.err}${r.out}`);
    return r.out.trim();
}

/** The boot finished: `cloud-init status` done with exit 0, and the role's marker lists `roles` ("common app"). */
export async function expectBootDone(vm: Vm, roles: string): Promise<void> {
    const status = await vm.exec("cloud-init status --long");
    // A failed boot says why: the VM and its disks are gone once the session closes, so the evidence goes
    // into the failure (the end of the boot's output, the failed units, the errors journald has).
    const why = status.out.includes("status: done") && status.code === 0 ? "" : (await vm.exec(
        "tail -n 80 /var/log/cloud-init-output.log; echo '--- failed units:'; systemctl --failed --no-legend; " +
        "echo '--- errors this boot (a unit that failed and was restarted is no longer listed above):'; journalctl -b -p err --no-pager -n 60",
    )).out;
    expect(status.out, `${vm.o.name}: cloud-init status --long:\n${status.out}\n${why}`).toMatch(/status: done/);
    expect(status.code, status.out).toBe(0);
    expect(await sh(vm, `cat ${ROLE_DONE_MARKER}`)).toBe(roles);
    // An optional unit that did not start in time does not fail the boot (start-units.sh), but the run says so:
    // the tests of that unit fail unless systemd got it running later.
    const degraded = (await vm.exec("cat /var/lib/instagram/degraded-units 2>/dev/null")).out.trim();
    if (degraded) console.log(`${vm.o.name}: booted degraded, without ${degraded.split("\n").join(", ")}`);
}

/**
 * Talks TCP from inside the VM (python3 is in the image; the VMs have no nc): connects to ADDRESS:PORT,
 * sends `send`, returns what comes back until the peer closes or 5 s pass. A connection the peer accepts
 * and then closes or resets returns ""; a refused one throws.
 */
export async function tcpFromVm(vm: Vm, address: string, port: number, send: string): Promise<string> {
    const script = [
        "import socket,sys",
        `s=socket.create_connection((${JSON.stringify(address)},${port}),timeout=10)`,
        "print('connected',flush=True)",
        `s.sendall(${JSON.stringify(send)}.encode())`,
        "s.settimeout(5)",
        "out=b''",
        "try:",
        "    while True:",
        "        d=s.recv(65536)",
        "        if not d: break",
        "        out+=d",
        "except (socket.timeout, ConnectionResetError): pass",
        "sys.stdout.write(out.decode(errors='replace'))",
    ].join("\n");
    return sh(vm, `python3 -c ${shellQuote(script)}`);
}
