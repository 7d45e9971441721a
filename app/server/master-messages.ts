/**
 * The worker's side of the master's messages. Node drops a message that arrives while nothing listens, and a
 * worker can act on the master's messages only once it has loaded the app: a stop sent during the boot (a
 * second reload while the first one's workers still load) would be lost, and the worker would boot later as
 * one the master has written off, serving the old release for good. So a guard listens from the entry
 * point's first line and answers a stop by exiting at once (nothing is served yet); the worker's own handler
 * replaces it. A stop that arrives before even that line runs (Node and tsx still starting) is lost all the
 * same: the master repeats it when the worker reports that it booted (arbiter.ts, "booted").
 */
import { MasterMessage } from "./protocol";

let bootGuard: ((message: MasterMessage) => void) | undefined;

/** Called first thing in a worker process. */
export function exitOnStopWhileBooting(): void {
    bootGuard = (message) => {
        if (message.t === "stop") process.exit(0);
    };
    process.on("message", bootGuard);
}

/** The booted worker's handler; from here on a stop is the worker's to carry out (gracefully when asked). */
export function onMasterMessage(listener: (message: MasterMessage) => void): void {
    if (bootGuard) process.off("message", bootGuard);
    bootGuard = undefined;
    process.on("message", listener);
}
