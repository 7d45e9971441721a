// Entry point of a worker process (forked by the arbiter through node:cluster).
import { runWorker } from "./worker";
import { ServerOptions } from "./options";

const options = JSON.parse(process.env.INSTAGRAM_SERVER_OPTIONS ?? "{}") as ServerOptions;
runWorker(options, Number(process.env.INSTAGRAM_WORKER_ID), Number(process.env.INSTAGRAM_REQUEST_LIMIT ?? 0)).catch((e) => {
    console.error(`worker ${process.pid}: ${(e as Error).message}`);
    process.exit(1);
});
