/**
 * A loopback stand-in for S3 (path-style, over TLS) for pgBackRest's S3 repository: this machine cannot
 * reach AWS, and no S3-compatible server is packaged for npm or Debian here. It checks each request as S3
 * does before acting on it: the SigV4 signature computed again from the request (method, encoded path,
 * sorted query, signed headers, the payload hash), x-amz-content-sha256 against the body, Content-MD5 where
 * S3 requires it, the session token when the credentials are temporary, and the bucket's name. It serves
 * what pgBackRest uses: PUT/GET/HEAD/DELETE of objects, ListObjectsV2 with prefix, delimiter and
 * continuation, multi-object delete, and multipart uploads. Objects live in memory; every request is
 * recorded, and each one it served also in IAM's terms (`calls`, test/harness/aws-calls.ts). Over TLS with
 * a self-signed certificate (pgBackRest is told not to verify it: repo1-storage-verify-tls=n), or plain
 * HTTP for the host scripts' curl (as the other S3 stand-ins).
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { AddressInfo } from "net";
import { AwsCallRecorder, s3Calls } from "./aws-calls";

export interface S3Credentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

class S3Error extends Error {
    constructor(readonly code: string, message: string, readonly status = 400) {
        super(message);
    }
}

const hmac = (key: Buffer | string, data: string) => crypto.createHmac("sha256", key).update(data).digest();
const sha256 = (data: Buffer | string) => crypto.createHash("sha256").update(data).digest("hex");
/** RFC 3986 encoding as SigV4 wants it: everything but the unreserved characters. */
const uriEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export class FakeS3 {
    readonly objects = new Map<string, Buffer>();
    readonly requests: { method: string; key: string; query: string }[] = [];
    /** The requests it served, as the IAM actions S3 authorizes them with (a recorder shared with other stand-ins when given). */
    readonly calls: AwsCallRecorder;
    private readonly uploads = new Map<string, { key: string; parts: Map<number, Buffer> }>();
    /** A fault to inject: requests it matches are answered 500 InternalError, as S3 does now and then. */
    refuse?: (method: string, key: string, query: URLSearchParams) => boolean;
    private server?: http.Server;
    private certDir?: string;

    constructor(readonly bucket: string, readonly credentials: S3Credentials, readonly region = "us-east-1", calls = new AwsCallRecorder()) {
        this.calls = calls;
    }

    async start(host = "127.0.0.1", port = 0, o: { tls: boolean } = { tls: true }): Promise<{ host: string; port: number }> {
        const handler: http.RequestListener = (req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("end", () => {
                let status = 200;
                let headers: Record<string, string | number> = {};
                let out: Buffer = Buffer.alloc(0);
                try {
                    const body = Buffer.concat(chunks);
                    ({ status, headers, body: out } = this.handle(req, body));
                    if (status < 300) this.calls.record(() => s3Calls(req.method!, req.url ?? "/", req.headers, body));
                } catch (e) {
                    const err = e instanceof S3Error ? e : new S3Error("InternalError", (e as Error).message, 500);
                    status = err.status;
                    headers = { "Content-Type": "application/xml" };
                    out = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${err.code}</Code><Message>${xml(err.message)}</Message></Error>`);
                }
                res.writeHead(status, { ...headers, "Content-Length": out.length, "x-amz-request-id": crypto.randomBytes(8).toString("hex") });
                res.end(req.method === "HEAD" ? undefined : out);
            });
        };
        if (o.tls) {
            this.certDir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-s3-"));
            const key = path.join(this.certDir, "key.pem");
            const cert = path.join(this.certDir, "cert.pem");
            execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=s3.fake.test", "-keyout", key, "-out", cert], { stdio: "ignore" });
            this.server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, handler);
        } else {
            this.server = http.createServer(handler);
        }
        await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
        return { host, port: (this.server.address() as AddressInfo).port };
    }

    async stop(): Promise<void> {
        await new Promise((resolve) => this.server?.close(resolve));
        if (this.certDir) fs.rmSync(this.certDir, { recursive: true, force: true });
    }

    /** Multipart uploads begun and neither completed nor aborted (S3 keeps, and bills, their parts). */
    get openUploads(): number {
        return this.uploads.size;
    }

    /** Keys under a prefix, sorted. */
    keys(prefix = ""): string[] {
        return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    }

    private checkSignature(req: http.IncomingMessage, url: URL, body: Buffer): void {
        const auth = req.headers.authorization ?? "";
        const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
        if (!m) throw new S3Error("AccessDenied", `Authorization is not a SigV4 header for s3: ${auth.slice(0, 80)}`, 403);
        const [, keyId, day, region, signedHeaders, signature] = m;
        if (keyId !== this.credentials.accessKeyId) throw new S3Error("InvalidAccessKeyId", `The AWS Access Key Id you provided does not exist in our records (${keyId})`, 403);
        if (region !== this.region) throw new S3Error("AuthorizationHeaderMalformed", `the region '${region}' is wrong; expecting '${this.region}'`);
        const signed = signedHeaders.split(";");
        for (const h of ["host", "x-amz-date", "x-amz-content-sha256", ...(this.credentials.sessionToken ? ["x-amz-security-token"] : [])]) {
            if (!signed.includes(h)) throw new S3Error("AccessDenied", `${h} must be signed`, 403);
        }
        if (this.credentials.sessionToken && req.headers["x-amz-security-token"] !== this.credentials.sessionToken) throw new S3Error("InvalidToken", "The provided token is malformed or otherwise invalid.");
        const payloadHash = String(req.headers["x-amz-content-sha256"]);
        if (payloadHash !== sha256(body)) throw new S3Error("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
        const amzDate = String(req.headers["x-amz-date"] ?? "");
        if (!amzDate.startsWith(day)) throw new S3Error("AccessDenied", "X-Amz-Date does not match the credential's date", 403);
        const query = [...url.searchParams.entries()].map(([k, v]) => [uriEncode(k), uriEncode(v)]).sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join("&");
        const canonicalHeaders = signed.map((h) => `${h}:${String(req.headers[h] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
        const canonicalPath = url.pathname.split("/").map((seg) => uriEncode(decodeURIComponent(seg))).join("/");
        const canonical = [req.method, canonicalPath, query, canonicalHeaders, signedHeaders, payloadHash].join("\n");
        const toSign = ["AWS4-HMAC-SHA256", amzDate, `${day}/${region}/s3/aws4_request`, sha256(canonical)].join("\n");
        let key = hmac(`AWS4${this.credentials.secretAccessKey}`, day);
        for (const part of [region, "s3", "aws4_request"]) key = hmac(key, part);
        if (hmac(key, toSign).toString("hex") !== signature) throw new S3Error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", 403);
    }

    private handle(req: http.IncomingMessage, body: Buffer): { status: number; headers: Record<string, string>; body: Buffer } {
        const url = new URL(req.url ?? "/", "https://s3.fake.test");
        this.checkSignature(req, url, body);
        const [, bucket, ...rest] = url.pathname.split("/");
        if (decodeURIComponent(bucket) !== this.bucket) throw new S3Error("NoSuchBucket", `The specified bucket does not exist: ${bucket}`, 404);
        const key = decodeURIComponent(rest.join("/"));
        const q = url.searchParams;
        this.requests.push({ method: req.method!, key, query: url.search });
        if (this.refuse?.(req.method!, key, q)) throw new S3Error("InternalError", "We encountered an internal error. Please try again.", 500);
        const ok = (b: Buffer | string = "", headers: Record<string, string> = {}) => ({ status: 200, headers, body: Buffer.isBuffer(b) ? b : Buffer.from(b) });
        const etag = (b: Buffer) => `"${crypto.createHash("md5").update(b).digest("hex")}"`;
        if (req.method === "GET" && key === "" && q.get("list-type") === "2") return ok(this.list(q), { "Content-Type": "application/xml" });
        if (req.method === "POST" && key === "" && q.has("delete")) {
            const md5 = crypto.createHash("md5").update(body).digest("base64");
            if (req.headers["content-md5"] !== md5) throw new S3Error("InvalidDigest", "The Content-MD5 you specified was invalid (multi-object delete requires it).");
            const keys = [...body.toString("utf8").matchAll(/<Key>([^<]*)<\/Key>/g)].map((k) => k[1].replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"));
            if (keys.length > 1000) throw new S3Error("MalformedXML", "at most 1000 keys per delete");
            for (const k of keys) this.objects.delete(k);
            return ok(`<?xml version="1.0" encoding="UTF-8"?><DeleteResult>${body.includes("<Quiet>true</Quiet>") ? "" : keys.map((k) => `<Deleted><Key>${xml(k)}</Key></Deleted>`).join("")}</DeleteResult>`, { "Content-Type": "application/xml" });
        }
        if (key === "") throw new S3Error("NotImplemented", `${req.method} ${url.search} on the bucket is not served by this stand-in`, 501);
        if (req.method === "POST" && q.has("uploads")) {
            const id = crypto.randomBytes(12).toString("hex");
            this.uploads.set(id, { key, parts: new Map() });
            return ok(`<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>${this.bucket}</Bucket><Key>${xml(key)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`, { "Content-Type": "application/xml" });
        }
        if (q.has("uploadId")) {
            const upload = this.uploads.get(q.get("uploadId")!);
            if (!upload || upload.key !== key) throw new S3Error("NoSuchUpload", "The specified multipart upload does not exist.", 404);
            if (req.method === "PUT") {
                const n = Number(q.get("partNumber"));
                if (!Number.isInteger(n) || n < 1 || n > 10000) throw new S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000");
                if (body.length > 5 * 1024 ** 3) throw new S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.");
                upload.parts.set(n, body);
                return ok("", { ETag: etag(body) });
            }
            if (req.method === "POST") {
                const listed = [...body.toString("utf8").matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((p) => Number(p[1]));
                if (listed.length === 0 || listed.some((n, i) => !upload.parts.has(n) || (i > 0 && n <= listed[i - 1]))) throw new S3Error("InvalidPart", "One or more of the specified parts could not be found, or they are out of order.");
                for (const n of listed.slice(0, -1)) if (upload.parts.get(n)!.length < 5 * 1024 * 1024) throw new S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.");
                const whole = Buffer.concat(listed.map((n) => upload.parts.get(n)!));
                this.objects.set(key, whole);
                this.uploads.delete(q.get("uploadId")!);
                return ok(`<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Bucket>${this.bucket}</Bucket><Key>${xml(key)}</Key><ETag>${etag(whole)}</ETag></CompleteMultipartUploadResult>`, { "Content-Type": "application/xml" });
            }
            if (req.method === "DELETE") {
                this.uploads.delete(q.get("uploadId")!);
                return { status: 204, headers: {}, body: Buffer.alloc(0) };
            }
        }
        switch (req.method) {
            case "PUT":
                if (body.length > 5 * 1024 ** 3) throw new S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.");
                if (req.headers["content-md5"] && req.headers["content-md5"] !== crypto.createHash("md5").update(body).digest("base64")) throw new S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.");
                this.objects.set(key, body);
                return ok("", { ETag: etag(body) });
            case "GET":
            case "HEAD": {
                const object = this.objects.get(key);
                if (!object) throw new S3Error("NoSuchKey", "The specified key does not exist.", 404);
                return ok(object, { ETag: etag(object), "Last-Modified": new Date().toUTCString(), "Content-Type": "application/octet-stream", ...(req.method === "HEAD" ? { "Content-Length": String(object.length) } : {}) });
            }
            case "DELETE":
                this.objects.delete(key);
                return { status: 204, headers: {}, body: Buffer.alloc(0) };
        }
        throw new S3Error("NotImplemented", `${req.method} is not served by this stand-in`, 501);
    }

    /** ListObjectsV2: keys after the continuation token (or start-after), grouped by the delimiter. */
    private list(q: URLSearchParams): string {
        const prefix = q.get("prefix") ?? "";
        const delimiter = q.get("delimiter") ?? "";
        const max = Math.min(Number(q.get("max-keys") ?? 1000), 1000);
        const after = q.has("continuation-token") ? Buffer.from(q.get("continuation-token")!, "base64").toString("utf8") : q.get("start-after") ?? "";
        const entries: { key?: string; prefix?: string; sortKey: string }[] = [];
        const seenPrefixes = new Set<string>();
        for (const key of this.keys(prefix)) {
            const rest = key.slice(prefix.length);
            const cut = delimiter ? rest.indexOf(delimiter) : -1;
            if (cut >= 0) {
                const common = prefix + rest.slice(0, cut + delimiter.length);
                if (!seenPrefixes.has(common)) {
                    seenPrefixes.add(common);
                    entries.push({ prefix: common, sortKey: common });
                }
            } else entries.push({ key, sortKey: key });
        }
        const remaining = entries.filter((e) => e.sortKey > after);
        const page = remaining.slice(0, max);
        const truncated = remaining.length > page.length;
        const contents = page.filter((e) => e.key).map((e) => {
            const object = this.objects.get(e.key!)!;
            return `<Contents><Key>${xml(e.key!)}</Key><LastModified>${new Date().toISOString()}</LastModified><ETag>"${crypto.createHash("md5").update(object).digest("hex")}"</ETag><Size>${object.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
        }).join("");
        const prefixes = page.filter((e) => e.prefix).map((e) => `<CommonPrefixes><Prefix>${xml(e.prefix!)}</Prefix></CommonPrefixes>`).join("");
        const token = truncated ? `<NextContinuationToken>${Buffer.from(page[page.length - 1].sortKey).toString("base64")}</NextContinuationToken>` : "";
        return `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${this.bucket}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${prefixes}${token}</ListBucketResult>`;
    }
}
