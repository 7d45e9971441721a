// Entry point of a worker process (forked by the arbiter through node:cluster): an HTTP worker or a job worker.
import { runWorker } from "./worker";
import { runJobWorker } from "./job-worker";
import { ServerOptions } from "./options";
import { exitOnStopWhileBooting } from "./master-messages";

exitOnStopWhileBooting();

const options = JSON.parse(process.env.INSTAGRAM_SERVER_OPTIONS ?? "{}") as ServerOptions;
const run = options.mode === "work" ? runJobWorker : runWorker;
run(options, Number(process.env.INSTAGRAM_WORKER_ID), Number(process.env.INSTAGRAM_REQUEST_LIMIT ?? 0)).catch((e) => {
    console.error(`worker ${process.pid}: ${(e as Error).message}`);
    process.exit(1);
});
