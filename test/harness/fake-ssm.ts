/**
 * A loopback stand-in for the SSM API (AWS JSON 1.1 over HTTP), for the operations CLI's tests: this machine
 * cannot reach AWS. It checks each request as SSM would, before acting on it: the SigV4 signature (computed
 * again from the request with the test's secret key), the protocol headers, and each operation's parameters
 * and their documented forms. Parameters live in memory with versions; Run Command targets instances by tag
 * and "runs" the commands with each instance's handler. Every request is recorded for the test to read, and
 * each one it served also in IAM's terms (`calls`, test/harness/aws-calls.ts).
 */
import * as crypto from "crypto";
import * as http from "http";
import { AddressInfo } from "net";
import { AwsCallRecorder, ssmCalls } from "./aws-calls";

export const FAKE_KEY = { accessKeyId: "AKIAOPSTEST000000000", secretAccessKey: "opstestsecretkey0000000000000000000000000" };

export interface FakeInstance {
    readonly id: string;
    readonly name: string;
    readonly tags: Readonly<Record<string, string>>;
    /** What running the document's commands on this host gives. */
    run(commands: readonly string[]): { code: number; stdout: string; stderr?: string };
}

export interface RecordedRequest {
    readonly operation: string;
    readonly body: Record<string, any>;
}

interface Invocation { instance: FakeInstance; status: string; code: number; stdout: string; stderr: string }
interface Command { id: string; invocations: Invocation[]; polled: number }

class SsmError extends Error {
    constructor(readonly type: string, message: string, readonly status = 400) {
        super(message);
    }
}

const hmac = (key: Buffer | string, data: string) => crypto.createHmac("sha256", key).update(data).digest();
const sha256 = (data: Buffer | string) => crypto.createHash("sha256").update(data).digest("hex");

/** SigV4 as SSM (or another service signed the same way) checks it: the same canonical request and string to sign, the signature compared. */
export function checkSignature(req: http.IncomingMessage, body: Buffer, region: string, expectedService = "ssm"): void {
    const auth = req.headers.authorization ?? "";
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) throw new SsmError("IncompleteSignatureException", `Authorization header is not SigV4: ${auth.slice(0, 60)}`);
    const [, keyId, day, signedRegion, service, signedHeaders, signature] = m;
    if (keyId !== FAKE_KEY.accessKeyId) throw new SsmError("UnrecognizedClientException", `The security token included in the request is invalid (${keyId})`);
    if (signedRegion !== region || service !== expectedService) throw new SsmError("InvalidSignatureException", `Credential should be scoped to ${region}/${expectedService}, not ${signedRegion}/${service}`);
    const amzDate = String(req.headers["x-amz-date"] ?? "");
    if (!amzDate.startsWith(day)) throw new SsmError("InvalidSignatureException", "X-Amz-Date does not match the credential's date");
    if (!signedHeaders.split(";").includes("host") || !signedHeaders.split(";").includes("x-amz-date")) throw new SsmError("InvalidSignatureException", "host and x-amz-date must be signed");
    const canonicalHeaders = signedHeaders.split(";").map((h) => `${h}:${String(req.headers[h] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
    const canonical = [req.method, "/", "", canonicalHeaders, signedHeaders, sha256(body)].join("\n");
    const scope = `${day}/${region}/${expectedService}/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
    let key = hmac(`AWS4${FAKE_KEY.secretAccessKey}`, day);
    for (const part of [region, expectedService, "aws4_request"]) key = hmac(key, part);
    if (hmac(key, toSign).toString("hex") !== signature) throw new SsmError("InvalidSignatureException", "The request signature we calculated does not match the signature you provided");
}

const need = (ok: boolean, message: string) => {
    if (!ok) throw new SsmError("ValidationException", message);
};
const isName = (v: unknown) => typeof v === "string" && /^\/[A-Za-z0-9_.\-/]{1,1010}$/.test(v);

