/** Is a URL ready? 200 is; anything else is reported with the body's reason (/readyz names its problems). */
import * as https from "https";
import * as http from "http";
import { CheckResult } from "./poll";

export function urlCheck(url: string, ca?: Buffer): () => Promise<CheckResult> {
    const target = new URL(url);
    const client = target.protocol === "https:" ? https : http;
    return () => new Promise((resolve) => {
        const req = client.get(target, { timeout: 10_000, ...(ca ? { ca } : {}) }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d) => { if (body.length < 4096) body += d; });
            res.on("end", () => resolve({ ok: res.statusCode === 200, detail: `${res.statusCode}${describeBody(body)}` }));
        });
        req.on("timeout", () => req.destroy(new Error("no answer within 10 s")));
        req.on("error", (e) => resolve({ ok: false, detail: e.message }));
    });
}

function describeBody(body: string): string {
    try {
        const json = JSON.parse(body) as { status?: string; problems?: unknown };
        if (Array.isArray(json.problems) && json.problems.length > 0) return `: ${json.problems.join("; ")}`;
        if (typeof json.status === "string") return ` (${json.status})`;
    } catch {
        // not JSON: a load balancer's own error page
    }
    const text = body.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
    return text ? `: ${text.slice(0, 200)}` : "";
}
