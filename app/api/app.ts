/**
 * The request handler every worker serves. For now the health endpoint and JSON errors; the photo-sharing
 * API (users, media, feeds over the sharded stack) grows here.
 */
import * as http from "http";
import { AppContext } from "../server/protocol";

function json(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
}

export function createApp(context: AppContext): http.RequestListener {
    return (req, res) => {
        const url = new URL(req.url ?? "/", "http://app");
        if (req.method === "GET" && url.pathname === "/healthz") return json(res, 200, { status: "ok", pid: process.pid, worker: context.workerId });
        return json(res, 404, { error: "not_found", message: `no route for ${req.method} ${url.pathname}` });
    };
}
