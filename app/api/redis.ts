/**
 * The app's use of Redis, in one place: a request that needs Redis while it is away answers 503 (the client
 * fails fast, enableOfflineQueue is off), and a pipeline or transaction fails as a whole when any of its
 * commands did, instead of handing back half its results.
 */
import Redis, { ChainableCommander } from "ioredis";
import { Unavailable } from "./shards";
import { RedisReader } from "./redis-reader";

export function readyRedis(redis: Redis | undefined): Redis {
    if (!redis || redis.status !== "ready") throw new Unavailable("redis");
    return redis;
}

/** The read connection, or Unavailable while it is down. */
export function readyReader(reader: RedisReader | undefined): RedisReader {
    if (!reader?.ready) throw new Unavailable("redis");
    return reader;
}

/** Each command's result, in order; Unavailable when the pipeline or any command in it failed. */
export async function execAll(pipeline: ChainableCommander): Promise<unknown[]> {
    let results: [Error | null, unknown][] | null;
    try {
        results = await pipeline.exec();
    } catch (e) {
        throw new Unavailable("redis", e as Error);
    }
    if (!results) throw new Unavailable("redis", new Error("the transaction was aborted"));
    const failed = results.find(([err]) => err);
    if (failed) throw new Unavailable("redis", failed[0]!);
    return results.map(([, value]) => value);
}

/** One command, with a failure reported as Redis being unavailable. */
export async function redisCall<T>(what: () => Promise<T>): Promise<T> {
    try {
        return await what();
    } catch (e) {
        throw e instanceof Unavailable ? e : new Unavailable("redis", e as Error);
    }
}
