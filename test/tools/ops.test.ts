/**
 * `npm run ops` against a loopback stand-in of the SSM API (test/harness/fake-ssm.ts), which checks each
 * request's signature, headers and parameters as SSM does; this machine cannot reach AWS. The shard steps'
 * own behaviour is proven on real PostgreSQL by the one-machine stack (test/local/shard-move.test.ts); here
 * the hosts answer as the script does, and the test checks what the CLI asks of SSM and what it concludes.
 */
import { spawn } from "child_process";
import * as path from "path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { FAKE_KEY, FakeInstance, FakeSsm } from "../harness/fake-ssm";
import { formatShardDirectory, initialDirectory, parseShardDirectory, shardDirectoryParameterName, ShardDirectory } from "../../core/shard-directory";
import { PROJECT_ROOT } from "../../delivery/sources";

const NAME = shardDirectoryParameterName("dev");
const PROD = "instagram-2011";
let ssm: FakeSsm;
let endpoint: string;
/** The hosts' side of the shard steps: which logical shards each physical shard holds frozen. */
const frozen = new Map<number, Set<number>>();
const ran: { host: string; command: string }[] = [];
let primaryAlive = false;

function ops(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    return opsWith({}, ...args);
}

function opsWith(env: Record<string, string>, ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "tools", "ops.ts"), ...args], {
            cwd: PROJECT_ROOT,
            env: {
                PATH: process.env.PATH, HOME: process.env.HOME, INSTAGRAM_OPS_SSM_ENDPOINT: endpoint, INSTAGRAM_OPS_POLL_MS: "20", INSTAGRAM_OPS_ROUTING_BOUND_MS: "10",
                AWS_ACCESS_KEY_ID: FAKE_KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_KEY.secretAccessKey, AWS_EC2_METADATA_DISABLED: "true", ...env,
            },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr }));
    });
}

/** What instagram-shard-move answers on a shard host, step by step (the script's output format). */
function shardHost(id: string, shard: number, member: "primary" | "standby", address: string, stack = "dev"): FakeInstance {
    return {
        id, name: `shard-${shard}-${member}`, tags: { Stack: stack, Role: "shard", Shard: String(shard), Member: member },
        run(commands) {
            const command = commands[0];
            ran.push({ host: `shard-${shard}-${member}`, command });
            if (command.includes("pg_is_in_recovery")) return primaryAlive ? { code: 0, stdout: "f\n" } : { code: 1, stdout: "", stderr: "psql: error: connection refused" };
            if (command.includes("instagram-shard-promote")) return { code: 0, stdout: `${address}\n` };
            if (command.includes("instagram-shard-restore")) {
                if (command.includes("--reclone")) return { code: 0, stdout: `instagram-shard-restore: rebuilding shard ${shard}'s standby\n` };
                if (command.includes("--dry-run")) return { code: 0, stdout: "instagram-shard-restore: shard 0 (shard-0): restore the full backup 20261201-020000F (finished 2026-12-01 02:04:00+00)\n" };
                return command.includes("--force") ? { code: 0, stdout: "instagram-shard-restore: shard 0 restored: timeline 2, taking writes\n" } : { code: 1, stdout: "instagram-shard-restore: PostgreSQL is running as shard 0's primary\n" };
            }
            const [, , step, logical, , from] = command.split(" ");
            const l = Number(logical);
            const source = from === "10.0.1.10" ? 0 : 1;
            switch (step) {
                case "state": return { code: 0, stdout: "dest=absent subscription=absent source=serving\n" };
                case "copy": return { code: 0, stdout: "", stderr: `shard-move: logical shard ${l} is copied and streaming from ${from}\n` };
                case "switch": frozen.get(source)!.add(l); return { code: 0, stdout: `pause_ms=${100 + l} rows=${10 * l}\n` };
                case "finish": return { code: 0, stdout: "" };
                case "frozen": return { code: 0, stdout: `${[...(frozen.get(shard) ?? [])].join(" ")}\n` };
                case "cleanup": frozen.get(shard)!.delete(l); return { code: 0, stdout: "" };
                default: return { code: 2, stdout: "", stderr: `unexpected ${command}` };
            }
        },
    };
}

