import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ProgramRun } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { hostName, T, userDataOf } from "../harness/queries";
import { encodeUserData } from "../../components/host";
import { emptyRole, mergeRoles, renderCloudConfig, START_DEADLINE_S, START_UNITS } from "../../cloud-init/role";
import * as zlib from "zlib";

let dev: ProgramRun;
let seed: ProgramRun;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "user-data-"));
beforeAll(async () => {
    dev = await runStack("dev");
    seed = await runStack("instagram-2011");
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const SCRIPTS = { fetchSecrets: "#!/bin/sh\n", awsLib: "#!/bin/sh\n", startUnits: "#!/bin/sh\n" };

function hasCloudInit(): boolean {
    return spawnSync("cloud-init", ["--version"]).status === 0;
}

/** One host per distinct role combination, from both profiles. */
function representativeHosts() {
    const seen = new Map<string, { stack: string; name: string; text: string }>();
    for (const run of [dev, seed]) {
        for (const i of run.ofType(T.instance)) {
            const text = userDataOf(i);
            const doc = yaml.load(text) as { runcmd: string[][] };
            const roles = doc.runcmd.at(-1)!.join(" ").match(/echo "([^"]+)"/)![1];
            const key = `${run.stack}:${roles}`;
            if (!seen.has(key)) seen.set(key, { stack: run.stack, name: hostName(i), text });
        }
    }
    return [...seen.values()];
}

describe("user data", () => {
    test("every role's user data is valid cloud-config for cloud-init's own schema", () => {
        // .ci/run installs Debian's cloud-init; without it this test cannot say anything, so it fails.
        expect(hasCloudInit(), "cloud-init is not installed: apt-get install cloud-init (see .ci/run)").toBe(true);
        const hosts = representativeHosts();
        expect(hosts.map((h) => `${h.stack}:${h.name}`)).toEqual(expect.arrayContaining([
            "dev:app-0", "dev:shard-0-primary", "dev:redis-primary", "dev:memcached-0", "dev:munin",
            "instagram-2011:shard-0-standby", "instagram-2011:redis-replica",
        ]));
        for (const host of hosts) {
            const file = path.join(tmp, `${host.stack}-${host.name}.yaml`);
            fs.writeFileSync(file, host.text);
            const result = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
            expect(result.status, `${host.stack}:${host.name}: ${result.stdout}${result.stderr}`).toBe(0);
            expect(result.stdout).toMatch(/Valid cloud-config/);
        }
    });

    test("cloud-init's schema check does fail on a broken document (so the check above means something)", () => {
        expect(hasCloudInit()).toBe(true);
        const file = path.join(tmp, "broken.yaml");
        fs.writeFileSync(file, "#cloud-config\npackages: 42\nruncmd: {bad: true}\n");
        const result = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
        expect(result.status).not.toBe(0);
    });

    test("the app host finds every other tier at the addresses the program gave them", () => {
        const doc = yaml.load(userDataOf(seed.ofType(T.instance).find((i) => hostName(i) === "app-0")!)) as { write_files: { path: string; content: string }[] };
        const env = doc.write_files.find((f) => f.path === "/etc/instagram/app.env")!.content;
        const ips = seed.outputs.privateIps as Record<string, string[]>;
        expect(env).toContain(`INSTAGRAM_PGBOUNCER_HOSTS='${ips.shardPrimary.map((ip) => `${ip}:6432`).join(",")}'`);
        expect(env).toContain(`INSTAGRAM_REDIS='${ips.redis[0]}:6379'`);
        expect(env).toContain(`INSTAGRAM_MEMCACHED='${ips.memcached.map((ip) => `${ip}:11211`).join(",")}'`);
        expect(env).toContain(`INSTAGRAM_SHARD_MAP='${JSON.stringify(seed.outputs.shardMap)}'`);
        expect(env).toContain("WEB_CONCURRENCY='17'");
    });

    test("munin-node on every host answers only the Munin master; the master lists every host", () => {
        for (const i of seed.ofType(T.instance)) {
            const doc = yaml.load(userDataOf(i)) as { write_files: { path: string; content: string }[] };
            const conf = doc.write_files.find((f) => f.path === "/etc/munin/munin-node.conf")!.content;
            const allows = conf.split("\n").filter((l) => l.startsWith("allow") || l.startsWith("cidr_allow"));
            expect(allows, hostName(i)).toEqual(["allow ^127\\.0\\.0\\.1$", "allow ^::1$", "allow ^10\\.20\\.0\\.10$"]);
        }
        const munin = seed.ofType(T.instance).find((i) => hostName(i) === "munin")!;
        expect(munin.inputs.privateIp).toBe("10.20.0.10");
        const doc = yaml.load(userDataOf(munin)) as { write_files: { path: string; content: string }[] };
        const conf = doc.write_files.find((f) => f.path === "/etc/munin/munin-conf.d/instagram.conf")!.content;
        const addresses = [...conf.matchAll(/address (\S+)/g)].map((m) => m[1]);
        const ips = seed.outputs.privateIps as Record<string, string[]>;
        const others = [...ips.app, ...ips.shardPrimary, ...ips.shardStandby, ...ips.redis, ...ips.memcached, ...ips.gearman, ...ips.worker, ...ips.search];
        expect(addresses.sort()).toEqual(["127.0.0.1", ...others].sort());
    });
});

describe("rendering", () => {
    test("commands are argv lists, units are enabled then started with a deadline, and the finished marker comes last", () => {
        const spec = { ...emptyRole("demo"), packages: ["nginx"], commands: [["echo", "a b; rm -rf /"]], services: ["nginx"], optionalServices: ["munin-node"] };
        const doc = yaml.load(renderCloudConfig(spec, { hostname: "h1", stack: "dev" }, SCRIPTS)) as Record<string, any>;
        expect(doc.runcmd).toEqual([
            "set -e",
            ["echo", "a b; rm -rf /"],
            ["systemctl", "enable", "nginx", "munin-node"],
            [START_UNITS, "--deadline", String(START_DEADLINE_S), "nginx", "--optional", "munin-node"],
            ["install", "-d", "-m", "0755", "/var/lib/instagram"],
            ["sh", "-c", 'echo "demo" > /var/lib/instagram/role-done'],
        ]);
        expect(doc.write_files.map((f: { path: string }) => f.path)).toEqual([START_UNITS]);
        expect(doc).toMatchObject({ hostname: "h1", package_update: true, packages: ["nginx"] });
        expect(() => renderCloudConfig(spec, { hostname: "h1", stack: "dev" })).toThrow(/no start-units script/);
    });

    test("a unit one role needs stays needed when another role lists it as optional", () => {
        const merged = mergeRoles({ ...emptyRole("a"), optionalServices: ["munin-node", "x"] }, { ...emptyRole("b"), services: ["x"] });
        expect(merged.services).toEqual(["x"]);
        expect(merged.optionalServices).toEqual(["munin-node"]);
    });

    test("every tier's user data starts Munin's node as optional, its daemons as required", () => {
        const starts = new Map<string, string[]>();
        for (const instance of seed.ofType(T.instance)) {
            const doc = yaml.load(userDataOf(instance)) as { runcmd: unknown[] };
            const start = doc.runcmd.find((c) => Array.isArray(c) && c[0] === START_UNITS) as string[];
            starts.set(hostName(instance), start);
        }
        expect(starts.size).toBeGreaterThan(5);
        for (const [host, start] of starts) {
            expect(start.slice(start.indexOf("--optional")), host).toEqual(["--optional", "munin-node"]);
        }
        expect(starts.get("app-0")).toEqual(expect.arrayContaining(["nginx", "instagram-app"]));
        expect(starts.get("munin")).toEqual(expect.arrayContaining(["nginx", "cron"]));
    });

    test("two roles writing the same file is an error, not a silent override", () => {
        const a = { ...emptyRole("a"), files: [{ path: "/etc/x", content: "1", permissions: "0644" }] };
        const b = { ...emptyRole("b"), files: [{ path: "/etc/x", content: "2", permissions: "0644" }] };
        expect(() => mergeRoles(a, b)).toThrow(/two roles write \/etc\/x/);
    });

    test("user data over 16 KiB is gzipped into userDataBase64 and unpacks to the same text", () => {
        const small = "#cloud-config\n" + "a".repeat(100);
        expect(encodeUserData(small)).toEqual({ userData: small });
        const big = "#cloud-config\nwrite_files:\n" + Array.from({ length: 800 }, (_, i) => `- path: /etc/f${i}\n  content: line ${i}\n`).join("");
        expect(Buffer.byteLength(big)).toBeGreaterThan(16 * 1024);
        const encoded = encodeUserData(big);
        expect(encoded.userData).toBeUndefined();
        expect(zlib.gunzipSync(Buffer.from(encoded.userDataBase64!, "base64")).toString("utf8")).toBe(big);
        const random = execFileSync("head", ["-c", "30000", "/dev/urandom"]).toString("base64");
        expect(() => encodeUserData(random)).toThrow(/even gzipped/);
    });
});

describe("runcmd as cloud-init runs it", () => {
    test("a failing step stops the boot script before the finished marker, and the script fails", () => {
        // cloud-init's own code turns runcmd into the script it runs (Debian's cloud-init lives in /usr/bin/python3).
        const spec = { ...emptyRole("demo"), commands: [["true"], ["sh", "-c", "exit 7"], ["echo", "after-the-failure"]] };
        const runcmd = (yaml.load(renderCloudConfig(spec, { hostname: "h", stack: "dev" })) as { runcmd: unknown[] }).runcmd;
        const script = execFileSync("/usr/bin/python3", ["-c", "import json, sys\nfrom cloudinit import util\nsys.stdout.write(util.shellify(json.load(sys.stdin)))"], { input: JSON.stringify(runcmd), encoding: "utf8" });
        expect(script.split("\n").slice(0, 2)).toEqual(["#!/bin/sh", "set -e"]);
        const file = path.join(tmp, "runcmd.sh");
        fs.writeFileSync(file, script);
        const run = spawnSync("sh", [file], { encoding: "utf8" });
        expect(run.status).toBe(7);
        expect(run.stdout).not.toContain("after-the-failure");
        expect(script).toContain("/var/lib/instagram/role-done");
    });
});
