/**
 * The media stores: S3 (against a stand-in endpoint on loopback: the request the SDK signs and sends) and the
 * directory. The S3 store writes to the dev stack's photo bucket as the program names it, and every S3 call
 * it made must be one the app hosts' rendered IAM policy allows.
 */
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DirectoryMediaStore, photoExtension, S3MediaStore } from "../../app/api/media-store";
import { AwsCallRecorder, s3Calls } from "../harness/aws-calls";
import { callsDenied, renderedBucket, renderedStack } from "../harness/iam-evaluate";

let server: http.Server;
let endpoint: string;
const requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
/** The requests the stand-in answered, in IAM's terms. */
const calls = new AwsCallRecorder();
let bucket: string;

beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = "AKIAFAKEFORTESTS0001";
    process.env.AWS_SECRET_ACCESS_KEY = "fake-secret-for-tests";
    bucket = renderedBucket(await renderedStack(), "media");
    server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c) => chunks.push(c));
        req.on("end", () => {
            requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
            calls.record(() => s3Calls(req.method!, req.url!, req.headers, Buffer.concat(chunks)));
            res.setHeader("ETag", '"abc"');
            res.end();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.10.50", resolve));
    endpoint = `http://127.0.10.50:${(server.address() as { port: number }).port}`;
});
afterAll(() => server.close());

describe("media stores", () => {
    test("S3: a signed PutObject of the bytes, with the content type and an immutable cache policy", async () => {
        const store = new S3MediaStore(bucket, "eu-west-1", endpoint);
        const body = Buffer.from([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]);
        await store.put("photos/42/a.jpg", body, "image/jpeg");
        const put = requests.find((r) => r.method === "PUT")!;
        expect(put.url.split("?")[0]).toBe(`/${bucket}/photos/42/a.jpg`);
        expect(put.headers["content-type"]).toBe("image/jpeg");
        expect(put.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
        expect(put.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAFAKEFORTESTS0001\/\d{8}\/eu-west-1\/s3\/aws4_request/);
        expect(put.body).toEqual(body);
    });

    test("directory: the photo appears whole under its key, and a key cannot escape the directory", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "media-"));
        const store = new DirectoryMediaStore(dir);
        await store.put("photos/1/b.png", Buffer.from("png"), "image/png");
        expect(fs.readFileSync(path.join(dir, "photos/1/b.png"), "utf8")).toBe("png");
        expect(fs.readdirSync(path.join(dir, "photos/1"))).toEqual(["b.png"]);
        await expect(store.put("../outside.png", Buffer.from("x"), "image/png")).rejects.toThrow(/escapes the media directory/);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("directory: a directory removed after the store made it is made again (the store remembers what it made)", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "media-"));
        const store = new DirectoryMediaStore(dir);
        await store.put("photos/2/a.png", Buffer.from("one"), "image/png");
        fs.rmSync(path.join(dir, "photos"), { recursive: true });
        await store.put("photos/2/b.png", Buffer.from("two"), "image/png");
        expect(fs.readFileSync(path.join(dir, "photos/2/b.png"), "utf8")).toBe("two");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("a photo's bytes must match its declared type", () => {
        expect(photoExtension("image/jpeg", Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe("jpg");
        expect(photoExtension("image/png", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe("png");
        expect(photoExtension("image/webp", Buffer.from("RIFF\0\0\0\0WEBPVP8 "))).toBe("webp");
        expect(photoExtension("image/jpeg", Buffer.from("GIF89a"))).toBeUndefined();
        expect(photoExtension("image/gif", Buffer.from("GIF89a"))).toBeUndefined();
    });

    test("every S3 call the S3 store made is allowed by the app hosts' rendered IAM policy", async () => {
        expect(calls.actions()).toEqual(["s3:PutObject"]);
        expect(await callsDenied(await renderedStack(), "app", calls.distinct())).toEqual([]);
    });
});