const memcachedHost = (id: string, n: number, stack = "dev"): FakeInstance => ({
    id, name: `memcached-${n}`, tags: { Stack: stack, Role: "memcached" },
    run: (commands) => {
        ran.push({ host: `memcached-${n}`, command: commands[0] });
        return { code: 0, stdout: "OK\n" };
    },
});

const appHost = (id: string, n: number, code: number): FakeInstance => ({
    id, name: `app-${n}`, tags: { Stack: "dev", Role: "app", Name: `app-${n}` },
    run: (commands) => {
        ran.push({ host: `app-${n}`, command: commands[0] });
        if (commands[0].includes("instagram-app reindex")) return { code: 0, stdout: "reindex: done in 2.0 s: 12 photos written from 64 logical shards, 1 stale entries removed\n" };
        return { code, stdout: `app-${n} ran ${commands[0]}\n`, stderr: code === 0 ? "" : "it failed here\n" };
    },
});

function deployed(): ShardDirectory {
    const d = initialDirectory(16, 2);
    return {
        ...d,
        ranges: [{ first: 0, last: 15, physicalShard: 0, state: "serving" }],
        physicalShards: [{ physicalShard: 0, endpoint: "10.0.1.10:6432" }, { physicalShard: 1, endpoint: "10.0.2.20:6432" }],
    };
}
const directory = () => parseShardDirectory(ssm.parameters.get(NAME)!.value, "test");

beforeAll(async () => {
    ssm = new FakeSsm([
        appHost("i-0a000000000000001", 0, 0), appHost("i-0a000000000000002", 1, 3),
        shardHost("i-0b000000000000001", 0, "primary", "10.0.1.10"), shardHost("i-0b000000000000002", 0, "standby", "10.0.3.30"),
        shardHost("i-0b000000000000003", 1, "primary", "10.0.2.20"),
        memcachedHost("i-0e000000000000001", 0), memcachedHost("i-0e000000000000002", 1), memcachedHost("i-0e000000000000003", 0, PROD),
        // The instagram-2011 stack has standbys (dev has none).
        shardHost("i-0d000000000000001", 0, "primary", "10.0.1.10", PROD), shardHost("i-0d000000000000002", 0, "standby", "10.0.3.30", PROD),
        shardHost("i-0d000000000000003", 1, "primary", "10.0.2.20", PROD),
        { id: "i-0c000000000000001", name: "other-stack-app", tags: { Stack: "prod", Role: "app" }, run: () => ({ code: 0, stdout: "wrong stack!\n" }) },
    ]);
    endpoint = await ssm.start();
});
afterAll(() => ssm.stop());
beforeEach(() => {
    ssm.requests.length = 0;
    ssm.onSend = undefined;
    ssm.parameters.set(NAME, { value: formatShardDirectory(deployed()), version: 7 });
    frozen.set(0, new Set());
    frozen.set(1, new Set());
    ran.length = 0;
    primaryAlive = false;
});

