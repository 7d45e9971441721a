/** What `up` records in .local/state.json so that later commands act on the same stack, and the lock. */
import * as fs from "fs";
import { PushStandIn } from "./plan";
import * as path from "path";
import { pidAlive } from "./processes";
import { writeFileAs } from "./context";

export interface LocalState {
    readonly stack: string;
    /** --set overrides on top of the stack's config. */
    readonly overrides: Record<string, unknown>;
    readonly net: string;
    readonly workers: number;
    /** APNs/FCM stand-ins the job workers send to instead of Apple and Google (up --apns-endpoint ...). */
    readonly pushStandIn?: PushStandIn;
    /** Physical shards whose standby has been promoted. */
    readonly failedOver: number[];
}

export const statePath = (dir: string) => path.join(dir, "state.json");

export function readState(dir: string): LocalState | undefined {
    try {
        return JSON.parse(fs.readFileSync(statePath(dir), "utf8")) as LocalState;
    } catch {
        return undefined;
    }
}

export function writeState(dir: string, state: LocalState): void {
    writeFileAs(statePath(dir), `${JSON.stringify(state, null, 2)}\n`);
}

export function sameStack(a: LocalState, b: LocalState): boolean {
    return a.stack === b.stack && a.net === b.net && a.workers === b.workers && JSON.stringify(a.overrides) === JSON.stringify(b.overrides)
        && JSON.stringify(a.pushStandIn ?? {}) === JSON.stringify(b.pushStandIn ?? {});
}

/** One `npm run local` at a time per state directory. Returns the release function. */
export function takeLock(dir: string): () => void {
    fs.mkdirSync(dir, { recursive: true });
    const lock = path.join(dir, "lock");
    for (let attempt = 0; attempt < 2; attempt++) {
        try {
            fs.writeFileSync(lock, `${process.pid}\n`, { flag: "wx" });
            return () => fs.rmSync(lock, { force: true });
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
            const holder = Number(fs.readFileSync(lock, "utf8").trim());
            if (pidAlive(holder)) throw new Error(`another \`npm run local\` (pid ${holder}) is working on ${dir}; wait for it`);
            fs.rmSync(lock, { force: true });
        }
    }
    throw new Error(`could not take the lock ${lock}`);
}
