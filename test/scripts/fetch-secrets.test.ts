/**
 * fetch-secrets.sh against stand-ins for the instance metadata service and SSM on loopback: it must use
 * IMDSv2 tokens, sign its SSM calls with the role's credentials, write each secret with the requested
 * owner and mode, and fail clearly (writing nothing) when a parameter cannot be read. The parameters are the
 * dev stack's (an app host's manifest), and every SSM call the script made must be one the app hosts'
 * rendered IAM policy allows, in the region instance metadata names.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { secretParameterName } from "../../core/secrets";
import { AwsCallRecorder, ssmCalls } from "../harness/aws-calls";
import { callsDenied, renderedStack } from "../harness/iam-evaluate";

const SCRIPT = path.resolve(__dirname, "../../cloud-init/scripts/fetch-secrets.sh");
const AWS_LIB = path.resolve(__dirname, "../../cloud-init/scripts/aws-lib.sh");
const HOST = "127.0.6.1";
const TOKEN = "imds-token-abc";
const CREDS = { AccessKeyId: "ASIAMOCKACCESSKEY", SecretAccessKey: "mock/secret+key", Token: "session-token-xyz", Code: "Success" };
const REGION = "eu-west-1";
const REDIS_AUTH = secretParameterName("dev", "redis-auth");
const POSTGRES_APP = secretParameterName("dev", "postgres-app");
const PARAMETERS: Record<string, string> = { [REDIS_AUTH]: "R3disPassw0rd", [POSTGRES_APP]: "AppPassw0rd" };
/** The SSM calls the stand-in answered, in IAM's terms. */
const calls = new AwsCallRecorder();

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }
const seen: Seen[] = [];
let imds: http.Server;
let ssm: http.Server;
let imdsPort: number;
let ssmPort: number;
let dir: string;

function listen(server: http.Server): Promise<number> {
    return new Promise((resolve) => server.listen(0, HOST, () => resolve((server.address() as { port: number }).port)));
}

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "secrets-"));
    imds = http.createServer((req, res): void => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: "" });
        const answers: Record<string, string> = {
            "/latest/meta-data/iam/security-credentials/": "app-host-role",
            "/latest/meta-data/iam/security-credentials/app-host-role": JSON.stringify(CREDS),
            "/latest/meta-data/placement/region": REGION,
        };
        if (req.method === "PUT" && req.url === "/latest/api/token") {
            res.end(TOKEN);
        } else if (req.headers["x-aws-ec2-metadata-token"] !== TOKEN) {
            res.statusCode = 401;
            res.end();
        } else if (req.url! in answers) {
            res.end(answers[req.url!]);
        } else {
            res.statusCode = 404;
            res.end();
        }
    });
    ssm = http.createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
            seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
            const name = JSON.parse(body).Name as string;
            if (!(name in PARAMETERS)) {
                res.statusCode = 400;
                res.end(JSON.stringify({ __type: "ParameterNotFound" }));
                return;
            }
            calls.record(() => ssmCalls(String(req.headers["x-amz-target"]).replace(/^AmazonSSM\./, ""), JSON.parse(body), REGION));
            res.setHeader("Content-Type", "application/x-amz-json-1.1");
            res.end(JSON.stringify({ Parameter: { Name: name, Type: "SecureString", Value: PARAMETERS[name], Version: 1 } }));
        });
    });
    imdsPort = await listen(imds);
    ssmPort = await listen(ssm);
});

afterAll(() => {
    imds.close();
    ssm.close();
    fs.rmSync(dir, { recursive: true, force: true });
});

function fetchSecrets(manifest: string): Promise<{ status: number; stderr: string }> {
    const file = path.join(dir, `manifest-${Math.random().toString(36).slice(2)}`);
    fs.writeFileSync(file, manifest);
    return new Promise((resolve) => {
        const child = spawn("sh", [SCRIPT, file], {
            env: {
                PATH: process.env.PATH!,
                INSTAGRAM_IMDS_ENDPOINT: `http://${HOST}:${imdsPort}`,
                INSTAGRAM_SSM_ENDPOINT: `http://${HOST}:${ssmPort}`,
                INSTAGRAM_FETCH_ATTEMPTS: "2",
                INSTAGRAM_AWS_LIB: AWS_LIB,
            },
        });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ status: code ?? -1, stderr }));
    });
}

describe("fetch-secrets.sh", () => {
    test("writes each secret with its owner and mode, fetched with IMDSv2 credentials and a SigV4-signed SSM call", async () => {
        seen.length = 0;
        const redis = path.join(dir, "out", "redis-auth");
        const app = path.join(dir, "out", "postgres-app");
        const r = await fetchSecrets(`# comment\n${REDIS_AUTH} ${redis} root:root 0600\n${POSTGRES_APP} ${app} root:daemon 0640\n`);
        expect(r.status, r.stderr).toBe(0);
        expect(fs.readFileSync(redis, "utf8")).toBe("R3disPassw0rd");
        expect(fs.statSync(redis).mode & 0o777).toBe(0o600);
        expect(fs.readFileSync(app, "utf8")).toBe("AppPassw0rd");
        expect(fs.statSync(app).mode & 0o777).toBe(0o640);
        if (process.getuid?.() === 0) expect(fs.statSync(app).gid).toBe(1); // daemon

        const ssmCalls = seen.filter((s) => s.method === "POST");
        expect(ssmCalls).toHaveLength(2);
        for (const call of ssmCalls) {
            expect(call.headers["x-amz-target"]).toBe("AmazonSSM.GetParameter");
            expect(call.headers["content-type"]).toBe("application/x-amz-json-1.1");
            expect(call.headers["x-amz-security-token"]).toBe(CREDS.Token);
            expect(call.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAMOCKACCESSKEY\/\d{8}\/eu-west-1\/ssm\/aws4_request, SignedHeaders=[^,]*x-amz-date[^,]*, Signature=[0-9a-f]{64}$/);
            expect(JSON.parse(call.body)).toMatchObject({ WithDecryption: true });
        }
        // IMDSv2: a token first, and every metadata read carries it.
        const metadata = seen.filter((s) => s.url.startsWith("/latest/") && s.method === "GET");
        expect(metadata.length).toBeGreaterThan(0);
        expect(metadata.every((s) => s.headers["x-aws-ec2-metadata-token"] === TOKEN)).toBe(true);
    });

    test("a parameter it cannot read fails the run, names the parameter and leaves no file", async () => {
        const dest = path.join(dir, "out", "missing");
        const ok = path.join(dir, "out", "still-written");
        const r = await fetchSecrets(`/instagram/dev/nope ${dest} root:root 0600\n${REDIS_AUTH} ${ok} root:root 0600\n`);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/could not read parameter \/instagram\/dev\/nope/);
        expect(fs.existsSync(dest)).toBe(false);
        expect(fs.readdirSync(path.join(dir, "out")).filter((f) => f.startsWith(".fetch-secrets"))).toEqual([]);
        expect(fs.readFileSync(ok, "utf8")).toBe("R3disPassw0rd");
    });

    test("a malformed manifest line is reported", async () => {
        const r = await fetchSecrets(`${REDIS_AUTH} relative/path root:root 0600\n`);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/bad manifest line for \/instagram\/dev\/redis-auth/);
    });

    test("every SSM call it made is allowed by the app hosts' rendered IAM policy", async () => {
        expect(calls.actions()).toEqual(["ssm:GetParameter"]);
        expect(await callsDenied(await renderedStack(REGION), "app", calls.distinct())).toEqual([]);
    });
});
