/**
 * instagram-start-units' decisions against a stand-in systemctl that plays each unit's starts from a script
 * (active at once, after a while, failed, a start job that never ends, a unit stuck between its own
 * restarts). This machine runs no systemd; the real thing runs in the VM boot test, where every role's units
 * go through this script on a CPU that is slower than systemd's default start timeout expects.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";

const SCRIPT = path.resolve(__dirname, "../../cloud-init/scripts/start-units.sh");

/**
 * spec-UNIT holds one outcome per start, the last one repeating: "active", "failed", "after:MS" (a start job
 * that runs MS milliseconds, then active), "hang" (a start job that never ends), "looping" (no job, the unit
 * activating between the restarts its Restart= makes). A unit without a spec is not found.
 */
const FAKE_SYSTEMCTL = `#!/bin/sh
echo "$*" >> "$FAKE/calls"
cmd=$1; shift
[ "\${1:-}" = --no-block ] || [ "\${1:-}" = --no-legend ] && shift
[ "\${1:-}" = --no-pager ] && shift 3
u=$1
evaluate() { # sets job (yes/no) and state
    job=no; state=inactive
    [ -f "$FAKE/run-$u" ] || return 0
    read -r outcome started < "$FAKE/run-$u"
    now=$(date +%s%3N)
    case $outcome in
        active) state=active ;;
        failed) state=failed ;;
        hang) job=yes; state=activating ;;
        looping) state=activating ;;
        after:*) if [ $((now - started)) -lt "\${outcome#after:}" ]; then job=yes; state=activating; else state=active; fi ;;
    esac
}
case $cmd in
    daemon-reload|reset-failed|status) exit 0 ;;
    restart)
        [ -f "$FAKE/spec-$u" ] || { echo "Failed to restart $u: Unit $u not found." >&2; exit 5; }
        n=$(( $(cat "$FAKE/count-$u" 2>/dev/null || echo 0) + 1 )); echo $n > "$FAKE/count-$u"
        echo "$(awk -v n=$n '{ print (n <= NF ? $n : $NF) }' "$FAKE/spec-$u") $(date +%s%3N)" > "$FAKE/run-$u" ;;
    list-jobs) evaluate; [ $job = no ] || echo "7 $u start running" ;;
    is-active) evaluate; echo $state; [ $state = active ] ;;
    *) echo "unexpected: $cmd" >&2; exit 1 ;;
esac
`;

let root: string;
beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "start-units-"));
    fs.writeFileSync(path.join(root, "systemctl"), FAKE_SYSTEMCTL, { mode: 0o755 });
    fs.mkdirSync(path.join(root, "dropins"));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

interface Result { status: number; stderr: string; calls: string[]; starts: (unit: string) => number; degraded: string[]; seconds: number }

function run(units: Record<string, string>, args: string[]): Promise<Result> {
    for (const [unit, spec] of Object.entries(units)) fs.writeFileSync(path.join(root, `spec-${unit}`), spec);
    const began = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn("sh", [SCRIPT, ...args], {
            env: {
                PATH: process.env.PATH,
                FAKE: root,
                SYSTEMCTL: path.join(root, "systemctl"),
                START_UNITS_DROPIN_DIR: path.join(root, "dropins"),
                DEGRADED_FILE: path.join(root, "state", "degraded-units"),
                POLL_S: "0.1",
            },
        });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (status) => {
            const read = (f: string) => (fs.existsSync(path.join(root, f)) ? fs.readFileSync(path.join(root, f), "utf8").trim().split("\n").filter(Boolean) : []);
            resolve({
                status: status ?? -1,
                stderr,
                calls: read("calls"),
                starts: (unit) => Number(read(`count-${unit}`)[0] ?? 0),
                degraded: read("state/degraded-units"),
                seconds: (Date.now() - began) / 1000,
            });
        });
    });
}

