/**
 * The AWS calls a host makes, in IAM's terms: each loopback stand-in (SSM, S3, CloudWatch) names every request
 * it served as the IAM action(s) AWS authorizes it with, the resource ARN and the condition keys the request
 * sets, and records them here; test/harness/iam-evaluate.ts evaluates them against the host role's rendered
 * policies. The mapping follows AWS's Service Authorization Reference (the actions, resources and condition
 * keys tables of SSM, S3 and CloudWatch) and each operation's API reference ("Permissions" sections); one
 * comment per mapping. A request this file cannot name is an error (kept by the recorder, raised when the
 * calls are read): a stand-in that serves something new must say what IAM sees.
 * Only calls a stand-in answered with success are recorded: the failure-path tests ask on purpose for what
 * does not exist (a missing parameter, a forbidden key), and those answers are not what the host needs.
 */
import type { IncomingHttpHeaders } from "http";
import { ACCOUNT_ID } from "../../tools/offline/example-mocks";

export interface AwsCall {
    /** The IAM action, e.g. "s3:GetObject". */
    readonly action: string;
    /** The ARN the action is authorized against; "*" for an action without a resource type. */
    readonly resource: string;
    /** The condition keys the request sets that the action's conditions can read (cloudwatch:namespace, s3:prefix...). */
    readonly context: Readonly<Record<string, string | string[]>>;
    /** The request it came from, for messages ("PUT /bucket/key", "AmazonSSM.GetParameter"). */
    readonly request: string;
}

/** The calls one or more stand-ins served, in order. */
export class AwsCallRecorder {
    readonly calls: AwsCall[] = [];
    /** Requests served that this file could not name (the message of each): reading the calls then fails. */
    readonly unmapped: string[] = [];

    /**
     * Records what `name` says a served request was. It never throws (a stand-in's request handler calls it):
     * a request the mapping does not know is kept in `unmapped`, and reading the calls fails with it.
     */
    record(name: () => readonly AwsCall[]): void {
        try {
            this.calls.push(...name());
        } catch (e) {
            this.unmapped.push((e as Error).message);
        }
    }

    /** One of each distinct call (action, resource and context), in the order first seen. */
    distinct(): AwsCall[] {
        this.mustBeMapped();
        const seen = new Map<string, AwsCall>();
        for (const c of this.calls) {
            const id = callKey(c);
            if (!seen.has(id)) seen.set(id, c);
        }
        return [...seen.values()];
    }

    /** The distinct actions, sorted. */
    actions(): string[] {
        this.mustBeMapped();
        return [...new Set(this.calls.map((c) => c.action))].sort();
    }

    private mustBeMapped(): void {
        if (this.unmapped.length) throw new Error(`stand-ins served requests with no IAM mapping:\n${this.unmapped.join("\n")}`);
    }
}

export const callKey = (c: AwsCall) => `${c.action} ${c.resource} ${JSON.stringify(Object.entries(c.context).sort())}`;

