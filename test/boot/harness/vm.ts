/**
 * A VM under qemu (software emulation) booting the boot-test image with real user data: a NoCloud seed,
 * EBS-like NVMe disks named by their volume IDs, no network but the test's stand-ins (guestfwd to loopback,
 * through socat), the guest agent to look inside, QMP to hot-add a disk. Stopped by its pid, always.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { BootImage } from "./image";
import { PrivateNetPort } from "./private-net";

export interface VmDisk {
    /** The EBS volume ID ("vol-0abc..."): its NVMe serial is the ID without the hyphen, as on EC2. */
    readonly volumeId: string;
    readonly file: string;
}

export interface Forward {
    /** Guest-side address (10.0.2.x) and port the VM connects to. */
    readonly guest: string;
    readonly guestPort: number;
    /** Host loopback address and port of the stand-in. */
    readonly host: string;
    readonly hostPort: number;
}

export interface VmOptions {
    readonly name: string;
    readonly dir: string;
    readonly image: BootImage;
    /** The user data as EC2 would hand it over (cloud-init unzips gzip itself). */
    readonly userData: string | Buffer;
    readonly disks?: readonly VmDisk[];
    readonly forwards: readonly Forward[];
    /** eth1 on the test's private segment (private-net.ts) with the host's private address from the program. */
    readonly privateNet?: { readonly port: PrivateNetPort; readonly address: string; readonly prefixLength: number };
    readonly memoryMiB?: number;
    /** Virtual CPUs (default 2: every core this machine has). */
    readonly cpus?: number;
    /** Keep this root image (a replacement boots a fresh one; a reboot reuses it). */
    readonly rootImage?: string;
}

export const serialOf = (volumeId: string) => volumeId.replace(/-/g, "");

/** A locally administered MAC derived from the address, so every VM on the segment has its own. */
const macOf = (ipv4: string) => `52:54:${ipv4.split(".").map((o) => Number(o).toString(16).padStart(2, "0")).join(":")}`;

export function makeDisk(file: string, sizeGiB: number): string {
    const r = spawnSync("qemu-img", ["create", "-q", "-f", "raw", file, `${sizeGiB}G`], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`qemu-img create ${file}: ${r.stderr}`);
    return file;
}

export class Vm {
    private proc?: ChildProcess;
    readonly console: string;
    readonly root: string;
    private readonly qga: string;
    private readonly qmp: string;
    startedAt = 0;

    constructor(readonly o: VmOptions) {
        fs.mkdirSync(o.dir, { recursive: true });
        this.console = path.join(o.dir, "console.log");
        this.root = o.rootImage ?? path.join(o.dir, "root.img");
        this.qga = path.join(o.dir, "qga.sock");
        this.qmp = path.join(o.dir, "qmp.sock");
    }

