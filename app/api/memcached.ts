/**
 * A small memcached client for the feed's hydration: multi-get and set over the text protocol, keys spread
 * over the nodes by ketama. A cache is an optimisation, so a node that is down or slow reads as misses and
 * writes are dropped: the caller falls back to the shards, it never fails the request.
 */
import * as net from "net";
import { HashRing } from "./hash-ring";

const MAX_KEY_BYTES = 250;
const CRLF = "\r\n";

export function checkKey(key: string): void {
    if (Buffer.byteLength(key) > MAX_KEY_BYTES || !/^[\x21-\x7e]+$/.test(key)) {
        throw new Error(`memcached key ${JSON.stringify(key.slice(0, 40))} must be 1-${MAX_KEY_BYTES} printable ASCII characters without spaces`);
    }
}

interface Pending {
    resolve: (lines: Buffer) => void;
    reject: (e: Error) => void;
    /** Is the reply in `buffer` complete? Returns its length, or -1. */
    complete: (buffer: Buffer) => number;
}

/**
 * One connection to one node; requests are pipelined in order and answered in order. The requests made in
 * one turn of the event loop (by every request this worker is serving) go out in one write, so that under
 * load a node reads many per wake-up, and its replies come back together.
 */
class Connection {
    private socket?: net.Socket;
    private buffer: Buffer = Buffer.alloc(0);
    private readonly queue: Pending[] = [];
    /** Commands not written yet: their Pending entries are already at the end of `queue`. */
    private outgoing: Buffer[] = [];

    constructor(private readonly host: string, private readonly port: number, private readonly timeoutMs: number) {}

    private connect(): net.Socket {
        if (this.socket && !this.socket.destroyed) return this.socket;
        const socket = net.connect({ host: this.host, port: this.port });
        socket.setNoDelay(true);
        socket.setTimeout(this.timeoutMs, () => socket.destroy(new Error(`memcached ${this.host}:${this.port} timed out after ${this.timeoutMs} ms`)));
        socket.on("data", (d) => this.onData(d));
        socket.on("error", (e) => this.failAll(e));
        socket.on("close", () => this.failAll(new Error(`memcached ${this.host}:${this.port} closed the connection`)));
        this.socket = socket;
        this.buffer = Buffer.alloc(0);
        return socket;
    }

    private onData(data: Buffer): void {
        this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
        while (this.queue.length > 0) {
            const length = this.queue[0].complete(this.buffer);
            if (length < 0) return;
            const reply = this.buffer.subarray(0, length);
            this.buffer = this.buffer.subarray(length);
            this.queue.shift()!.resolve(reply);
        }
    }

    private failAll(e: Error): void {
        this.socket?.destroy();
        this.socket = undefined;
        // Unwritten commands go with their requests: written later, their replies would answer others.
        this.outgoing = [];
        for (const p of this.queue.splice(0)) p.reject(e);
    }

    request(command: Buffer, complete: Pending["complete"]): Promise<Buffer> {
        return new Promise((resolve, reject) => {
            this.queue.push({ resolve, reject, complete });
            if (this.outgoing.push(command) === 1) setImmediate(() => this.flush());
        });
    }

    private flush(): void {
        const batch = this.outgoing;
        this.outgoing = [];
        if (batch.length > 0) this.connect().write(batch.length === 1 ? batch[0] : Buffer.concat(batch));
    }

    close(): void {
        this.socket?.end();
        this.socket = undefined;
    }
}

/** Length of a complete "VALUE … END\r\n" reply in buf, or -1. */
function getReplyLength(buf: Buffer): number {
    let offset = 0;
    for (;;) {
        const eol = buf.indexOf(CRLF, offset);
        if (eol < 0) return -1;
        const line = buf.toString("latin1", offset, eol);
        if (line === "END") return eol + 2;
        const value = /^VALUE \S+ \d+ (\d+)/.exec(line);
        if (!value) return eol + 2; // an error line ends the reply
        offset = eol + 2 + Number(value[1]) + 2;
        if (offset > buf.length) return -1;
    }
}

function lineReplyLength(buf: Buffer): number {
    const eol = buf.indexOf(CRLF);
    return eol < 0 ? -1 : eol + 2;
}

export interface MemcachedOptions {
    /** "host:port" per node. */
    readonly nodes: readonly string[];
    readonly timeoutMs?: number;
}

export class MemcachedPool {
    private readonly ring: HashRing;
    private readonly connections = new Map<string, Connection>();

    constructor(options: MemcachedOptions) {
        this.ring = new HashRing(options.nodes);
        for (const node of options.nodes) {
            const match = /^(.+):(\d+)$/.exec(node);
            if (!match) throw new Error(`memcached node ${JSON.stringify(node)}: expected host:port`);
            this.connections.set(node, new Connection(match[1], Number(match[2]), options.timeoutMs ?? 200));
        }
    }

    nodeFor(key: string): string {
        return this.ring.nodeFor(key);
    }

    /** The values found; keys on a node that failed are simply missing. */
    getMulti(keys: readonly string[]): Promise<Map<string, Buffer>> {
        return this.getEach(keys, (reply, start, end) => Buffer.from(reply.subarray(start, end)));
    }

    /** getMulti of UTF-8 text values, decoded straight from the reply (no copy of each value first). */
    getMultiText(keys: readonly string[]): Promise<Map<string, string>> {
        return this.getEach(keys, (reply, start, end) => reply.toString("utf8", start, end));
    }

    private async getEach<T>(keys: readonly string[], value: (reply: Buffer, start: number, end: number) => T): Promise<Map<string, T>> {
        keys.forEach(checkKey);
        const found = new Map<string, T>();
        await Promise.all([...this.ring.group(keys)].map(async ([node, nodeKeys]) => {
            try {
                const reply = await this.connections.get(node)!.request(Buffer.from(`get ${nodeKeys.join(" ")}${CRLF}`, "latin1"), getReplyLength);
                let offset = 0;
                for (;;) {
                    const eol = reply.indexOf(CRLF, offset);
                    const header = /^VALUE (\S+) \d+ (\d+)/.exec(reply.toString("latin1", offset, eol));
                    if (!header) break;
                    const start = eol + 2;
                    const end = start + Number(header[2]);
                    found.set(header[1], value(reply, start, end));
                    offset = end + 2;
                }
            } catch {
                // A node down or slow is a miss, never an error: the shards have the data.
            }
        }));
        return found;
    }

    /** true when stored; false when the node refused or could not be reached. */
    async set(key: string, value: Buffer | string, ttlSeconds = 0): Promise<boolean> {
        checkKey(key);
        const data = Buffer.isBuffer(value) ? value : Buffer.from(value);
        const command = Buffer.concat([Buffer.from(`set ${key} 0 ${ttlSeconds} ${data.length}${CRLF}`), data, Buffer.from(CRLF)]);
        try {
            const reply = await this.connections.get(this.nodeFor(key))!.request(command, lineReplyLength);
            return reply.toString("latin1") === `STORED${CRLF}`;
        } catch {
            return false;
        }
    }

    /** true when the node answered (DELETED or NOT_FOUND: either way it no longer holds the key). */
    async delete(key: string): Promise<boolean> {
        checkKey(key);
        try {
            const reply = (await this.connections.get(this.nodeFor(key))!.request(Buffer.from(`delete ${key}${CRLF}`, "latin1"), lineReplyLength)).toString("latin1");
            return reply === `DELETED${CRLF}` || reply === `NOT_FOUND${CRLF}`;
        } catch {
            return false;
        }
    }

    close(): void {
        for (const c of this.connections.values()) c.close();
    }
}
