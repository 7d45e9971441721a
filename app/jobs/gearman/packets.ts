/**
 * Gearman's binary protocol (gearman.org/protocol, libgearman-1.0/protocol.h): every packet is a 12-byte
 * header — magic "\0REQ" (to the server) or "\0RES" (from it), a 4-byte type, a 4-byte length — and then the
 * arguments, separated by NUL bytes (the last one may hold any bytes: it is the job's data).
 */
import { PORTS } from "../../../core/ports";

export const PACKET = {
    CAN_DO: 1,
    CANT_DO: 2,
    RESET_ABILITIES: 3,
    PRE_SLEEP: 4,
    NOOP: 6,
    SUBMIT_JOB: 7,
    JOB_CREATED: 8,
    GRAB_JOB: 9,
    NO_JOB: 10,
    JOB_ASSIGN: 11,
    WORK_STATUS: 12,
    WORK_COMPLETE: 13,
    WORK_FAIL: 14,
    GET_STATUS: 15,
    ECHO_REQ: 16,
    ECHO_RES: 17,
    SUBMIT_JOB_BG: 18,
    ERROR: 19,
    STATUS_RES: 20,
    SET_CLIENT_ID: 22,
    WORK_EXCEPTION: 25,
    GRAB_JOB_UNIQ: 30,
    JOB_ASSIGN_UNIQ: 31,
    SUBMIT_JOB_HIGH_BG: 32,
    SUBMIT_JOB_LOW_BG: 34,
} as const;

const REQ = Buffer.from("\0REQ", "latin1");
const RES = Buffer.from("\0RES", "latin1");
const HEADER = 12;
/** gearmand refuses larger packets by default; a job's data is meant to be a reference, not a payload. */
export const MAX_PACKET_BYTES = 16 * 1024 * 1024;

export interface Packet {
    readonly type: number;
    /** The packet's data split at NUL into the number of arguments its type has (the last keeps any NULs). */
    readonly body: Buffer;
}

/** A request packet: the arguments joined by NUL. */
export function encodeRequest(type: number, ...args: (string | Buffer)[]): Buffer {
    const parts: Buffer[] = [];
    args.forEach((a, i) => {
        if (i > 0) parts.push(Buffer.from([0]));
        parts.push(typeof a === "string" ? Buffer.from(a, "utf8") : a);
    });
    const body = Buffer.concat(parts);
    const header = Buffer.alloc(HEADER);
    REQ.copy(header, 0);
    header.writeUInt32BE(type, 4);
    header.writeUInt32BE(body.length, 8);
    return Buffer.concat([header, body]);
}

/** The first `count` arguments of a body: count-1 NUL-terminated ones, then the rest as it is. */
export function splitArgs(body: Buffer, count: number): Buffer[] {
    const out: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < count - 1; i++) {
        const nul = body.indexOf(0, start);
        if (nul < 0) break;
        out.push(body.subarray(start, nul));
        start = nul + 1;
    }
    out.push(body.subarray(start));
    return out;
}

export class ProtocolError extends Error {}

/** Splits a response stream into packets; throws ProtocolError on a stream that is not Gearman's. */
export class ResponseParser {
    private buffered: Buffer = Buffer.alloc(0);

    push(chunk: Buffer): Packet[] {
        this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
        const packets: Packet[] = [];
        while (this.buffered.length >= HEADER) {
            if (!this.buffered.subarray(0, 4).equals(RES)) throw new ProtocolError(`not a Gearman response (starts with ${JSON.stringify(this.buffered.subarray(0, 4).toString("latin1"))})`);
            const type = this.buffered.readUInt32BE(4);
            const length = this.buffered.readUInt32BE(8);
            if (length > MAX_PACKET_BYTES) throw new ProtocolError(`a ${length}-byte packet is larger than ${MAX_PACKET_BYTES}`);
            if (this.buffered.length < HEADER + length) break;
            packets.push({ type, body: this.buffered.subarray(HEADER, HEADER + length) });
            this.buffered = this.buffered.subarray(HEADER + length);
        }
        return packets;
    }
}

export interface GearmanServer {
    readonly host: string;
    readonly port: number;
}

/** "host[:port],host[:port]" (the form of the app's environment and the CLI's --servers). */
export function parseGearmanServers(text: string): GearmanServer[] {
    const servers = text.split(",").map((s) => s.trim()).filter((s) => s !== "").map((item) => {
        const match = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(item);
        const port = match?.[2] === undefined ? PORTS.gearman : Number(match[2]);
        if (!match || port < 1 || port > 65535) throw new Error(`gearman server ${JSON.stringify(item)}: expected HOST or HOST:PORT (port 1-65535)`);
        return { host: match[1], port };
    });
    if (servers.length === 0) throw new Error("no gearman server given: expected HOST[:PORT][,HOST[:PORT]...]");
    return servers;
}
