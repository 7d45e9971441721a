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
        expect(r.stdout).toMatch(/aws:ec2\/instance:Instance\s+5\n/);
        expect(r.stdout).toMatch(/\d+ to create \(including the stack\), evaluated in \d+ ms/);
        expect(r.stdout).toContain('siteUrl: "https://dev.example.com"');
        // App delivery: the build, the content-addressed upload, the per-host waits and the health gate.
        expect(r.stdout).toMatch(/─ command:local:Command\s+app-bundle\n/);
        expect(r.stdout).toMatch(/─ aws:s3\/bucketObjectv2:BucketObjectv2\s+app-artifact  \[retained on delete\]\n/);
        expect(r.stdout).toMatch(/─ command:local:Command\s+app-0-in-service\n/);
        expect(r.stdout).toMatch(/─ command:local:Command\s+site-ready\n/);
        expect(r.stdout).toMatch(/appReleaseUrl: "s3:\/\/app-artifacts-[0-9a-f]+\/releases\/[0-9a-f]{64}\.tar\.gz"/);
        // Every type is followed by at least two spaces before its name, however deep the tree.
        for (const line of r.stdout.split("\n").filter((l) => l.startsWith(" + "))) expect(line).toMatch(/^ \+ .*[^\s] {2,}\S/);
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