/** One line naming a call: "s3:ListBucket arn:aws:s3:::b {s3:prefix=x}". */
export function describeCall(c: AwsCall): string {
    const context = Object.entries(c.context).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : v}`).join(" ");
    return `${c.action} ${c.resource}${context ? ` {${context}}` : ""}`;
}

/** An SSM parameter's ARN: arn:aws:ssm:REGION:ACCOUNT:parameter/NAME (a hierarchical name keeps one slash). */
export function parameterArn(region: string, name: string, account = ACCOUNT_ID): string {
    return `arn:aws:ssm:${region}:${account}:parameter/${name.replace(/^\//, "")}`;
}
export const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
export const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;

const call = (action: string, resource: string, request: string, context: Record<string, string | string[]> = {}): AwsCall => ({ action, resource, context, request });

class UnmappedRequest extends Error {
    constructor(what: string) {
        super(`test/harness/aws-calls.ts does not know which IAM action authorizes ${what}: add its mapping`);
    }
}

/**
 * SSM's JSON API (X-Amz-Target AmazonSSM.<Operation>): the operation's action on the parameters it names.
 * `instances`: the instance IDs a SendCommand reached (the stand-in resolved its tag targets).
 */
export function ssmCalls(operation: string, body: Record<string, any>, region: string, instances: readonly string[] = []): AwsCall[] {
    const request = `AmazonSSM.${operation}`;
    // A parameter selector (name:version or name:label) is not part of the resource: IAM sees the parameter.
    const param = (name: string) => parameterArn(region, String(name).replace(/:[^/:]*$/, ""));
    switch (operation) {
        // GetParameter: ssm:GetParameter on the parameter (WithDecryption needs kms:Decrypt on its key as well,
        // which the aws/ssm key's own policy grants to the account's principals through SSM).
        case "GetParameter":
            return [call("ssm:GetParameter", param(body.Name), request)];
        // GetParameters: ssm:GetParameters on each parameter named.
        case "GetParameters":
            return (body.Names as string[]).map((n) => call("ssm:GetParameters", param(n), request));
        // PutParameter: ssm:PutParameter on the parameter; ssm:Overwrite is the request's Overwrite flag.
        case "PutParameter":
            return [call("ssm:PutParameter", param(body.Name), request, body.Overwrite === undefined ? {} : { "ssm:Overwrite": String(body.Overwrite === true) })];
        // SendCommand: ssm:SendCommand on the document (an AWS-owned one has no account in its ARN, which
        // iam-simulate's ARN patterns do not take: only the operators' CLI sends commands, and it is not a host)
        // and on every instance it runs on.
        case "SendCommand": {
            const doc = String(body.DocumentName);
            const docArn = doc.startsWith("AWS-") ? `arn:aws:ssm:${region}::document/${doc}` : `arn:aws:ssm:${region}:${ACCOUNT_ID}:document/${doc}`;
            return [call("ssm:SendCommand", docArn, request), ...instances.map((id) => call("ssm:SendCommand", `arn:aws:ec2:${region}:${ACCOUNT_ID}:instance/${id}`, request))];
        }
        // ListCommands, ListCommandInvocations, GetCommandInvocation: no resource type ("*").
        case "ListCommands":
        case "ListCommandInvocations":
        case "GetCommandInvocation":
            return [call(`ssm:${operation}`, "*", request)];
        default:
            throw new UnmappedRequest(request);
    }
}

/** S3 sub-resources (query parameters that change which operation a request is). */
const SUBRESOURCES = new Set(["acl", "attributes", "delete", "encryption", "lifecycle", "location", "logging", "policy", "restore", "retention", "legal-hold", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning", "versions", "website", "cors", "notification", "replication", "publicAccessBlock", "ownershipControls", "object-lock", "select"]);

/** Condition keys an object write reads from its headers, when the request sets them. */
function writeContext(headers: IncomingHttpHeaders): Record<string, string> {
    const keys: Record<string, string> = {};
    for (const h of ["x-amz-server-side-encryption", "x-amz-storage-class", "x-amz-acl"]) {
        if (headers[h] !== undefined) keys[`s3:${h}`] = String(headers[h]);
    }
    return keys;
}

/** What a ListObjects(V2)/ListObjectVersions request's query sets: s3:prefix, s3:delimiter, s3:max-keys (a prefix given empty is ""). */
function listContext(q: URLSearchParams): Record<string, string> {
    const keys: Record<string, string> = {};
    for (const p of ["prefix", "delimiter", "max-keys"]) if (q.has(p)) keys[`s3:${p}`] = q.get(p)!;
    return keys;
}

/**
 * A path-style S3 REST request (/BUCKET/KEY?QUERY): the action(s) S3 authorizes it with. `body`: the request
 * body (DeleteObjects names its keys there).
 */
export function s3Calls(method: string, url: string, headers: IncomingHttpHeaders, body: Buffer | string = ""): AwsCall[] {
    const u = new URL(url, "http://s3.stand-in");
    const [, rawBucket = "", ...rest] = u.pathname.split("/");
    const bucket = decodeURIComponent(rawBucket);
    const key = rest.map(decodeURIComponent).join("/");
    const q = u.searchParams;
    const request = `${method} ${u.pathname}${u.search}`;
    const sub = [...q.keys()].filter((k) => SUBRESOURCES.has(k));
    const has = (...names: string[]) => sub.length === names.length && names.every((n) => q.has(n));
    if (bucket === "") throw new UnmappedRequest(`${request} (ListBuckets or a virtual-hosted request)`);
    if (key === "") {
        // ListObjectsV2 (list-type=2) and ListObjects: s3:ListBucket on the bucket, with the listing's s3:prefix,
        // s3:delimiter and s3:max-keys.
        if (method === "GET" && sub.length === 0) return [call("s3:ListBucket", bucketArn(bucket), request, listContext(q))];
        // HeadBucket: s3:ListBucket on the bucket.
        if (method === "HEAD" && sub.length === 0) return [call("s3:ListBucket", bucketArn(bucket), request)];
        // GetBucketLocation: s3:GetBucketLocation on the bucket.
        if (method === "GET" && has("location")) return [call("s3:GetBucketLocation", bucketArn(bucket), request)];
        // ListObjectVersions: s3:ListBucketVersions on the bucket, with the same listing keys.
        if (method === "GET" && has("versions")) return [call("s3:ListBucketVersions", bucketArn(bucket), request, listContext(q))];
        // ListMultipartUploads: s3:ListBucketMultipartUploads on the bucket.
        if (method === "GET" && has("uploads")) return [call("s3:ListBucketMultipartUploads", bucketArn(bucket), request)];
        // DeleteObjects: s3:DeleteObject on every key it names (s3:DeleteObjectVersion for a key given with a VersionId).
        if (method === "POST" && has("delete")) {
            const objects = [...String(body).matchAll(/<Object>([\s\S]*?)<\/Object>/g)].map((m) => m[1]);
            const unescape = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
            return objects.map((o) => {
                const k = unescape(/<Key>([\s\S]*?)<\/Key>/.exec(o)?.[1] ?? "");
                return call(/<VersionId>/.test(o) ? "s3:DeleteObjectVersion" : "s3:DeleteObject", objectArn(bucket, k), request);
            });
        }
        throw new UnmappedRequest(request);
    }
    const object = objectArn(bucket, key);
    // A copy (CopyObject, UploadPartCopy) also reads its source: s3:GetObject on it.
    const copySource = headers["x-amz-copy-source"] ? [call("s3:GetObject", `arn:aws:s3:::${decodeURIComponent(String(headers["x-amz-copy-source"]).replace(/^\//, "").split("?")[0])}`, request)] : [];
    // Tags given with a write (x-amz-tagging) need s3:PutObjectTagging as well.
    const tagging = headers["x-amz-tagging"] ? [call("s3:PutObjectTagging", object, request)] : [];
    switch (method) {
        case "GET":
        case "HEAD":
            // GetObject and HeadObject: s3:GetObject (a specific version: s3:GetObjectVersion).
            if (sub.length === 0) return [call("s3:GetObject", object, request)];
            if (has("versionId")) return [call("s3:GetObjectVersion", object, request)];
            // ListParts: s3:ListMultipartUploadParts on the object.
            if (has("uploadId")) return [call("s3:ListMultipartUploadParts", object, request)];
            // GetObjectTagging: s3:GetObjectTagging.
            if (method === "GET" && has("tagging")) return [call("s3:GetObjectTagging", object, request)];
            break;
        case "PUT":
            // PutObject and CopyObject: s3:PutObject on the object written, with its encryption, storage class and ACL keys.
            if (sub.length === 0) return [call("s3:PutObject", object, request, writeContext(headers)), ...copySource, ...tagging];
            // UploadPart (and UploadPartCopy): s3:PutObject on the object being uploaded.
            if (has("uploadId") && q.has("partNumber")) return [call("s3:PutObject", object, request), ...copySource];
            // PutObjectTagging: s3:PutObjectTagging.
            if (has("tagging")) return [call("s3:PutObjectTagging", object, request)];
            break;
        case "POST":
            // CreateMultipartUpload: s3:PutObject, with the headers' keys (they apply to the object it makes).
            if (has("uploads")) return [call("s3:PutObject", object, request, writeContext(headers)), ...tagging];
            // CompleteMultipartUpload: s3:PutObject.
            if (has("uploadId")) return [call("s3:PutObject", object, request)];
            break;
        case "DELETE":
            // DeleteObject: s3:DeleteObject (a specific version: s3:DeleteObjectVersion).
            if (sub.length === 0) return [call("s3:DeleteObject", object, request)];
            if (has("versionId")) return [call("s3:DeleteObjectVersion", object, request)];
            // AbortMultipartUpload: s3:AbortMultipartUpload on the object.
            if (has("uploadId")) return [call("s3:AbortMultipartUpload", object, request)];
            // DeleteObjectTagging: s3:DeleteObjectTagging.
            if (has("tagging")) return [call("s3:DeleteObjectTagging", object, request)];
            break;
    }
    throw new UnmappedRequest(request);
}

/** CloudWatch's Query API (a form POST with Action=...). */
export function cloudWatchCalls(form: URLSearchParams): AwsCall[] {
    const action = form.get("Action") ?? "";
    switch (action) {
        // PutMetricData: cloudwatch:PutMetricData, no resource ("*"); cloudwatch:namespace is the request's Namespace.
        case "PutMetricData":
            return [call("cloudwatch:PutMetricData", "*", `Action=${action}`, { "cloudwatch:namespace": form.get("Namespace") ?? "" })];
        default:
            throw new UnmappedRequest(`CloudWatch Action=${action}`);
    }
}
