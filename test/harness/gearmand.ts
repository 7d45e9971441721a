/** gearmand on loopback for tests, run with the gearman role's arguments and its SQLite queue in a temporary directory. */
import * as fs from "fs";
import * as path from "path";
import { Daemons, daemonAccount, requireCommand, tempDir } from "./daemons";
import { PORTS } from "../../core/ports";
import { gearmandArgs } from "../../cloud-init/configs/gearman";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";

export interface TestGearmand {
    readonly host: string;
    readonly port: number;
    readonly queueFile: string;
    /** Start (again) on the same queue file. */
    start(): Promise<void>;
    /** TERM (a clean stop) or KILL (a crash); resolves once the process is gone. */
    stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
    pause(): void;
    resume(): void;
}

export function gearmand(daemons: Daemons, host: string, port: number = PORTS.gearman): TestGearmand {
    requireCommand("gearmand", "gearman-job-server");
    const account = daemonAccount("gearman");
    const dir = daemons.track(tempDir("gearmand", account));
    const queueFile = path.join(dir, "queue.sqlite3");
    const name = `gearmand-${host}`;
    let pid: number | undefined;
    return {
        host,
        port,
        queueFile,
        async start() {
            // The gearman role's own arguments (cloud-init/configs/gearman.ts), in the foreground for the test.
            const args = gearmandArgs({ listenAddress: host, port, queueFile, logFile: path.join(dir, "gearmand.log"), threads: 2 }).filter((a) => a !== "--daemon");
            daemons.run("sh", [path.join(SCRIPTS_DIR, "gearman-queue-init.sh"), queueFile], { account });
            const child = daemons.start(name, "gearmand", args, { account });
            pid = child.pid;
            await daemons.waitFor(name, host, port);
        },
        async stop(signal = "SIGTERM") {
            if (pid === undefined) return;
            const target = pid;
            pid = undefined;
            try { process.kill(target, "SIGCONT"); process.kill(target, signal); } catch { return; }
            for (let i = 0; i < 100; i++) {
                try { process.kill(target, 0); } catch { return; }
                // A zombie until the Daemons' child handle reaps it: wait for the exit to be seen.
                if (fs.existsSync(`/proc/${target}/stat`) && fs.readFileSync(`/proc/${target}/stat`, "utf8").split(" ")[2] === "Z") return;
                await new Promise((r) => setTimeout(r, 50));
            }
            throw new Error(`${name} did not exit on ${signal}`);
        },
        pause() { if (pid !== undefined) process.kill(pid, "SIGSTOP"); },
        resume() { if (pid !== undefined) process.kill(pid, "SIGCONT"); },
    };
}
