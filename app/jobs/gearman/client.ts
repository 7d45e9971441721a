/**
 * Submitting background jobs to several gearmand servers. A job goes to the server its unique ID hashes to
 * while that server is up (so resubmitting the same unique meets the queued job and is coalesced with it),
 * else to the next one up. A server that errors or does not answer in time is dropped for the moment and
 * the submit moves on; it rejoins once it answers its connection's probe again. A submit that timed out may
 * still have reached the server (and be queued once it resumes), so a job can run twice: functions are
 * idempotent.
 */
import { createHash } from "crypto";
import { ConnectionOptions, DEFAULT_CONNECTION_OPTIONS, GearmanConnection } from "./connection";
import { GearmanServer, PACKET, Packet, splitArgs } from "./packets";

export type Priority = "normal" | "high" | "low";
const SUBMIT: Record<Priority, number> = { normal: PACKET.SUBMIT_JOB_BG, high: PACKET.SUBMIT_JOB_HIGH_BG, low: PACKET.SUBMIT_JOB_LOW_BG };

/** gearmand's GEARMAN_MAX_UNIQUE_SIZE. */
export const MAX_UNIQUE_BYTES = 64;

export class NoGearmanServer extends Error {}

export interface Submitted {
    readonly server: string;
    readonly handle: string;
}

interface Waiter {
    resolve: (handle: string) => void;
    reject: (e: Error) => void;
    timer: NodeJS.Timeout;
}

/** Per connection, the submits awaiting JOB_CREATED, in the order sent (gearmand answers in order). */
class SubmitChannel {
    readonly waiting: Waiter[] = [];

    constructor(readonly connection: GearmanConnection, private readonly timeoutMs: number) {
        connection.on("packet", (p: Packet) => this.onPacket(p));
        connection.on("down", (reason: string) => {
            for (const w of this.waiting.splice(0)) { clearTimeout(w.timer); w.reject(new Error(`${connection.name}: ${reason}`)); }
        });
    }

    private onPacket(p: Packet): void {
        const w = this.waiting.shift();
        if (!w) return;
        clearTimeout(w.timer);
        if (p.type === PACKET.JOB_CREATED) w.resolve(p.body.toString("utf8"));
        else if (p.type === PACKET.ERROR) {
            const [code, text] = splitArgs(p.body, 2).map((b) => b.toString("utf8"));
            w.reject(new Error(`${this.connection.name}: ${code} ${text}`));
        } else w.reject(new Error(`${this.connection.name}: unexpected packet ${p.type} for a submit`));
    }

    submit(type: number, fn: string, unique: string, data: Buffer | string): Promise<string> {
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                // No answer in time: this server is not serving; drop the connection (it probes before rejoining).
                this.connection.fail(undefined, `no answer to a submit within ${this.timeoutMs} ms`);
            }, this.timeoutMs);
            if (!this.connection.send(type, fn, unique, data)) {
                clearTimeout(timer);
                reject(new Error(`${this.connection.name}: not connected`));
                return;
            }
            this.waiting.push({ resolve, reject, timer });
        });
    }
}

export interface GearmanClientOptions {
    readonly servers: readonly GearmanServer[];
    readonly connection?: ConnectionOptions;
}

export class GearmanClient {
    private readonly channels: SubmitChannel[];

    constructor(options: GearmanClientOptions) {
        if (options.servers.length === 0) throw new Error("a Gearman client needs at least one server");
        const connection = options.connection ?? DEFAULT_CONNECTION_OPTIONS;
        this.channels = options.servers.map((s) => new SubmitChannel(new GearmanConnection(s, connection).start(), connection.timeoutMs));
    }

    /** Servers answering now, by name. */
    upServers(): string[] {
        return this.channels.filter((c) => c.connection.up).map((c) => c.connection.name);
    }

    /** Resolves once any server is up, or false after `ms`. */
    async ready(ms: number): Promise<boolean> {
        if (this.upServers().length > 0) return true;
        return Promise.any(this.channels.map((c) => c.connection.waitUp(ms).then((ok) => ok || Promise.reject(new Error("down"))))).catch(() => false);
    }

    /**
     * Queue a background job. `unique` identifies it: while one with the same function and unique is queued
     * or running on that server, the submit joins it. Rejects with NoGearmanServer when none took it.
     */
    async submitBackground(fn: string, unique: string, data: Buffer | string, priority: Priority = "normal"): Promise<Submitted> {
        if (fn === "" || fn.includes("\0") || unique.includes("\0")) throw new Error("a function name must be non-empty and neither it nor the unique ID may hold a NUL byte");
        // gearmand refuses a longer one (ARGUMENT_TOO_LARGE); say so before the round trip, naming the job.
        if (Buffer.byteLength(unique) > MAX_UNIQUE_BYTES) throw new Error(`the unique ID of a ${fn} job is ${Buffer.byteLength(unique)} bytes; gearmand takes at most ${MAX_UNIQUE_BYTES}`);
        const first = createHash("sha1").update(unique).digest().readUInt32BE(0) % this.channels.length;
        const order = this.channels.map((_, i) => this.channels[(first + i) % this.channels.length]);
        const errors: string[] = [];
        for (const channel of order) {
            if (!channel.connection.up) {
                errors.push(`${channel.connection.name}: ${channel.connection.lastError ?? "connecting"}`);
                continue;
            }
            try {
                const handle = await channel.submit(SUBMIT[priority], fn, unique, data);
                return { server: channel.connection.name, handle };
            } catch (e) {
                errors.push((e as Error).message);
            }
        }
        throw new NoGearmanServer(`no Gearman server took the ${fn} job (${errors.join("; ")})`);
    }

    close(): void {
        for (const c of this.channels) c.connection.stop();
    }
}
