/**
 * A worker process: loads the app, listens on the master's binds (cluster shares the sockets), reports a
 * heartbeat while its event loop turns, counts requests, and drains before it exits when told to stop or
 * when it reaches its request limit.
 */
import * as http from "http";
import * as net from "net";
import { AppContext, WORKER_BOOT_ERROR, WorkerMessage } from "./protocol";
import { Bind, ServerOptions } from "./options";
import { ReopenableLog, timestamp } from "./log";
import { onMasterMessage } from "./master-messages";

const send = (message: WorkerMessage) => process.send?.(message);

function accessLine(req: http.IncomingMessage, res: http.ServerResponse, started: bigint): string {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const client = req.headers["x-real-ip"] ?? req.socket.remoteAddress ?? "-";
    return `${client} - - [${timestamp()}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} ${res.getHeader("content-length") ?? "-"} ${ms.toFixed(1)}ms pid=${process.pid}`;
}

export async function runWorker(options: ServerOptions, workerId: number, requestLimit: number): Promise<void> {
    const errorLog = new ReopenableLog(options.errorLog, "stderr");
    const accessLog = new ReopenableLog(options.accessLog, "stdout");
    const pending: Record<string, number> = {};
    const context: AppContext = { workerId, count: (name, by = 1) => { pending[name] = (pending[name] ?? 0) + by; } };

    let handler: http.RequestListener;
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require(options.app);
        const createApp = mod.createApp ?? mod.default;
        if (typeof createApp !== "function") throw new Error(`${options.app} exports no createApp function`);
        handler = await createApp(context);
    } catch (e) {
        send({ t: "boot-error", reason: (e as Error).message });
        // Let the message reach the master before exiting.
        setTimeout(() => process.exit(WORKER_BOOT_ERROR), 100);
        return;
    }

    let served = 0;
    let stopping = false;
    const servers: http.Server[] = [];
    const sockets = new Set<net.Socket>();

    // Drained when no connection is left, and not before a short grace after closing the listener: with
    // round-robin the master may have handed this worker a connection that is still on its way over IPC.
    const HANDOFF_GRACE_MS = 500;
    let stoppedAt = 0;
    const maybeExit = () => {
        if (!stopping || sockets.size > 0) return;
        const wait = stoppedAt + HANDOFF_GRACE_MS - Date.now();
        if (wait > 0) {
            setTimeout(maybeExit, wait);
            return;
        }
        flushStats();
        setImmediate(() => process.exit(0));
    };
    let askedToRetire = false;
    const stop = () => {
        if (stopping) return;
        stopping = true;
        // Stop accepting without http.Server.close(), which in Node 20 also drops "idle" connections, among
        // them ones accepted a moment ago whose request is still in flight from the client.
        for (const server of servers) net.Server.prototype.close.call(server);
        // Responses from now on say Connection: close; keep-alive connections left idle are closed after a
        // grace period, in which a request already on its way still arrives and is served.
        const idle = setInterval(() => { for (const server of servers) server.closeIdleConnections(); }, 1000);
        idle.unref();
        maybeExit();
    };
    let reported = 0;
    const flushStats = () => {
        if (served > reported) {
            pending.requests = (pending.requests ?? 0) + served - reported;
            reported = served;
        }
        if (Object.keys(pending).length === 0) return;
        send({ t: "stats", delta: { ...pending } });
        for (const k of Object.keys(pending)) delete pending[k];
    };

    // The hot path: no per-response listener unless an access log wants one; counters fold in at flush.
    const onRequest: http.RequestListener = (req, res) => {
        served++;
        if (stopping) res.setHeader("Connection", "close");
        if (accessLog.enabled) {
            const started = process.hrtime.bigint();
            res.once("close", () => accessLog.write(accessLine(req, res, started)));
        }
        if (requestLimit > 0 && served >= requestLimit && !askedToRetire) {
            // Asked now, served until the replacement has booted; requests in flight still finish.
            askedToRetire = true;
            send({ t: "retire-me", reason: `served ${served} requests (max-requests)` });
        }
        try {
            handler(req, res);
        } catch (e) {
            errorLog.write(`[${timestamp()}] [${process.pid}] [ERROR] ${req.method} ${req.url}: ${(e as Error).stack ?? e}`);
            if (!res.headersSent) {
                res.writeHead(500, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ error: "internal_error", message: "the server failed to handle the request" }));
            }
        }
    };

    await Promise.all(options.binds.map((bind: Bind) => new Promise<void>((resolve, reject) => {
        const server = http.createServer({ keepAliveTimeout: 5000 }, onRequest);
        server.on("connection", (socket: net.Socket) => {
            sockets.add(socket);
            socket.on("close", () => { sockets.delete(socket); maybeExit(); });
        });
        servers.push(server);
        server.once("error", reject);
        if (bind.kind === "unix") server.listen(bind.path, resolve);
        else server.listen(bind.port, bind.host, resolve);
    }))).catch((e: Error) => {
        send({ t: "boot-error", reason: `cannot listen: ${e.message}` });
        setTimeout(() => process.exit(WORKER_BOOT_ERROR), 100);
        throw e;
    });

    onMasterMessage((message) => {
        if (message.t === "stop") {
            if (message.graceful) stop();
            else process.exit(0);
        } else if (message.t === "reopen-logs") {
            errorLog.reopen();
            accessLog.reopen();
        }
    });
    // The master decides when workers stop; a TERM from a process-group kill is treated as a graceful stop.
    process.on("SIGTERM", () => stop());
    process.on("SIGINT", () => process.exit(0));
    process.on("SIGQUIT", () => process.exit(0));

    const beatMs = Math.max(100, Math.min(1000, (options.timeout * 1000) / 4));
    setInterval(() => { send({ t: "heartbeat" }); flushStats(); }, beatMs).unref();
    send({ t: "booted" });
    send({ t: "heartbeat" });
}