describe("npm run ops", () => {
    test("bad arguments exit 2 with usage, before any request", async () => {
        for (const args of [
            [], ["jump", "--stack", "dev"], ["shards", "status"], ["run", "--stack", "dev", "--role", "app"], ["run", "--stack", "dev", "--role", "web", "--", "uptime"],
            ["run", "--stack", "dev", "--role", "app", "--max-concurrency", "0", "--", "uptime"], ["run", "--stack", "dev", "--role", "app", "--max-errors", "lots", "--", "uptime"],
            ["shards", "move", "0-3", "--stack", "dev"], ["shards", "move", "--to", "1", "--stack", "dev"], ["promote", "x", "--stack", "dev"], ["shards", "status", "--stack", "a b"],
        ]) {
            const r = await ops(...args);
            expect(r.status, args.join(" ")).toBe(2);
            expect(r.stderr, args.join(" ")).toContain("usage: npm run ops --");
        }
        expect(ssm.requests).toEqual([]);
    });

    test("the stand-in checks signatures: a request signed with another secret is refused, and the CLI says so", async () => {
        const r = await opsWith({ AWS_SECRET_ACCESS_KEY: "not-the-right-secret-key-000000000000000000" }, "shards", "status", "--stack", "dev");
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("The request signature we calculated does not match the signature you provided");
    });

    test("a stack it cannot identify is refused: no stack file, or no shard directory deployed", async () => {
        const unknown = await ops("shards", "status", "--stack", "nosuch");
        expect(unknown.status).toBe(1);
        expect(unknown.stderr).toContain("there is no Pulumi.nosuch.yaml in this project");
        ssm.parameters.delete(NAME);
        const absent = await ops("shards", "status", "--stack", "dev");
        expect(absent.status).toBe(1);
        expect(absent.stderr).toContain(`stack dev has no shard directory here (SSM parameter ${NAME} does not exist)`);
        expect(ssm.of("GetParameter")).toEqual([{ Name: NAME, WithDecryption: false }]);
    });

    test("run --role app: one SSM command targeted by tag, each host's output and exit code, exit 1 when one failed", async () => {
        const r = await ops("run", "--role", "app", "--max-concurrency", "1", "--max-errors", "1", "--stack", "dev", "--yes", "--", "systemctl", "is-active", "instagram-app");
        expect(r.status, r.stderr).toBe(1);
        expect(r.stdout).toContain("==> app-0 (i-0a000000000000001): Success, exit 0\napp-0 ran systemctl is-active instagram-app");
        expect(r.stdout).toContain("==> app-1 (i-0a000000000000002): Failed, exit 3");
        expect(r.stdout).toContain("stderr: it failed here");
        expect(r.stdout).toContain("ops: 1 of 2 hosts succeeded");
        expect(r.stdout).not.toContain("wrong stack");
        const [sent] = ssm.of("SendCommand");
        expect(sent).toMatchObject({
            DocumentName: "AWS-RunShellScript", MaxConcurrency: "1", MaxErrors: "1",
            Targets: [{ Key: "tag:Stack", Values: ["dev"] }, { Key: "tag:Role", Values: ["app"] }],
            Parameters: { commands: ["systemctl is-active instagram-app"] },
        });
        expect(ssm.of("ListCommands").length).toBeGreaterThanOrEqual(2);
    });

    test("search reindex: the release's instagram-app reindex on app-0 alone, as the app's user with its environment and credentials", async () => {
        const r = await ops("search", "reindex", "--stack", "dev", "--yes");
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain("ops: will rebuild the search index of stack dev in us-east-1 from every shard, on app-0");
        expect(r.stdout).toContain("==> app-0 (i-0a000000000000001): Success, exit 0\nreindex: done in 2.0 s: 12 photos written");
        const [sent] = ssm.of("SendCommand");
        expect(sent.Targets).toEqual([{ Key: "tag:Stack", Values: ["dev"] }, { Key: "tag:Role", Values: ["app"] }, { Key: "tag:Name", Values: ["app-0"] }]);
        expect(ran.map((x) => x.host)).toEqual(["app-0"]);
        expect(ran[0].command).toBe("systemd-run --quiet --wait --pipe --collect --unit=instagram-search-reindex --uid=instagram --gid=www-data " +
            "--property=EnvironmentFile=/etc/instagram/app.env --property=LoadCredential=postgres-app:/etc/instagram/secrets/postgres-app " +
            "--property=LoadCredential=search-app:/etc/instagram/secrets/search-app /opt/instagram/current/bin/instagram-app reindex 2>&1");
        const usage = await ops("search", "rebuild", "--stack", "dev");
        expect(usage.status).toBe(2);
        expect(usage.stderr).toContain('search takes one subcommand: reindex (got "rebuild")');
    });

    test("without --yes and without a terminal, it says what it would do and does nothing", async () => {
        const r = await ops("run", "--role", "app", "--stack", "dev", "--", "reboot");
        expect(r.status).toBe(1);
        expect(r.stdout).toContain("ops: will run on every app host of stack dev in us-east-1, 50 at a time, stopping after 0 errors:\n  reboot");
        expect(r.stderr).toContain("add --yes to go ahead");
        expect(ssm.of("SendCommand")).toEqual([]);
    });

    test("shards move 8-9 --to 1: each step on the destination's primary, the directory flipped per logical shard; then status and cleanup", async () => {
        const r = await ops("shards", "move", "8-9", "--to", "1", "--stack", "dev", "--yes");
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/ops: moved 2 logical shards to physical shard 1; longest write pause \d+ ms/);
        const steps = ran.map((x) => `${x.host}: ${x.command.replace("/usr/local/sbin/instagram-shard-move /etc/instagram/shard.env ", "")}`);
        expect(steps).toEqual([8, 9].flatMap((l) => [
            `shard-1-primary: state ${l} --from 10.0.1.10`, `shard-1-primary: copy ${l} --from 10.0.1.10`,
            `shard-1-primary: switch ${l} --from 10.0.1.10`, `shard-1-primary: finish ${l} --from 10.0.1.10`,
        ]));
        for (const sent of ssm.of("SendCommand")) expect(sent.Targets).toEqual([{ Key: "tag:Stack", Values: ["dev"] }, { Key: "tag:Role", Values: ["shard"] }, { Key: "tag:Shard", Values: ["1"] }, { Key: "tag:Member", Values: ["primary"] }]);
        expect(directory().ranges).toEqual([
            { first: 0, last: 7, physicalShard: 0, state: "serving" },
            { first: 8, last: 9, physicalShard: 1, state: "serving" },
            { first: 10, last: 15, physicalShard: 0, state: "serving" },
        ]);
        // Marked moving, then flipped: two writes per logical shard, each Overwrite of the String parameter.
        expect(ssm.of("PutParameter").map((p) => [p.Type, p.Overwrite, JSON.parse(p.Value).ranges.find((x: { first: number; last: number }) => x.first <= 8 && x.last >= 8).state])).toEqual([
            ["String", true, "moving"], ["String", true, "serving"], ["String", true, "serving"], ["String", true, "serving"],
        ]);
        const status = await ops("shards", "status", "--stack", "dev");
        expect(status.stdout).toContain("physical 0 keeps read-only copies of logical shards 8, 9 (moved away)");
        const cleanup = await ops("shards", "cleanup", "--stack", "dev", "--yes");
        expect(cleanup.status, cleanup.stderr).toBe(0);
        expect(cleanup.stdout).toContain("dropped 2 read-only copies");
        expect(ran.filter((x) => x.command.includes(" cleanup ")).map((x) => `${x.host} ${x.command.split(" ").slice(-1)}`)).toEqual(["shard-0-primary 8", "shard-0-primary 9"]);
    });

    test("a directory changed by someone else during a move stops it, without overwriting that change", async () => {
        ssm.onSend = (commands) => {
            if (commands[0].includes(" switch 8 ")) ssm.parameters.set(NAME, { value: formatShardDirectory(deployed()), version: 99 });
        };
        const r = await ops("shards", "move", "8-9", "--to", "1", "--stack", "dev", "--yes");
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/the shard directory changed under the move of logical shard 8|was changed by someone else/);
        expect(ssm.parameters.get(NAME)!.version).toBe(99);
    });

    test("promote 0: refused without standbys, or while the primary answers as one; else the standby is promoted and the directory names it", async () => {
        const none = await ops("promote", "0", "--stack", "dev", "--yes");
        expect(none.status).toBe(1);
        expect(none.stderr).toContain("stack dev has no standbys (instagram:shardStandby is false)");
        const prodName = shardDirectoryParameterName(PROD);
        const twelve = { ...initialDirectory(2000, 12) };
        ssm.parameters.set(prodName, { value: formatShardDirectory({ ...twelve, physicalShards: twelve.physicalShards.map((p) => ({ ...p, endpoint: `10.0.${p.physicalShard + 1}.10:6432` })) }), version: 3 });
        primaryAlive = true;
        const refused = await ops("promote", "0", "--stack", PROD, "--yes");
        expect(refused.status).toBe(1);
        expect(refused.stderr).toContain("still answers as a primary: promoting now would leave two primaries");
        expect(ran.some((x) => x.command.includes("instagram-shard-promote"))).toBe(false);
        primaryAlive = false;
        const ok = await ops("promote", "0", "--stack", PROD, "--yes");
        expect(ok.status, ok.stderr).toBe(0);
        expect(ran.find((x) => x.command.includes("instagram-shard-promote"))).toEqual({ host: "shard-0-standby", command: "/usr/local/sbin/instagram-shard-promote /etc/instagram/shard.env && hostname -I" });
        const after = parseShardDirectory(ssm.parameters.get(prodName)!.value, "test");
        expect(after.physicalShards[0]).toEqual({ physicalShard: 0, endpoint: "10.0.3.30:6432", promotedStandby: true });
        expect(after.physicalShards[1]).toEqual({ physicalShard: 1, endpoint: "10.0.2.10:6432" });
        // From then on the shard's steps run on the promoted host.
        ran.length = 0;
        await ops("shards", "status", "--stack", PROD);
        expect(ran.filter((x) => x.command.endsWith(" frozen")).map((x) => x.host).slice(0, 2)).toEqual(["shard-0-standby", "shard-1-primary"]);
    });

    test("restore 0 --to TIME: the plan from the serving primary first; the restore there, the other member re-cloned, every memcached node emptied", async () => {
        const bad = await ops("restore", "0", "--to", "yesterday", "--stack", "dev", "--yes");
        expect(bad.status).toBe(2);
        expect(bad.stderr).toContain("--to yesterday: not a time");
        expect(ssm.requests).toEqual([]);

        // A shard in a move under way is not rewound under the move's feet.
        const moving = deployed();
        ssm.parameters.set(NAME, { value: formatShardDirectory({ ...moving, ranges: [{ first: 0, last: 7, physicalShard: 0, state: "serving" }, { first: 8, last: 8, physicalShard: 0, state: "moving", movingTo: 1 }, { first: 9, last: 15, physicalShard: 0, state: "serving" }] }), version: 8 });
        const duringMove = await ops("restore", "1", "--to", "latest", "--stack", "dev", "--yes");
        expect(duringMove.status).toBe(1);
        expect(duringMove.stderr).toContain("physical shard 1 is part of a shards move under way (logical shards 8-8 (0 → 1))");
        expect(ran).toEqual([]);
        ssm.parameters.set(NAME, { value: formatShardDirectory(deployed()), version: 9 });

        const unconfirmed = await ops("restore", "0", "--to", "2026-12-01 21:07:30", "--stack", "dev");
        expect(unconfirmed.status).toBe(1);
        expect(unconfirmed.stdout).toContain("restore the full backup 20261201-020000F");
        expect(unconfirmed.stdout).toContain("ops: will restore physical shard 0 of stack dev in us-east-1 on its primary as above, then empty memcached");
        expect(ran.map((r) => r.command)).toEqual(["/usr/local/sbin/instagram-shard-restore /etc/instagram/shard.env --to '2026-12-01 21:07:30' --dry-run 2>&1"]);

        // Without --force the host refuses to replace a running primary, and the CLI stops there.
        ran.length = 0;
        const refused = await ops("restore", "0", "--to", "2026-12-01 21:07:30", "--stack", "dev", "--yes");
        expect(refused.status).toBe(1);
        expect(refused.stderr).toContain("physical shard 0's restore failed (exit 1)");
        expect(ran.some((r) => r.host.startsWith("memcached"))).toBe(false);

        ran.length = 0;
        const twelve = initialDirectory(2000, 12);
        ssm.parameters.set(shardDirectoryParameterName(PROD), { value: formatShardDirectory({ ...twelve, physicalShards: twelve.physicalShards.map((p) => ({ ...p, endpoint: `10.0.${p.physicalShard + 1}.10:6432` })) }), version: 3 });
        const ok = await ops("restore", "0", "--to", "2026-12-01 21:07:30", "--timeline", "1", "--force", "--stack", PROD, "--yes");
        expect(ok.status, ok.stderr).toBe(0);
        expect(ran.map((r) => `${r.host}: ${r.command}`)).toEqual([
            "shard-0-primary: /usr/local/sbin/instagram-shard-restore /etc/instagram/shard.env --to '2026-12-01 21:07:30' --timeline 1 --dry-run 2>&1",
            "shard-0-primary: /usr/local/sbin/instagram-shard-restore /etc/instagram/shard.env --to '2026-12-01 21:07:30' --timeline 1 --force 2>&1",
            "shard-0-standby: /usr/local/sbin/instagram-shard-restore /etc/instagram/shard.env --reclone 2>&1",
            expect.stringMatching(/^memcached-0: bash -c 'exec 3<>\/dev\/tcp\/127\.0\.0\.1\/11211; printf "flush_all/),
        ]);
        expect(ok.stdout).toContain("physical shard 0 of stack instagram-2011 in us-east-1 is restored (2026-12-01 21:07:30) and takes writes; 1 memcached nodes emptied");
    });
});
