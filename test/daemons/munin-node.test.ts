/**
 * munin-node with the generated config and the app's Munin plugin: it answers the Munin master's address
 * (and loopback) and nobody else, and reports the app's counters. munin-node reads plugins only from
 * /etc/munin/plugins, so the test links its plugins there and removes them afterwards (CI runs as root).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Daemons, requireCommand, tcpExchange, tempDir } from "../harness/daemons";
import { muninNodeConf } from "../../cloud-init/configs/munin-node";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";
import { muninInstagramPluginConf } from "../../cloud-init/roles/app";
import { APP_COUNTERS as MUNIN_APP_COUNTERS } from "../../core/app-contract";

const NODE = "127.0.5.1";
const MASTER = "127.0.5.9";
const STRANGER = "127.0.5.8";
const daemons = new Daemons();
const installed: string[] = [];
let dir: string;

beforeAll(async () => {
    requireCommand("munin-node", "munin-node");
    if (process.getuid?.() !== 0) throw new Error("this test installs plugins under /etc/munin and must run as root (as CI does)");
    dir = daemons.track(tempDir("munin-test"));
    const plugin = path.join(dir, "instagram_");
    fs.copyFileSync(path.join(SCRIPTS_DIR, "munin-instagram.sh"), plugin);
    fs.chmodSync(plugin, 0o755);
    // As on a host: the stats file in the app's runtime directory, 0750 and group www-data, the file 0660.
    const run = path.join(dir, "run");
    const wwwData = Number(spawnSync("id", ["-g", "www-data"], { encoding: "utf8" }).stdout.trim());
    fs.mkdirSync(run, { mode: 0o750 });
    fs.chownSync(run, 0, wwwData);
    fs.writeFileSync(path.join(run, "stats"), "requests 123456\nuploads 789\nsignups 42\nlogins 40\nlogin_failures 3\nlikes 900\n", { mode: 0o660 });
    fs.chownSync(path.join(run, "stats"), 0, wwwData);
    // The job workers' stats file (the work unit's), which instagram_jobs and instagram_push read.
    fs.writeFileSync(path.join(run, "work-stats"), "jobs 77\npush_sent 60\npush_failed 5\npush_tokens_removed 2\n", { mode: 0o660 });
    fs.chownSync(path.join(run, "work-stats"), 0, wwwData);
    for (const counter of [...MUNIN_APP_COUNTERS, "jobs", "push"]) {
        const link = `/etc/munin/plugins/instagram_${counter}`;
        fs.rmSync(link, { force: true });
        fs.symlinkSync(plugin, link);
        installed.push(link);
    }
    const pluginConf = "/etc/munin/plugin-conf.d/zz-instagram-test";
    fs.writeFileSync(pluginConf, muninInstagramPluginConf(path.join(run, "stats"), path.join(run, "work-stats")));
    installed.push(pluginConf);
    const conf = path.join(dir, "munin-node.conf");
    fs.writeFileSync(conf, muninNodeConf({
        hostname: "app-0",
        masterIp: MASTER,
        bindAddress: NODE,
        foreground: true,
        logFile: path.join(dir, "munin-node.log"),
        pidFile: path.join(dir, "munin-node.pid"),
    }));
    daemons.start("munin-node", "munin-node", ["--config", conf, "--foreground"]);
    await daemons.waitFor("munin-node", NODE, 4949);
}, 30_000);

afterAll(async () => {
    await daemons.cleanup();
    for (const file of installed) fs.rmSync(file, { force: true });
});

/** Send one command and "quit"; munin-node answers and closes the connection. */
const ask = (command: string, from = MASTER) => tcpExchange(NODE, 4949, `${command}\nquit\n`, /(?!)/, { localAddress: from, timeoutMs: 5000 });

describe("munin-node with the generated configuration", () => {
    test("greets the Munin master with the host's name and lists the app's plugins", async () => {
        const out = await ask("list");
        expect(out).toMatch(/^# munin node at app-0\n/);
        for (const counter of MUNIN_APP_COUNTERS) expect(out).toContain(`instagram_${counter}`);
    });

    test("fetch returns the app's running totals; config declares them as per-second rates", async () => {
        expect(await ask("fetch instagram_requests")).toContain("requests.value 123456");
        expect(await ask("fetch instagram_uploads")).toContain("uploads.value 789");
        expect(await ask("fetch instagram_login_failures")).toContain("login_failures.value 3");
        // A counter the app has not moved yet (no line in the file) is 0, not unknown.
        expect(await ask("fetch instagram_comments")).toContain("comments.value 0");
        for (const counter of MUNIN_APP_COUNTERS) {
            const config = await ask(`config instagram_${counter}`);
            expect(config).toContain(`${counter}.type DERIVE`);
            expect(config).toContain(`${counter}.min 0`);
        }
    });

    test("the job workers' counters come from their own stats file; push is sent, failed and removed per minute", async () => {
        expect(await ask("fetch instagram_jobs")).toContain("jobs.value 77");
        const push = await ask("fetch instagram_push");
        expect(push).toContain("push_sent.value 60");
        expect(push).toContain("push_failed.value 5");
        expect(push).toContain("push_tokens_removed.value 2");
        const config = await ask("config instagram_push");
        expect(config).toContain("graph_period minute");
        for (const f of ["push_sent", "push_failed", "push_tokens_removed"]) expect(config).toContain(`${f}.type DERIVE`);
        expect(config).toContain("push_tokens_removed.label dead tokens removed");
    });

    test("refuses any address but the master's and loopback", async () => {
        // munin-node drops the connection (a reset or a close) without a greeting.
        const out = await tcpExchange(NODE, 4949, "fetch instagram_requests\n", /value/, { localAddress: STRANGER, timeoutMs: 3000 }).catch((e: Error) => e.message);
        expect(out).not.toContain("munin node at");
        expect(out).not.toContain("value");
    });

    test("an unreadable stats file gives U (unknown), not a wrong zero", async () => {
        fs.renameSync(path.join(dir, "run", "stats"), path.join(dir, "run", "stats.moved"));
        try {
            expect(await ask("fetch instagram_requests")).toContain("requests.value U");
        } finally {
            fs.renameSync(path.join(dir, "run", "stats.moved"), path.join(dir, "run", "stats"));
        }
    });

    test("a counter the server has not written yet (no upload so far) is 0, not unknown", async () => {
        const file = path.join(dir, "run", "stats");
        const before = fs.readFileSync(file);
        fs.writeFileSync(file, "requests 12\n");
        try {
            expect(await ask("fetch instagram_uploads")).toContain("uploads.value 0");
            expect(await ask("fetch instagram_requests")).toContain("requests.value 12");
        } finally {
            fs.writeFileSync(file, before);
        }
    });
});
