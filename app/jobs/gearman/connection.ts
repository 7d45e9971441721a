/**
 * One connection to one gearmand, kept by itself: made again with back-off after any failure, and counted
 * as up only once the server has answered an ECHO over it — a gearmand that is stopped (SIGSTOP, a hung
 * host) still completes TCP handshakes from the kernel's backlog, so "connected" alone does not mean it
 * serves. Both the client (submits) and the worker (grabs) run on it.
 */
import { EventEmitter } from "events";
import * as net from "net";
import { encodeRequest, GearmanServer, PACKET, Packet, ResponseParser } from "./packets";

export interface ConnectionOptions {
    /** Connect + ECHO must complete within this; so must any request the owner times itself. */
    readonly timeoutMs: number;
    /** Back-off after a failure: doubles from this, up to maxRetryMs. */
    readonly retryMs: number;
    readonly maxRetryMs: number;
}

export const DEFAULT_CONNECTION_OPTIONS: ConnectionOptions = { timeoutMs: 1000, retryMs: 200, maxRetryMs: 5000 };

export const serverName = (s: GearmanServer) => `${s.host}:${s.port}`;

/** Events: "up" (answered), "down" (lost; reason), "packet" (any packet but the probe's ECHO_RES). */
export class GearmanConnection extends EventEmitter {
    private socket?: net.Socket;
    private probe?: NodeJS.Timeout;
    private retry?: NodeJS.Timeout;
    private failures = 0;
    private stopped = false;
    /** Answered the probe on the current socket. */
    up = false;
    lastError?: string;

    constructor(readonly server: GearmanServer, private readonly options: ConnectionOptions = DEFAULT_CONNECTION_OPTIONS) {
        super();
    }

    get name(): string {
        return serverName(this.server);
    }

    start(): this {
        this.connect();
        return this;
    }

    private connect(): void {
        if (this.stopped) return;
        const parser = new ResponseParser();
        const socket = net.connect({ host: this.server.host, port: this.server.port });
        this.socket = socket;
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 10_000);
        this.probe = setTimeout(() => this.fail(socket, `no answer within ${this.options.timeoutMs} ms`), this.options.timeoutMs);
        socket.once("connect", () => socket.write(encodeRequest(PACKET.ECHO_REQ, "instagram-probe")));
        socket.on("data", (chunk: Buffer) => {
            let packets: Packet[];
            try {
                packets = parser.push(chunk);
            } catch (e) {
                return this.fail(socket, (e as Error).message);
            }
            for (const packet of packets) {
                if (!this.up && packet.type === PACKET.ECHO_RES) {
                    clearTimeout(this.probe);
                    this.up = true;
                    this.failures = 0;
                    this.lastError = undefined;
                    this.emit("up");
                } else if (this.socket === socket) {
                    this.emit("packet", packet);
                }
            }
        });
        socket.on("error", (e) => this.fail(socket, e.message));
        socket.on("close", () => this.fail(socket, "connection closed"));
    }

    /** Drop this socket (if still current), tell the owner, and connect again after the back-off. */
    fail(socket: net.Socket | undefined = this.socket, reason = "failed"): void {
        if (socket === undefined || socket !== this.socket) return;
        this.socket = undefined;
        clearTimeout(this.probe);
        socket.destroy();
        const wasUp = this.up;
        this.up = false;
        this.lastError = reason;
        this.emit("down", reason, wasUp);
        if (this.stopped) return;
        const wait = Math.min(this.options.maxRetryMs, this.options.retryMs * 2 ** this.failures);
        this.failures = Math.min(this.failures + 1, 16);
        this.retry = setTimeout(() => this.connect(), wait);
    }

    /** Write a request on the current socket; false when the connection is not up (nothing is sent). */
    send(type: number, ...args: (string | Buffer)[]): boolean {
        if (!this.up || !this.socket) return false;
        this.socket.write(encodeRequest(type, ...args));
        return true;
    }

    /** Close for good (pending work on it is the owner's to settle on "down"). */
    stop(): void {
        this.stopped = true;
        clearTimeout(this.retry);
        this.fail(this.socket, "stopped");
    }

    /** Resolves once the connection is up, or false after `ms`. */
    waitUp(ms: number): Promise<boolean> {
        if (this.up) return Promise.resolve(true);
        return new Promise((resolve) => {
            const done = (ok: boolean) => { clearTimeout(timer); this.off("up", onUp); resolve(ok); };
            const onUp = () => done(true);
            const timer = setTimeout(() => done(false), ms);
            this.once("up", onUp);
        });
    }
}
