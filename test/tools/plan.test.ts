/** `npm run plan` as a user runs it: a separate process, its output and its exit codes. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, describe, expect, test } from "vitest";

const ROOT = path.resolve(__dirname, "../..");
const plan = (...args: string[]) => spawnSync(path.join(ROOT, "node_modules", ".bin", "tsx"), ["tools/plan.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
const BAD = path.join(ROOT, "Pulumi.plan-test-bad.yaml");
afterAll(() => fs.rmSync(BAD, { force: true }));

describe("npm run plan", () => {
    test("prints the tree, the counts by type and the outputs, and says no cloud was contacted", () => {
        const r = plan("--stack", "dev");
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain('Offline plan of stack "dev"');
        expect(r.stdout).toContain("No cloud was contacted");
        expect(r.stdout).toMatch(/ \+ pulumi:pulumi:Stack\s+instagram-dev/);
        expect(r.stdout).toMatch(/│  ├─ aws:ec2\/vpc:Vpc\s+net/);
        // app, shard, redis, memcached, gearman, search, munin
        expect(r.stdout).toMatch(/aws:ec2\/instance:Instance\s+7\n/);
        expect(r.stdout).toMatch(/─ instagram:search:SearchTier\s+search\n/);
        expect(r.stdout).toMatch(/\d+ to create \(including the stack\), evaluated in \d+ ms/);
        expect(r.stdout).toContain('siteUrl: "https://dev.example.com"');
        // App delivery: the build, the content-addressed upload, the per-host waits and the health gate.
        expect(r.stdout).toMatch(/─ command:local:Command\s+app-bundle\n/);
        expect(r.stdout).toMatch(/─ aws:s3\/bucketObjectv2:BucketObjectv2\s+app-artifact  \[retained on delete\]\n/);
        expect(r.stdout).toMatch(/─ command:local:Command\s+app-0-in-service\n/);
        expect(r.stdout).toMatch(/─ command:local:Command\s+site-ready\n/);
        // The bucket's name is the provider's to choose, so the release's URL is unknown until `pulumi up`.
        expect(r.stdout).toMatch(/appReleaseUrl: output<unknown>\n/);
        // Every type is followed by at least two spaces before its name, however deep the tree.
        for (const line of r.stdout.split("\n").filter((l) => l.startsWith(" + "))) expect(line).toMatch(/^ \+ .*[^\s] {2,}\S/);
    }, 60_000);

    test("shows only what it knows: the cloud's values are unknown, what follows from the config and the build is printed", () => {
        const r = plan("--stack", "dev", "--quiet");
        expect(r.status, r.stderr).toBe(0);
        const outputs = Object.fromEntries(r.stdout.split("Outputs:\n")[1].trim().split("\n").map((l) => {
            const [key, ...value] = l.trim().split(": ");
            return [key, value.join(": ")];
        }));
        // Never invented: the health gate never ran, addresses, DNS names and bucket names come from AWS.
        for (const key of ["siteReady", "privateIps", "loadBalancerDns", "mediaBucket", "appReleaseUrl"]) expect(outputs[key], key).toBe("output<unknown>");
        expect(r.stdout).not.toMatch(/healthy after|10\.20\.\d+\.\d+"|elb\.amazonaws\.com|app-artifacts-[0-9a-f]/);
        // Known without the cloud: the config's, the shard map, the SSM names, and the release built here.
        expect(outputs.siteUrl).toBe('"https://dev.example.com"');
        expect(JSON.parse(outputs.shardMap)).toEqual([{ physicalShard: 0, firstLogicalShard: 0, lastLogicalShard: 63 }]);
        expect(JSON.parse(outputs.secretParameters)).toContain("/instagram/dev/postgres-app");
        const built = spawnSync("npm", ["run", "--silent", "build:app", "--", "--json"], { cwd: ROOT, encoding: "utf8" });
        expect(outputs.appRelease).toBe(JSON.stringify(JSON.parse(built.stdout).sha256));
    }, 60_000);

    test("--json: every resource with its type, name, parent and inputs, unknowns as Pulumi's sentinel", () => {
        const r = plan("--stack", "dev", "--json");
        expect(r.status, r.stderr).toBe(0);
        const doc = JSON.parse(r.stdout);
        expect(doc).toMatchObject({ project: "instagram", stack: "dev", region: "us-east-1", unknownValue: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" });
        const unknown = doc.unknownValue;
        const byName = (type: string, name: string) => doc.resources.find((x: { type: string; name: string }) => x.type === type && x.name === name);
        const vpc = byName("aws:ec2/vpc:Vpc", "net");
        expect(vpc.inputs.cidrBlock).toBe("10.20.0.0/16");
        expect(doc.resources.find((x: { urn: string }) => x.urn === vpc.parent).type).toBe("instagram:network:Network");
        // An instance's subnet is the provider's ID: unknown. Its type comes from the config: known.
        const app = byName("aws:ec2/instance:Instance", "app-0");
        expect(app.inputs.subnetId).toBe(unknown);
        expect(app.inputs.instanceType).toBe("t3.medium"); // Pulumi.dev.yaml
        expect(byName("random:index/randomPassword:RandomPassword", "secrets-postgres-app").inputs.length).toBeGreaterThan(16);
        expect(doc.outputs.siteReady).toBe(unknown);
        expect(doc.outputs.shardMap).toHaveLength(1);
        expect(doc.resources.length).toBeGreaterThan(150);
    }, 60_000);

    test("a bad config exits 1 with one line per bad key; an unknown stack names the known ones", () => {
        fs.writeFileSync(BAD, "config:\n  instagram:domain: example.com\n  instagram:azCount: 7\n  instagram:appInstanceType: c1.xlarge\n");
        const r = plan("--stack", "plan-test-bad");
        expect(r.status).toBe(1);
        expect(r.stderr).toContain('plan: stack "plan-test-bad" has an invalid configuration:');
        expect(r.stderr).toContain('  - instagram:azCount = "7": must be an integer from 2 to 3');
        expect(r.stderr).toMatch(/ {2}- instagram:appInstanceType = "c1.xlarge": must be an instance type of a known family/);
        expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
        const unknown = plan("--stack", "nope");
        expect(unknown.status).toBe(1);
        expect(unknown.stderr).toMatch(/no stack file Pulumi.nope.yaml; the stacks here are: .*dev.*instagram-2011/);
    }, 60_000);

    test("a bad flag exits 2 with the usage", () => {
        const r = plan("--bogus");
        expect(r.status).toBe(2);
        expect(r.stderr).toContain('plan: unknown argument "--bogus"');
        expect(r.stderr).toContain("usage: npm run plan -- [--stack NAME]");
        expect(plan("--stack").status).toBe(2);
    }, 60_000);
});