    start(): void {
        const o = this.o;
        if (!fs.existsSync(this.root)) {
            const cp = spawnSync("cp", ["--sparse=always", o.image.root, this.root]);
            if (cp.status !== 0) throw new Error(`copying the root image: ${cp.stderr}`);
        }
        const seed = path.join(o.dir, "seed");
        fs.mkdirSync(seed, { recursive: true });
        fs.writeFileSync(path.join(seed, "user-data"), o.userData);
        fs.writeFileSync(path.join(seed, "meta-data"), `instance-id: i-${o.name}\nlocal-hostname: ${o.name}\n`);
        // What EC2's platform does for a host: DHCP on the first NIC (here, the stand-ins' network) and, on the
        // private segment, the address the program gave the instance.
        const eth1 = o.privateNet ? `  eth1:\n    addresses: [${o.privateNet.address}/${o.privateNet.prefixLength}]\n` : "";
        fs.writeFileSync(path.join(seed, "network-config"), `version: 2\nethernets:\n  eth0:\n    dhcp4: true\n${eth1}`);
        const iso = path.join(o.dir, "seed.iso");
        const r = spawnSync("cloud-localds", ["--network-config", path.join(seed, "network-config"), iso, path.join(seed, "user-data"), path.join(seed, "meta-data")], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`cloud-localds: ${r.stderr}`);
        const forwards = o.forwards.map((f) => `,guestfwd=tcp:${f.guest}:${f.guestPort}-cmd:socat - TCP:${f.host}:${f.hostPort}`).join("");
        const args = [
            "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", String(o.cpus ?? 2), "-m", String(o.memoryMiB ?? 2048), "-machine", "q35",
            "-display", "none", "-nodefaults", "-no-reboot",
            "-kernel", o.image.vmlinuz, "-initrd", o.image.initrd, "-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0",
            "-drive", `file=${this.root},if=virtio,format=raw`,
            "-drive", `file=${iso},if=virtio,format=raw,readonly=on`,
            "-netdev", `user,id=n0,restrict=on${forwards}`, "-device", "virtio-net-pci,netdev=n0",
            ...(o.privateNet ? ["-netdev", `${o.privateNet.port.netdev},id=n1`, "-device", `virtio-net-pci,netdev=n1,mac=${macOf(o.privateNet.address)}`] : []),
            // A free PCIe root port: q35's root bus cannot hot-plug, a root port can (a volume attached later).
            "-device", "pcie-root-port,id=hotplug0,chassis=1,slot=1",
            ...(o.disks ?? []).flatMap((d, i) => ["-drive", `file=${d.file},if=none,id=vol${i},format=raw`, "-device", `nvme,drive=vol${i},serial=${serialOf(d.volumeId)}`]),
            "-chardev", `socket,id=qga0,path=${this.qga},server=on,wait=off`, "-device", "virtio-serial", "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
            "-qmp", `unix:${this.qmp},server=on,wait=off`,
            "-serial", `file:${this.console}`,
            "-pidfile", path.join(o.dir, "qemu.pid"),
        ];
        this.startedAt = Date.now();
        this.proc = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        this.proc.stderr!.on("data", (d) => (stderr += d));
        this.proc.on("exit", (code) => { if (code) fs.appendFileSync(this.console, `\n[qemu exited ${code}: ${stderr}]\n`); });
    }

    get running(): boolean {
        return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
    }

    consoleText(): string {
        return fs.existsSync(this.console) ? fs.readFileSync(this.console, "utf8") : "";
    }

    /** Waits for cloud-init's final stage to finish; returns the seconds since the VM started. */
    async waitForCloudInit(timeoutMs: number): Promise<number> {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
            if (/Cloud-init v\. .* finished at/.test(this.consoleText())) return (Date.now() - this.startedAt) / 1000;
            if (!this.running) throw new Error(`${this.o.name}: qemu exited during boot; console ends:\n${this.consoleText().slice(-3000)}`);
            await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        throw new Error(`${this.o.name}: cloud-init did not finish within ${timeoutMs / 1000} s; console ends:\n${this.consoleText().slice(-3000)}`);
    }

