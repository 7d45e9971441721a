/**
 * tools/wait-healthy.ts, what `pulumi up` runs to gate on health: against a loopback HTTPS site behind a
 * self-signed CA and a stand-in for the ELBv2 API (no AWS here). It passes once the check passes, and a
 * timeout names what the check last saw (the failing /readyz problem, the target's health reason). The
 * stand-in reads the SigV4 Authorization header, so the tests see which credentials signed each request: a
 * named profile (AWS_PROFILE, what the program sets from aws:profile) from a shared config in a temporary HOME.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../delivery/sources";

const HOST = "127.0.6.3";
let dir: string;
let site: https.Server;
let sitePort: number;
let elb: http.Server;
let elbUrl: string;
let readyAfter = 0;
/** The SigV4 credential scope of the last ELBv2 request: access key id, date, region, service. */
let lastCredential: { accessKeyId: string; region: string; service: string } | undefined;
const signer = () => lastCredential;
let home: string;
let readyCalls = 0;
const targetStates: string[] = [];

const ENV_KEYS = { AWS_ACCESS_KEY_ID: "AKIAMOCK", AWS_SECRET_ACCESS_KEY: "mock" };

/** `env` replaces the default environment's AWS part (static keys in the environment). */
function run(args: string[], env: Record<string, string> = ENV_KEYS): Promise<{ status: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["--import", "tsx", "tools/wait-healthy.ts", ...args], {
            cwd: PROJECT_ROOT,
            // HOME holds the only shared config and credentials files the SDK can find.
            env: { PATH: process.env.PATH!, HOME: home, AWS_EC2_METADATA_DISABLED: "true", ...env },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr }));
    });
}

function targetHealthXml(state: string): string {
    const [name, reason, description] = state.split("|");
    return `<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">
  <DescribeTargetHealthResult><TargetHealthDescriptions><member>
    <Target><Id>i-0abc</Id><Port>80</Port></Target><HealthCheckPort>80</HealthCheckPort>
    <TargetHealth><State>${name}</State>${reason ? `<Reason>${reason}</Reason><Description>${description}</Description>` : ""}</TargetHealth>
  </member></TargetHealthDescriptions></DescribeTargetHealthResult>
  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>
</DescribeTargetHealthResponse>`;
}

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "wait-healthy-"));
    // A deployer's AWS files: a default profile and the named one the stack's aws:profile names.
    home = path.join(dir, "home");
    fs.mkdirSync(path.join(home, ".aws"), { recursive: true });
    fs.writeFileSync(path.join(home, ".aws", "config"), "[default]\nregion = us-west-2\n\n[profile prod-admin]\nregion = eu-west-1\n");
    fs.writeFileSync(path.join(home, ".aws", "credentials"), "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = default-secret\n\n[prod-admin]\naws_access_key_id = AKIAPRODADMIN\naws_secret_access_key = prod-secret\n");
    const key = path.join(dir, "key.pem");
    const cert = path.join(dir, "cert.pem");
    const r = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", `/CN=${HOST}`, "-addext", `subjectAltName=IP:${HOST}`], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    site = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
        readyCalls++;
        res.setHeader("Content-Type", "application/json");
        if (req.url === "/readyz" && readyCalls > readyAfter) {
            res.end(JSON.stringify({ status: "ready" }));
        } else {
            res.statusCode = 503;
            res.end(JSON.stringify({ status: "not ready", problems: ["postgres: shard 1 (10.20.0.12:6432) is down"] }));
        }
    });
    await new Promise<void>((resolve) => site.listen(0, HOST, () => resolve()));
    sitePort = (site.address() as { port: number }).port;
    elb = http.createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
            const scope = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization));
            lastCredential = scope ? { accessKeyId: scope[1], region: scope[2], service: scope[3] } : undefined;
            expect(body).toContain("Action=DescribeTargetHealth");
            expect(body).toContain("Targets.member.1.Id=i-0abc");
            res.setHeader("Content-Type", "text/xml");
            res.end(targetHealthXml(targetStates.length > 1 ? targetStates.shift()! : targetStates[0]));
        });
    });
    await new Promise<void>((resolve) => elb.listen(0, HOST, () => resolve()));
    elbUrl = `http://${HOST}:${(elb.address() as { port: number }).port}`;
});
afterAll(() => {
    site.close();
    elb.close();
    fs.rmSync(dir, { recursive: true, force: true });
});

