/**
 * The job workers' side of error reports: a job that fails for good (gearmand drops it) makes one event at a
 * loopback stand-in of Sentry's ingest endpoint, naming the function and the job's unique ID; a job handed
 * back to be run again (a dependency away or not configured) makes none.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { eventually } from "../harness/daemons";
import { SentryStandIn, startSentryStandIn } from "../../tools/sentry-stand-in";
import { createFunctions } from "../../app/jobs/functions";
import { isRetryJob, Job } from "../../app/jobs/gearman/worker";

let sentry: SentryStandIn;
beforeAll(async () => { sentry = await startSentryStandIn("127.0.51.80"); });
afterAll(async () => { await sentry?.close(); });

const job = (fn: string, unique: string, data: string): Job => ({ fn, unique, handle: "H:test:1", server: "127.0.51.81:4730", data: Buffer.from(data) });

test("a job that fails for good is reported with its function and unique ID; a retried one is not", async () => {
    // Redis is named but nothing listens there: the share job fails on its data before it needs Redis.
    const functions = createFunctions({ workerId: 1, count: () => undefined }, {
        INSTAGRAM_REDIS: "127.0.51.82:6379", INSTAGRAM_SENTRY_DSN: sentry.dsn, INSTAGRAM_SENTRY_ENVIRONMENT: "test-stack", INSTAGRAM_RELEASE: "cd".repeat(32),
    });
    await expect(functions.get("share")!(job("share", "share:1:twitter", "not json"))).rejects.toThrow(/not JSON/);
    // No shards configured: the fan-out goes back to the queue, which is not an error of ours.
    const retried = await functions.get("fanout")!(job("fanout", "fanout:1", "{}")).catch((e: unknown) => e);
    expect(isRetryJob(retried)).toBe(true);
    const [got] = await eventually(() => (sentry.events().length > 0 ? sentry.events() : undefined), 10_000, "the event at the stand-in");
    expect(got.event).toMatchObject({ release: "cd".repeat(32), environment: "test-stack", transaction: "job share", tags: { job: "share", job_unique: "share:1:twitter" } });
    await new Promise((r) => setTimeout(r, 500));
    expect(sentry.events()).toHaveLength(1);
}, 30_000);
