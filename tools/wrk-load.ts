/**
 * Closed-loop load with wrk (Debian's package, installed by `npm run local -- install-deps`): a C load
 * generator costs the shared cores far less per request than node's https client, so on a two-core machine
 * what the benchmark reports is the stack, not the client. The requests are given whole (method, path,
 * headers, body), written to a file that a small Lua script reads once per thread and cycles through, each
 * thread starting at a different place. Bounded in time; loopback addresses only.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface WrkRequest {
    readonly method: string;
    readonly path: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: Buffer;
}

export interface WrkResult {
    readonly requests: number;
    readonly seconds: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    /** Answers with a status of 400 or more, plus connect, read, write and timeout errors. */
    readonly failed: number;
    /** User + system CPU of wrk itself per request, µs. */
    readonly generatorUs: number;
}

export interface WrkOptions {
    /** https://ADDRESS (a loopback address). */
    readonly origin: string;
    /** The Host header every request carries. */
    readonly host: string;
    readonly requests: readonly WrkRequest[];
    readonly connections: number;
    readonly seconds: number;
    readonly threads?: number;
    readonly timeoutSeconds?: number;
}

function rawRequest(host: string, r: WrkRequest): Buffer {
    const headers = { Host: host, ...r.headers, ...(r.body ? { "Content-Length": String(r.body.length) } : {}) };
    const head = `${r.method} ${r.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;
    return Buffer.concat([Buffer.from(head, "latin1"), r.body ?? Buffer.alloc(0)]);
}

// Reads "<length>\n<bytes>" records; request() cycles through them from an offset per thread; done() prints
// one JSON line (latencies in µs).
const SCRIPT = `
local counter = 0
function setup(thread) thread:set("id", counter); counter = counter + 1 end
function init(args)
  local f = assert(io.open(args[1], "rb")); local data = f:read("*a"); f:close()
  requests = {}; local at = 1
  while at <= #data do
    local nl = string.find(data, "\\n", at, true)
    local len = tonumber(string.sub(data, at, nl - 1))
    table.insert(requests, string.sub(data, nl + 1, nl + len)); at = nl + 1 + len
  end
  i = (id * 7919) % #requests
end
function request() i = i % #requests + 1; return requests[i] end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_RESULT {"requests":%d,"us":%d,"p50":%d,"p99":%d,"failed":%d}\\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status + e.connect + e.read + e.write + e.timeout))
end
`;

/** Runs wrk to completion. */
export async function runWrk(o: WrkOptions): Promise<WrkResult> {
    if (!/^https?:\/\/127\.\d+\.\d+\.\d+(:\d+)?$/.test(o.origin)) throw new Error(`wrk: ${o.origin} is not a loopback origin`);
    if (o.requests.length === 0) throw new Error("wrk: no requests to send");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wrk-"));
    try {
        const script = path.join(dir, "requests.lua");
        const data = path.join(dir, "requests.bin");
        fs.writeFileSync(script, SCRIPT);
        fs.writeFileSync(data, Buffer.concat(o.requests.flatMap((r) => {
            const raw = rawRequest(o.host, r);
            return [Buffer.from(`${raw.length}\n`), raw];
        })));
        const threads = Math.min(o.threads ?? os.cpus().length, o.connections);
        // bash's `times` prints the shell's and then its children's user and system time: wrk's CPU.
        const r = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve, reject) => {
            const child = spawn("bash", ["-c", `command -v wrk > /dev/null || exit 127; wrk "$@" || exit $?; times`, "wrk",
                "-t", String(threads), "-c", String(o.connections), "-d", `${o.seconds}s`, "--timeout", `${o.timeoutSeconds ?? 30}s`,
                "-s", script, `${o.origin}/`, "--", data]);
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.on("error", reject);
            child.on("close", (code) => resolve({ status: code ?? 1, stdout, stderr }));
        });
        if (r.status === 127) throw new Error("wrk is not installed: npm run local -- install-deps (or apt-get install wrk)");
        if (r.status !== 0) throw new Error(`wrk failed (${r.status}): ${r.stderr || r.stdout}`);
        const result = /WRK_RESULT (\{.*\})/.exec(r.stdout);
        if (!result) throw new Error(`wrk printed no result:\n${r.stdout}\n${r.stderr}`);
        const j = JSON.parse(result[1]) as { requests: number; us: number; p50: number; p99: number; failed: number };
        const times = [...r.stdout.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
        // The last line holds the children's user and system seconds.
        const generatorS = times.length >= 4 ? times[times.length - 2] + times[times.length - 1] : NaN;
        return {
            requests: j.requests, seconds: j.us / 1e6, p50Ms: j.p50 / 1000, p99Ms: j.p99 / 1000, failed: j.failed,
            generatorUs: (generatorS * 1e6) / Math.max(j.requests, 1),
        };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