describe("wait-healthy", () => {
    test("url: waits through 503s and passes on the first 200", async () => {
        readyCalls = 0;
        readyAfter = 2;
        const r = await run(["url", `https://${HOST}:${sitePort}/readyz`, "--ca", path.join(dir, "cert.pem"), "--interval", "0.2", "--timeout", "20"]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`https://${HOST.replace(/\./g, "\\.")}:${sitePort}/readyz healthy after \\d+ s: 200 \\(ready\\)`));
        expect(r.stderr).toContain("503: postgres: shard 1 (10.20.0.12:6432) is down");
        expect(readyCalls).toBe(3);
    });

    test("url: a timeout fails, naming the check that did not pass", async () => {
        readyCalls = 0;
        readyAfter = 1_000_000;
        const r = await run(["url", `https://${HOST}:${sitePort}/readyz`, "--ca", path.join(dir, "cert.pem"), "--interval", "0.2", "--timeout", "1"]);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/did not pass within 1 s; last: 503: postgres: shard 1 \(10\.20\.0\.12:6432\) is down/);
    });

    test("url: a certificate it cannot verify is a failure, not a pass", async () => {
        readyAfter = 0;
        const r = await run(["url", `https://${HOST}:${sitePort}/readyz`, "--interval", "0.2", "--timeout", "1"]);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/self[- ]signed certificate/);
    });

    test("target: waits while the target is initial or unhealthy, passes when healthy", async () => {
        targetStates.splice(0, targetStates.length, "initial|Elb.RegistrationInProgress|Target registration is in progress", "unhealthy|Target.ResponseCodeMismatch|Health checks failed with these codes: [502]", "healthy");
        const r = await run(["target", "--target-group", "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app/abc", "--target", "i-0abc", "--port", "80", "--region", "us-east-1", "--endpoint", elbUrl, "--interval", "0.2", "--timeout", "20"]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toContain("initial (Elb.RegistrationInProgress: Target registration is in progress)");
        expect(r.stderr).toContain("unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [502])");
        expect(r.stdout).toContain("target i-0abc in targetgroup/app/abc healthy after");
    });

    test("target: a timeout names the health reason", async () => {
        targetStates.splice(0, targetStates.length, "unhealthy|Target.Timeout|Request timed out");
        const r = await run(["target", "--target-group", "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app/abc", "--target", "i-0abc", "--port", "80", "--region", "us-east-1", "--endpoint", elbUrl, "--interval", "0.2", "--timeout", "1"]);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("last: unhealthy (Target.Timeout: Request timed out)");
    });

    describe("credentials", () => {
        const TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app/abc";
        const target = ["target", "--target-group", TG, "--target", "i-0abc", "--port", "80", "--region", "us-east-1", "--interval", "0.2", "--timeout", "20"];
        const healthy = () => targetStates.splice(0, targetStates.length, "healthy");

        test("AWS_PROFILE (aws:profile) signs with that profile's keys from the shared files, in the --region", async () => {
            healthy();
            lastCredential = undefined;
            const r = await run([...target, "--endpoint", elbUrl], { AWS_PROFILE: "prod-admin", AWS_REGION: "us-east-1" });
            expect(r.status, r.stderr).toBe(0);
            expect(signer()).toEqual({ accessKeyId: "AKIAPRODADMIN", region: "us-east-1", service: "elasticloadbalancing" });
        });

        test("with static keys in the environment too, the profile wins (as in the provider), with the SDK's warning", async () => {
            healthy();
            lastCredential = undefined;
            const r = await run([...target, "--endpoint", elbUrl], { ...ENV_KEYS, AWS_PROFILE: "prod-admin", AWS_REGION: "us-east-1" });
            expect(r.status, r.stderr).toBe(0);
            expect(signer()?.accessKeyId).toBe("AKIAPRODADMIN");
            expect(r.stderr).toContain("Both AWS_PROFILE and the pair AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY static credentials are set");
        });

        test("without a profile: the environment's keys, else the default profile (the SDK's default chain)", async () => {
            healthy();
            const withKeys = await run([...target, "--endpoint", elbUrl]);
            expect(withKeys.status, withKeys.stderr).toBe(0);
            expect(signer()?.accessKeyId).toBe("AKIAMOCK");
            const withFiles = await run([...target, "--endpoint", elbUrl], {});
            expect(withFiles.status, withFiles.stderr).toBe(0);
            expect(signer()?.accessKeyId).toBe("AKIADEFAULT");
        });

        test("a profile the files do not have fails at once, naming it, instead of polling until the timeout", async () => {
            healthy();
            const started = Date.now();
            const r = await run([...target, "--endpoint", elbUrl], { AWS_PROFILE: "prod-typo", AWS_REGION: "us-east-1" });
            expect(r.status).toBe(1);
            expect(r.stderr).toContain('target i-0abc in targetgroup/app/abc: no AWS credentials from profile "prod-typo" (AWS_PROFILE)');
            expect(Date.now() - started).toBeLessThan(15_000);
        });
    });

    test.each([
        [[], "missing mode"],
        [["url"], "url mode takes exactly one URL"],
        [["url", "ftp://x/readyz"], "not an http(s) URL"],
        [["url", "https://x/readyz", "--timeout", "-1"], "--timeout -1: must be a number of seconds"],
        [["target", "--target", "i-1"], "--port is required"],
        [["target", "--target", "i-1", "--port", "99999"], "--port must be a TCP port"],
        [["url", "https://x/readyz", "--bogus", "1"], "unknown flag --bogus"],
    ])("bad arguments %j exit 2: %s", async (args, message) => {
        const r = await run(args as string[]);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain(message);
        expect(r.stderr).toContain("usage: wait-healthy");
    });
});