export class FakeSsm {
    readonly requests: RecordedRequest[] = [];
    /** The requests it served, as the IAM actions SSM authorizes them with. */
    readonly calls = new AwsCallRecorder();
    readonly parameters = new Map<string, { value: string; version: number }>();
    private readonly commands = new Map<string, Command>();
    private server?: http.Server;
    /** Called before each SendCommand's commands run (a test may change a parameter "meanwhile"). */
    onSend?: (commands: readonly string[]) => void;

    constructor(readonly instances: FakeInstance[], readonly region = "us-east-1") {}

    async start(): Promise<string> {
        this.server = http.createServer((req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("end", () => {
                const body = Buffer.concat(chunks);
                let status = 200;
                let out: unknown;
                try {
                    out = this.handle(req, body);
                } catch (e) {
                    const err = e instanceof SsmError ? e : new SsmError("InternalServerError", (e as Error).message, 500);
                    status = err.status;
                    out = { __type: err.type, message: err.message };
                }
                const text = JSON.stringify(out);
                res.writeHead(status, { "Content-Type": "application/x-amz-json-1.1", "Content-Length": Buffer.byteLength(text), "x-amzn-RequestId": crypto.randomUUID() });
                res.end(text);
            });
        });
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    async stop(): Promise<void> {
        await new Promise((resolve) => this.server?.close(resolve));
    }

    /** The requests of one operation, in order. */
    of(operation: string): Record<string, any>[] {
        return this.requests.filter((r) => r.operation === operation).map((r) => r.body);
    }

    private handle(req: http.IncomingMessage, raw: Buffer): unknown {
        need(req.method === "POST" && req.url === "/", `expected POST /, got ${req.method} ${req.url}`);
        need(req.headers["content-type"] === "application/x-amz-json-1.1", `Content-Type must be application/x-amz-json-1.1, not ${req.headers["content-type"]}`);
        const target = String(req.headers["x-amz-target"] ?? "");
        if (!target.startsWith("AmazonSSM.")) throw new SsmError("UnknownOperationException", `X-Amz-Target ${target}`);
        checkSignature(req, raw, this.region);
        const operation = target.slice("AmazonSSM.".length);
        let body: Record<string, any>;
        try {
            body = JSON.parse(raw.toString("utf8"));
        } catch {
            throw new SsmError("SerializationException", "the body is not JSON");
        }
        this.requests.push({ operation, body });
        const answer = this.answer(operation, body);
        const reached = operation === "SendCommand" ? this.command((answer as { Command: { CommandId: string } }).Command.CommandId).invocations.map((i) => i.instance.id) : [];
        this.calls.record(() => ssmCalls(operation, body, this.region, reached));
        return answer;
    }

    private answer(operation: string, body: Record<string, any>): unknown {
        switch (operation) {
            case "GetParameter": {
                need(isName(body.Name), `Name ${body.Name} is not a parameter path`);
                const p = this.parameters.get(body.Name);
                if (!p) throw new SsmError("ParameterNotFound", `Parameter ${body.Name} not found.`);
                return { Parameter: { Name: body.Name, Type: "String", Value: p.value, Version: p.version, ARN: `arn:aws:ssm:${this.region}:123456789012:parameter${body.Name}` } };
            }
            case "PutParameter": {
                need(isName(body.Name), `Name ${body.Name} is not a parameter path`);
                need(typeof body.Value === "string" && body.Value.length > 0 && body.Value.length <= 8192, "Value must be 1-8192 characters");
                need(body.Type === undefined || ["String", "StringList", "SecureString"].includes(body.Type), `Type ${body.Type}`);
                const p = this.parameters.get(body.Name);
                if (p && body.Overwrite !== true) throw new SsmError("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.");
                const version = (p?.version ?? 0) + 1;
                this.parameters.set(body.Name, { value: body.Value, version });
                return { Version: version, Tier: body.Value.length > 4096 ? "Advanced" : "Standard" };
            }
            case "SendCommand":
                return this.sendCommand(body);
            case "ListCommands": {
                const c = this.command(body.CommandId);
                // Running on the first look, done on the next: the CLI must poll.
                const done = c.polled++ > 0;
                const status = !done ? "InProgress" : c.invocations.some((i) => i.status !== "Success") ? "Failed" : "Success";
                return { Commands: [{ CommandId: c.id, Status: status, TargetCount: c.invocations.length, CompletedCount: done ? c.invocations.length : 0, ErrorCount: c.invocations.filter((i) => i.status === "Failed").length }] };
            }
            case "ListCommandInvocations": {
                const c = this.command(body.CommandId);
                return { CommandInvocations: c.invocations.map((i) => ({ CommandId: c.id, InstanceId: i.instance.id, InstanceName: i.instance.name, Status: i.status })) };
            }
            case "GetCommandInvocation": {
                const c = this.command(body.CommandId);
                need(typeof body.InstanceId === "string" && /^i-[0-9a-f]{8,17}$/.test(body.InstanceId), `InstanceId ${body.InstanceId}`);
                const i = c.invocations.find((x) => x.instance.id === body.InstanceId);
                if (!i) throw new SsmError("InvocationDoesNotExist", `no invocation of ${c.id} on ${body.InstanceId}`);
                return { CommandId: c.id, InstanceId: i.instance.id, Status: i.status, ResponseCode: i.code, StandardOutputContent: i.stdout.slice(0, 24000), StandardErrorContent: i.stderr.slice(0, 8000) };
            }
            default:
                throw new SsmError("UnknownOperationException", `this stand-in does not implement ${operation}`);
        }
    }

    private command(id: unknown): Command {
        const c = this.commands.get(String(id));
        if (!c) throw new SsmError("InvalidCommandId", `no command ${id}`);
        return c;
    }

    private sendCommand(body: Record<string, any>): unknown {
        need(body.DocumentName === "AWS-RunShellScript", `DocumentName ${body.DocumentName}: expected AWS-RunShellScript`);
        need(!body.InstanceIds, "this CLI targets hosts by tag, never by listed instance IDs");
        need(Array.isArray(body.Targets) && body.Targets.length >= 1 && body.Targets.length <= 5, "Targets must list 1 to 5 targets");
        for (const t of body.Targets) need(typeof t.Key === "string" && /^tag:[^:]{1,128}$/.test(t.Key) && Array.isArray(t.Values) && t.Values.length >= 1, `target ${JSON.stringify(t)}`);
        const commands = body.Parameters?.commands;
        need(Array.isArray(commands) && commands.length > 0 && commands.every((c: unknown) => typeof c === "string" && c.length > 0), "Parameters.commands must be a non-empty list of strings");
        need(body.MaxConcurrency === undefined || /^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/.test(body.MaxConcurrency), `MaxConcurrency ${body.MaxConcurrency}`);
        need(body.MaxErrors === undefined || /^([1-9]*[0-9]|[1-9]*[0-9]%)$/.test(body.MaxErrors), `MaxErrors ${body.MaxErrors}`);
        need(body.TimeoutSeconds === undefined || (body.TimeoutSeconds >= 30 && body.TimeoutSeconds <= 2592000), `TimeoutSeconds ${body.TimeoutSeconds}`);
        need(body.Comment === undefined || (typeof body.Comment === "string" && body.Comment.length <= 100), "Comment is limited to 100 characters");
        const matching = this.instances.filter((i) => body.Targets.every((t: { Key: string; Values: string[] }) => t.Values.includes(i.tags[t.Key.slice(4)])));
        this.onSend?.(commands);
        // MaxErrors: once more hosts than that have failed, the rest are not started.
        const maxErrors = body.MaxErrors === undefined ? 0 : Number(String(body.MaxErrors).replace("%", ""));
        let errors = 0;
        const invocations: Invocation[] = matching.map((instance) => {
            if (errors > maxErrors) return { instance, status: "Cancelled", code: -1, stdout: "", stderr: "" };
            const r = instance.run(commands);
            if (r.code !== 0) errors++;
            return { instance, status: r.code === 0 ? "Success" : "Failed", code: r.code, stdout: r.stdout, stderr: r.stderr ?? "" };
        });
        const id = crypto.randomUUID();
        this.commands.set(id, { id, invocations, polled: 0 });
        return { Command: { CommandId: id, DocumentName: body.DocumentName, Status: "Pending", TargetCount: invocations.length, Targets: body.Targets } };
    }
}
