/**
 * The job functions `instagram-app work` runs, built once per worker process from the same configuration
 * as the API (/etc/instagram/app.env and the unit's credentials). A job whose dependency is away (Redis,
 * a shard) or not configured yet goes back to the queue to be run again; one that cannot succeed (bad
 * data) fails.
 */
import { AppContext } from "../server/protocol";
import { loadApiConfig } from "../api/config";
import { buildServices } from "../api/services";
import { Unavailable } from "../api/shards";
import { isRetryJob, Job, JobHandler, RetryJob } from "./gearman/worker";
import { FAN_OUT_FUNCTION, fanOutHandler } from "./fan-out-job";
import { SHARE_FUNCTION, shareHandler } from "./share-job";
import { PUSH_FUNCTION, pushHandler } from "./push-job";
import { ApnsSender } from "./push/apns";
import { FcmSender } from "./push/fcm";
import { INDEX_FUNCTION, indexHandler } from "./index-job";

/** Pause before a job whose dependency failed goes back to the queue; longer while one is not configured. */
const RETRY_PAUSE_MS = { unavailable: 1000, unconfigured: 5000 };

export function createFunctions(context: AppContext, env: NodeJS.ProcessEnv = process.env): ReadonlyMap<string, JobHandler> {
    const services = buildServices(loadApiConfig(env));
    if (services.missing.length > 0) console.error(`instagram-app work: not configured yet, jobs wait in the queue: ${services.missing.join("; ")}`);
    const { shards, redis } = services;
    const fanOut = shards && redis ? fanOutHandler(shards, redis) : undefined;
    const retryable = (run: ((job: Job) => Promise<string>) | undefined): JobHandler => async (job) => {
        if (!run) throw new RetryJob(`not configured: ${services.missing.join("; ")}`, RETRY_PAUSE_MS.unconfigured);
        try {
            return await run(job);
        } catch (e) {
            if (e instanceof Unavailable) throw new RetryJob(e.message, RETRY_PAUSE_MS.unavailable);
            // A job that fails for good is dropped by gearmand: an error of ours, reported (a retry is not).
            if (!isRetryJob(e)) services.errorReports.report(e, { job: { fn: job.fn, unique: job.unique } });
            throw e;
        }
    };
    const share = redis ? shareHandler(services.config.shareDestinations, redis) : undefined;
    const functions = new Map([[FAN_OUT_FUNCTION, retryable(fanOut)], [SHARE_FUNCTION, retryable(share)]]);
    // index only where the search tier is configured (the API queues it under the same condition).
    if (services.search) functions.set(INDEX_FUNCTION, retryable(shards ? indexHandler(shards, services.search) : undefined));
    // push only where a platform is configured (the API queues it under the same condition), with one
    // sender per platform for the life of this worker process: one HTTP/2 connection to APNs, one token each.
    const { apns, fcm } = services.config.push;
    if (apns || fcm) {
        const senders = {
            ...(apns ? { ios: new ApnsSender({ settings: apns.settings, key: apns.key, endpoint: apns.endpoint }) } : {}),
            ...(fcm ? { android: new FcmSender({ projectId: fcm.projectId, account: fcm.account, endpoint: fcm.endpoint }) } : {}),
        };
        const push = services.devices && redis ? pushHandler({ devices: services.devices, redis, senders, context }) : undefined;
        functions.set(PUSH_FUNCTION, retryable(push));
    }
    return functions;
}

export default createFunctions;
