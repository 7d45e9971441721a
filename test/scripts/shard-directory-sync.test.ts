/**
 * shard-directory-sync.sh against loopback stand-ins for IMDS and SSM: it reads the directory's parameter
 * with the instance role's credentials (a SigV4-signed GetParameter, as fetch-secrets does), replaces the
 * host's copy atomically only when it changed, and keeps the last copy when SSM fails or sends no JSON.
 * The parameter is the dev stack's directory, and every SSM call the script made must be one the rendered IAM
 * policy allows both tiers that run it (app and worker hosts), in the region instance metadata names.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FakeImds, instanceRoleMetadata, startFakeImds } from "../harness/fake-imds";
import { AwsCallRecorder, ssmCalls } from "../harness/aws-calls";
import { callsDenied, renderedStack } from "../harness/iam-evaluate";
import { shardDirectoryParameterName } from "../../core/shard-directory";

const SCRIPT = path.resolve(__dirname, "../../cloud-init/scripts/shard-directory-sync.sh");
const AWS_LIB = path.resolve(__dirname, "../../cloud-init/scripts/aws-lib.sh");
const HOST = "127.0.6.2";
const NAME = shardDirectoryParameterName("dev");
const REGION = "eu-west-1";
const CREDS = { AccessKeyId: "ASIAMOCKSYNCKEY", SecretAccessKey: "mock/secret", Token: "session-token-sync", Code: "Success" };

let imds: FakeImds;
let ssm: http.Server;
let ssmUrl: string;
let value: string | undefined = '{"format":1,"logicalShards":8}';
const reads: http.IncomingHttpHeaders[] = [];
/** The reads the stand-in answered, in IAM's terms. */
const calls = new AwsCallRecorder();
let dir: string;

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "directory-sync-"));
    imds = await startFakeImds(HOST, instanceRoleMetadata("app-host-role", CREDS, REGION));
    ssm = http.createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
            reads.push(req.headers);
            const signed = req.headers["x-amz-target"] === "AmazonSSM.GetParameter" && req.headers["content-type"] === "application/x-amz-json-1.1"
                && /^AWS4-HMAC-SHA256 Credential=ASIAMOCKSYNCKEY\/\d{8}\/eu-west-1\/ssm\/aws4_request, SignedHeaders=\S+, Signature=[0-9a-f]{64}$/.test(String(req.headers.authorization))
                && req.headers["x-amz-security-token"] === CREDS.Token;
            if (!signed || JSON.parse(body).Name !== NAME || value === undefined) {
                res.writeHead(400, { "Content-Type": "application/x-amz-json-1.1" }).end(JSON.stringify({ __type: signed ? "ParameterNotFound" : "InvalidSignatureException" }));
                return;
            }
            calls.record(() => ssmCalls("GetParameter", JSON.parse(body), REGION));
            res.writeHead(200, { "Content-Type": "application/x-amz-json-1.1" }).end(JSON.stringify({ Parameter: { Name: NAME, Type: "String", Value: value, Version: 1 } }));
        });
    });
    const port = await new Promise<number>((resolve) => ssm.listen(0, HOST, () => resolve((ssm.address() as { port: number }).port)));
    ssmUrl = `http://${HOST}:${port}`;
});

afterAll(async () => {
    await imds.close();
    await new Promise((resolve) => ssm.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
});

/** Run the script (asynchronously: the stand-ins answer from this process). */
function sync(...args: string[]): Promise<{ status: number | null; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn("sh", [SCRIPT, ...args], {
            env: { PATH: process.env.PATH, INSTAGRAM_AWS_LIB: AWS_LIB, INSTAGRAM_IMDS_ENDPOINT: imds.url, INSTAGRAM_SSM_ENDPOINT: ssmUrl, INSTAGRAM_FETCH_ATTEMPTS: "2" },
        });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (status) => resolve({ status, stderr }));
    });
}

describe("shard-directory-sync", () => {
    test("writes the parameter's value with a signed GetParameter, 0644, and rewrites only on a change", async () => {
        const dest = path.join(dir, "lib", "shard-directory.json");
        const first = await sync(NAME, dest, "5", "--once");
        expect(first.status, first.stderr).toBe(0);
        expect(fs.readFileSync(dest, "utf8")).toBe(value);
        expect(fs.statSync(dest).mode & 0o777).toBe(0o644);
        expect(first.stderr).toContain(`wrote ${NAME} to ${dest}`);
        const again = await sync(NAME, dest, "5", "--once");
        expect(again.status).toBe(0);
        expect(again.stderr).not.toContain("wrote");
        value = '{"format":1,"logicalShards":8,"changed":true}';
        expect((await sync(NAME, dest, "5", "--once")).stderr).toContain("wrote");
        expect(fs.readFileSync(dest, "utf8")).toBe(value);
        expect(fs.readdirSync(path.dirname(dest))).toEqual(["shard-directory.json"]); // no temporary file left
    });

    test("SSM failing, or sending no JSON object, keeps the last copy and says so", async () => {
        const dest = path.join(dir, "kept.json");
        fs.writeFileSync(dest, "previous");
        value = undefined;
        const failed = await sync(NAME, dest, "5", "--once");
        expect(failed.status).toBe(1);
        expect(failed.stderr).toContain(`could not read ${NAME}; keeping ${dest}`);
        value = "not json";
        const junk = await sync(NAME, dest, "5", "--once");
        expect(junk.status).toBe(1);
        expect(junk.stderr).toContain(`${NAME} does not hold a JSON object; keeping ${dest}`);
        expect(fs.readFileSync(dest, "utf8")).toBe("previous");
        value = '{"format":1}';
    });

    test("bad arguments exit 2 with what is wrong", async () => {
        for (const [args, message] of [
            [["relative/name", "/tmp/x"], /PARAMETER_NAME must start with \//],
            [[NAME, "relative.json"], /DEST must be an absolute path/],
            [[NAME, "/tmp/x", "0"], /INTERVAL_SECONDS must be 1 to 9999/],
            [[NAME, "/tmp/x", "5", "--twice"], /usage: shard-directory-sync/],
        ] as const) {
            const r = await sync(...args);
            expect(r.status, args.join(" ")).toBe(2);
            expect(r.stderr).toMatch(message);
        }
    });

    test("every SSM call it made is allowed by the app and worker hosts' rendered IAM policies", async () => {
        expect(calls.actions()).toEqual(["ssm:GetParameter"]);
        const run = await renderedStack(REGION);
        for (const role of ["app", "worker"]) expect(await callsDenied(run, role, calls.distinct())).toEqual([]);
    });
});
