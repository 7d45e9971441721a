/** The app's read connection to Redis against a real redis-server with a password: replies, batching, failures, recovery. */
import * as net from "net";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Daemons, eventually, requireCommand } from "../harness/daemons";
import { RedisReader } from "../../app/api/redis-reader";

const HOST = "127.0.35.1";
const PASSWORD = "ReaderPassw0rdForTests0000000001";
const daemons = new Daemons();
let writer: Redis;
let reader: RedisReader;

async function startRedis(): Promise<void> {
    daemons.start("redis", "redis-server", ["--bind", HOST, "--port", "6379", "--requirepass", PASSWORD, "--save", "", "--appendonly", "no"]);
    await daemons.waitFor("redis", HOST, 6379);
}

beforeAll(async () => {
    requireCommand("redis-server", "redis-server");
    await startRedis();
    writer = new Redis({ host: HOST, port: 6379, password: PASSWORD });
    reader = new RedisReader({ host: HOST, port: 6379, password: PASSWORD, timeoutMs: 500 }).start();
    await eventually(() => (reader.ready ? true : undefined), 5000, "the reader to connect");
}, 30_000);

afterAll(async () => {
    reader?.close();
    writer?.disconnect();
    await daemons.cleanup();
});

describe("RedisReader", () => {
    test("GET, LRANGE and MGET answer as ioredis does: nil as null, UTF-8 and CRLF inside values intact", async () => {
        await writer.set("r:text", "zoë 🌅 line\r\nbreak $3\r\n*1");
        await writer.rpush("r:list", "3", "2", "1");
        expect(await reader.get("r:text")).toBe(await writer.get("r:text"));
        expect(await reader.get("r:none")).toBeNull();
        expect(await reader.lrange("r:list", 0, 1)).toEqual(["3", "2"]);
        expect(await reader.lrange("r:empty", 0, 10)).toEqual([]);
        expect(await reader.mget(["r:text", "r:none", "r:text"])).toEqual(await writer.mget("r:text", "r:none", "r:text"));
        expect(await reader.mget([])).toEqual([]);
    });

    test("hundreds of calls at once (one write per turn of the event loop) each get their own reply", async () => {
        const keys = Array.from({ length: 300 }, (_, i) => `r:many:${i}`);
        await writer.mset(...keys.flatMap((k) => [k, `value of ${k}`]));
        const replies = await Promise.all(keys.map((k, i) => (i % 3 === 0 ? reader.mget([k, "r:none"]) : reader.get(k))));
        replies.forEach((reply, i) => expect(reply).toEqual(i % 3 === 0 ? [`value of ${keys[i]}`, null] : `value of ${keys[i]}`));
    });

    test("an error reply fails only its own call", async () => {
        const [wrongType, fine] = await Promise.allSettled([reader.lrange("r:text", 0, 1), reader.get("r:text")]);
        expect(wrongType.status).toBe("rejected");
        expect((wrongType as PromiseRejectedResult).reason.message).toMatch(/WRONGTYPE/);
        expect(fine.status).toBe("fulfilled");
        expect(reader.ready).toBe(true);
    });

    test("a wrong password never becomes ready, and its calls reject at once", async () => {
        const wrong = new RedisReader({ host: HOST, port: 6379, password: "not the password" }).start();
        try {
            await new Promise((resolve) => setTimeout(resolve, 500));
            expect(wrong.ready).toBe(false);
            await expect(wrong.get("r:text")).rejects.toThrow(/not connected/);
        } finally {
            wrong.close();
        }
    });

    test("a server that stops answering: the call fails after the timeout, not never", async () => {
        const silent = net.createServer((socket) => socket.on("data", () => undefined));
        await new Promise<void>((resolve) => silent.listen(0, "127.0.35.2", resolve));
        const port = (silent.address() as net.AddressInfo).port;
        const stuck = new RedisReader({ host: "127.0.35.2", port, timeoutMs: 300 }).start();
        try {
            await eventually(() => (stuck.ready ? true : undefined), 5000, "a connection");
            const started = Date.now();
            await expect(stuck.get("k")).rejects.toThrow(/did not answer within 300 ms/);
            expect(Date.now() - started).toBeLessThan(2000);
            expect(stuck.ready).toBe(false);
        } finally {
            stuck.close();
            silent.close();
        }
    });

    test("Redis stopped: calls reject at once; Redis back: the reader reconnects by itself", async () => {
        await daemons.stopOne("redis");
        await eventually(() => (reader.ready ? undefined : true), 5000, "the reader to notice");
        const started = Date.now();
        await expect(reader.get("r:text")).rejects.toThrow(/not connected/);
        expect(Date.now() - started).toBeLessThan(100);
        await startRedis();
        await eventually(() => (reader.ready ? true : undefined), 10_000, "the reader to reconnect");
        expect(await reader.get("r:text")).toBeNull(); // a fresh server without persistence
    }, 30_000);
});
