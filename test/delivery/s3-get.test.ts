/**
 * instagram-s3-get against stand-ins for the instance metadata service and S3 on loopback: a SigV4-signed
 * GET with the role's session token and the payload hash S3 requires; the object lands whole or not at all.
 * The bucket is the dev stack's artifacts bucket as the program names it, and every S3 call the script made
 * (a release download) must be one the rendered IAM policy allows both tiers that install releases.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";
import { FakeImds, instanceRoleMetadata, startFakeImds } from "../harness/fake-imds";
import { AwsCallRecorder, s3Calls } from "../harness/aws-calls";
import { callsDenied, renderedBucket, renderedStack } from "../harness/iam-evaluate";

const HOST = "127.0.6.2";
const CREDS = { AccessKeyId: "ASIAMOCKACCESSKEY", SecretAccessKey: "mock/secret+key", Token: "session-token-xyz", Code: "Success" };
const BUNDLE = Buffer.from("bundle bytes \x00\x01\x02");
/** Path-style keys ("/BUCKET/KEY") the stand-in serves: a release in the dev stack's artifacts bucket. */
const OBJECTS: Record<string, Buffer> = {};
let bucket: string;
/** The downloads the stand-in served, in IAM's terms. */
const calls = new AwsCallRecorder();

let imds: FakeImds;
let s3: http.Server;
let s3Url: string;
let dir: string;
const seen: http.IncomingHttpHeaders[] = [];

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "s3-get-"));
    bucket = renderedBucket(await renderedStack(), "app-artifacts");
    OBJECTS[`/${bucket}/releases/abc.tar.gz`] = BUNDLE;
    imds = await startFakeImds(HOST, instanceRoleMetadata("app-host-role", CREDS, "eu-west-1"));
    s3 = http.createServer((req, res) => {
        seen.push(req.headers);
        const body = OBJECTS[req.url!];
        if (!body) {
            res.statusCode = req.url!.includes("forbidden") ? 403 : 404;
            res.end("<Error><Code>AccessDenied</Code></Error>");
            return;
        }
        calls.record(() => s3Calls(req.method!, req.url!, req.headers));
        res.end(body);
    });
    await new Promise<void>((resolve) => s3.listen(0, HOST, () => resolve()));
    s3Url = `http://${HOST}:${(s3.address() as { port: number }).port}`;
});
afterAll(async () => {
    await imds.close();
    s3.close();
    fs.rmSync(dir, { recursive: true, force: true });
});

function s3Get(url: string, dest: string): Promise<{ status: number; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn("sh", [path.join(SCRIPTS_DIR, "s3-get.sh"), url, dest], {
            env: {
                PATH: process.env.PATH!,
                INSTAGRAM_IMDS_ENDPOINT: imds.url,
                INSTAGRAM_S3_ENDPOINT: s3Url,
                INSTAGRAM_FETCH_ATTEMPTS: "2",
                INSTAGRAM_AWS_LIB: path.join(SCRIPTS_DIR, "aws-lib.sh"),
            },
        });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ status: code ?? -1, stderr }));
    });
}

describe("instagram-s3-get", () => {
    test("downloads the object with a SigV4 signature for s3 in the instance's region", async () => {
        const dest = path.join(dir, "bundle.tar.gz");
        const r = await s3Get(`s3://${bucket}/releases/abc.tar.gz`, dest);
        expect(r.status, r.stderr).toBe(0);
        expect(fs.readFileSync(dest).equals(BUNDLE)).toBe(true);
        const headers = seen[seen.length - 1];
        expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAMOCKACCESSKEY\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=[^,]*x-amz-content-sha256[^,]*x-amz-security-token[^,]*, Signature=[0-9a-f]{64}$/);
        expect(headers["x-amz-security-token"]).toBe(CREDS.Token);
        expect(headers["x-amz-content-sha256"]).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    });

    test("an object it may not read fails with the URL named and leaves no file behind", async () => {
        const dest = path.join(dir, "denied.tar.gz");
        const r = await s3Get(`s3://${bucket}/forbidden/x.tar.gz`, dest);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`could not download s3://${bucket}/forbidden/x.tar.gz`);
        expect(fs.readdirSync(dir).filter((f) => f.includes("denied") || f.startsWith(".s3-get"))).toEqual([]);
    });

    test("refuses a URL that is not s3://BUCKET/KEY", async () => {
        const r = await s3Get("https://example.com/x", path.join(dir, "x"));
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("not an s3://BUCKET/KEY url");
    });

    test("every S3 call it made is allowed by the app and worker hosts' rendered IAM policies", async () => {
        expect(calls.actions()).toEqual(["s3:GetObject"]);
        const run = await renderedStack();
        for (const role of ["app", "worker"]) expect(await callsDenied(run, role, calls.distinct())).toEqual([]);
    });
});