    /** Run a shell command inside the VM through the guest agent (generous default: `cloud-init status`, a Python start, took 56 s on a VM sharing the cores). */
    async exec(command: string, timeoutMs = 180_000): Promise<{ code: number; out: string; err: string }> {
        const started = await this.agent({ execute: "guest-exec", arguments: { path: "/bin/sh", arg: ["-c", command], "capture-output": true } });
        const pid = started.pid as number;
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const s = await this.agent({ execute: "guest-exec-status", arguments: { pid } });
            if (s.exited) {
                const dec = (b?: string) => (b ? Buffer.from(b, "base64").toString("utf8") : "");
                return { code: s.exitcode ?? -1, out: dec(s["out-data"]), err: dec(s["err-data"]) };
            }
            if (Date.now() > deadline) throw new Error(`${this.o.name}: \`${command}\` did not finish within ${timeoutMs / 1000} s`);
            await new Promise((resolve) => setTimeout(resolve, 300));
        }
    }

    /** Waits until the guest agent answers (it starts late in the boot). */
    async waitForAgent(timeoutMs: number): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            try {
                await this.agent({ execute: "guest-ping" }, 3000);
                return;
            } catch (e) {
                if (Date.now() > deadline) throw new Error(`${this.o.name}: the guest agent did not answer: ${(e as Error).message}`);
                await new Promise((resolve) => setTimeout(resolve, 1000));
            }
        }
    }

    private agent(request: object, timeoutMs = 10_000): Promise<any> {
        // guest-sync-delimited first: it flushes anything a previous, timed-out exchange left in the channel.
        return this.jsonExchange(this.qga, [{ execute: "guest-sync", arguments: { id: Date.now() % 1e9 } }, request], timeoutMs);
    }

    /** Waits until the console shows `pattern`. */
    async waitForConsole(pattern: RegExp, timeoutMs: number): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        while (!pattern.test(this.consoleText())) {
            if (!this.running) throw new Error(`${this.o.name}: qemu exited before the console showed ${pattern}`);
            if (Date.now() > deadline) throw new Error(`${this.o.name}: the console did not show ${pattern} within ${timeoutMs / 1000} s; it ends:\n${this.consoleText().slice(-3000)}`);
            await new Promise((resolve) => setTimeout(resolve, 1000));
        }
    }

    /** Hot-add an NVMe disk through QMP (a volume attached after boot; one per VM: one free root port). */
    async hotAddDisk(disk: VmDisk, index: number): Promise<void> {
        await this.jsonExchange(this.qmp, [
            { execute: "qmp_capabilities" },
            { execute: "blockdev-add", arguments: { "node-name": `hot${index}`, driver: "raw", file: { driver: "file", filename: disk.file } } },
            { execute: "device_add", arguments: { driver: "nvme", id: `hotnvme${index}`, drive: `hot${index}`, serial: serialOf(disk.volumeId), bus: "hotplug0" } },
        ], 10_000);
    }

    /** Sends JSON requests one by one on a unix socket; resolves with the last reply's "return". */
    private jsonExchange(socketPath: string, requests: object[], timeoutMs: number): Promise<any> {
        return new Promise((resolve, reject) => {
            const socket = net.connect(socketPath);
            let buffer = "";
            let index = 0;
            const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer on ${path.basename(socketPath)}`)); }, timeoutMs);
            const send = () => socket.write(`${JSON.stringify(requests[index])}\n`);
            socket.on("connect", () => { if (!socketPath.endsWith("qmp.sock")) send(); });
            socket.on("data", (d) => {
                buffer += d;
                let nl: number;
                while ((nl = buffer.indexOf("\n")) >= 0) {
                    const line = buffer.slice(0, nl).trim();
                    buffer = buffer.slice(nl + 1);
                    if (!line) continue;
                    const msg = JSON.parse(line);
                    if (msg.QMP) { send(); continue; } // QMP greeting
                    if (msg.event) continue;
                    if (msg.error) { clearTimeout(timer); socket.destroy(); reject(new Error(`${JSON.stringify(requests[index])}: ${msg.error.desc}`)); return; }
                    if ("return" in msg) {
                        index++;
                        if (index === requests.length) { clearTimeout(timer); socket.destroy(); resolve(msg.return); return; }
                        send();
                    }
                }
            });
            socket.on("error", (e) => { clearTimeout(timer); reject(e); });
        });
    }

    /** Power off (SIGTERM to qemu, then SIGKILL): the disks are flushed by qemu on exit. */
    async stop(): Promise<void> {
        if (!this.proc || !this.running) return;
        const exited = new Promise((resolve) => this.proc!.on("exit", resolve));
        this.proc.kill("SIGTERM");
        const timer = setTimeout(() => this.proc?.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
    }
}