describe("instagram-start-units", () => {
    test("starts every unit without blocking, waits for the slow one, and raises each service's start timeout to the deadline", async () => {
        const r = await run({ "chrony.service": "active", "pgbouncer.service": "after:700", "x.timer": "active", "munin-node.service": "after:300" }, ["--deadline", "30", "chrony", "pgbouncer", "x.timer", "--optional", "munin-node"]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.calls.filter((c) => c.startsWith("restart"))).toEqual(["restart --no-block chrony.service", "restart --no-block pgbouncer.service", "restart --no-block x.timer", "restart --no-block munin-node.service"]);
        expect(r.calls[0]).toBe("daemon-reload");
        expect(r.seconds).toBeGreaterThanOrEqual(0.7);
        for (const unit of ["chrony.service", "pgbouncer.service", "munin-node.service"]) {
            expect(fs.readFileSync(path.join(root, "dropins", `${unit}.d`, "instagram-start-deadline.conf"), "utf8")).toBe("[Service]\nTimeoutStartSec=30\n");
        }
        // A timer has no start timeout ([Service] would be an unknown section in it).
        expect(fs.existsSync(path.join(root, "dropins", "x.timer.d"))).toBe(false);
        expect(r.degraded).toEqual([]);
        expect(r.stderr).toContain("started: chrony.service pgbouncer.service x.timer munin-node.service");
    });

    test("a unit that failed its first start is restarted once and the boot goes on", async () => {
        const r = await run({ "nginx.service": "active", "redis-server.service": "failed active" }, ["--deadline", "30", "nginx", "redis-server"]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.starts("redis-server.service")).toBe(2);
        expect(r.starts("nginx.service")).toBe(1);
        expect(r.calls).toContain("reset-failed redis-server.service");
        expect(r.stderr).toContain("not active within 30 s: redis-server.service; restarting once more");
    });

    test("a required unit that is not active after two deadlines fails the boot, naming it", async () => {
        const r = await run({ "nginx.service": "active", "instagram-app.service": "hang" }, ["--deadline", "1", "nginx", "instagram-app"]);
        expect(r.status).toBe(1);
        expect(r.starts("instagram-app.service")).toBe(2);
        expect(r.stderr).toContain("instagram-app.service is not active after two starts of 1 s");
        // Each try waited its deadline (date's whole seconds: at least one second between the first check and giving up).
        expect(r.seconds).toBeGreaterThanOrEqual(1);
        expect(r.degraded).toEqual([]);
    });

    test("an optional unit that never gets there is reported as degraded, and the boot goes on", async () => {
        const r = await run({ "chrony.service": "active", "munin-node.service": "looping" }, ["--deadline", "1", "chrony", "--optional", "munin-node"]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.starts("munin-node.service")).toBe(2);
        expect(r.degraded).toEqual(["munin-node.service"]);
        expect(r.stderr).toMatch(/DEGRADED: munin-node\.service \(optional\) is not active after two starts of 1 s/);
        expect(r.calls).toContain("status --no-pager --lines 20 munin-node.service");
    });

    test("a unit that does not exist fails at once, not after the deadline", async () => {
        const r = await run({ "chrony.service": "active" }, ["--deadline", "60", "chrony", "no-such-daemon"]);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("no-such-daemon.service is not active");
        expect(r.seconds).toBeLessThan(30);
    });

    test.each([
        [[], /no unit to start/],
        [["--deadline"], /--deadline needs a value/],
        [["--deadline", "soon", "nginx"], /whole number of seconds above 0, not 'soon'/],
        [["--deadline", "0", "nginx"], /above 0, not '0'/],
        [["nginx;reboot"], /not a unit name: 'nginx;reboot'/],
        [["--force", "nginx"], /not a unit name: '--force'/],
    ])("refuses %j and starts nothing", async (args, message) => {
        const r = await run({ "nginx.service": "active" }, args as string[]);
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.calls).toEqual([]);
    });
});
