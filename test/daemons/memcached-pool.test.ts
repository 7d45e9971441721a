/** The app's memcached client against two real memcached nodes: placement by ketama, multi-get, a node lost. */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Daemons, requireCommand, tcpExchange } from "../harness/daemons";
import { MemcachedPool } from "../../app/api/memcached";

const NODES = ["127.0.3.11:11211", "127.0.3.12:11211"];
const daemons = new Daemons();
let pool: MemcachedPool;

beforeAll(async () => {
    requireCommand("memcached", "memcached");
    for (const [i, node] of NODES.entries()) {
        const [host] = node.split(":");
        daemons.start(`memcached-${i}`, "memcached", ["-l", host, "-p", "11211", "-U", "0", "-m", "16", "-u", "memcache"]);
        await daemons.waitFor(`memcached-${i}`, host, 11211);
    }
    pool = new MemcachedPool({ nodes: NODES, timeoutMs: 500 });
}, 30_000);

afterAll(async () => {
    pool?.close();
    await daemons.cleanup();
});

const keys = Array.from({ length: 200 }, (_, i) => `media:${5000 + i}`);

describe("memcached pool", () => {
    test("each key is stored on the node the ring names, and a multi-get returns them all", async () => {
        for (const k of keys) expect(await pool.set(k, JSON.stringify({ id: k }), 60)).toBe(true);
        for (const k of keys.slice(0, 20)) {
            const [host] = pool.nodeFor(k).split(":");
            const other = NODES.find((n) => n !== pool.nodeFor(k))!.split(":")[0];
            expect(await tcpExchange(host, 11211, `get ${k}\r\n`, /END\r\n/)).toContain(`VALUE ${k} `);
            expect(await tcpExchange(other, 11211, `get ${k}\r\n`, /END\r\n/)).toBe("END\r\n");
        }
        const found = await pool.getMulti(keys);
        expect(found.size).toBe(200);
        expect(JSON.parse(found.get("media:5007")!.toString())).toEqual({ id: "media:5007" });
        expect(new Set(keys.map((k) => pool.nodeFor(k))).size).toBe(2);
    });

    test("many multi-gets at once (one write per node per turn of the event loop): each gets its own values", async () => {
        const asks = Array.from({ length: 100 }, (_, i) => keys.slice(i, i + 1 + (i % 7)));
        const answers = await Promise.all(asks.map((ks, i) => (i % 2 ? pool.getMultiText(ks) : pool.getMulti(ks))));
        answers.forEach((found, i) => {
            expect([...found.keys()].sort()).toEqual([...asks[i]].sort());
            for (const [k, v] of found) expect(JSON.parse(v.toString())).toEqual({ id: k });
        });
    });

    test("misses are absent, values may hold CRLF and binary bytes", async () => {
        const tricky = Buffer.from([0, 13, 10, 69, 78, 68, 13, 10, 255]);
        expect(await pool.set("blob:1", tricky)).toBe(true);
        const found = await pool.getMulti(["blob:1", "never:set"]);
        expect(found.get("blob:1")).toEqual(tricky);
        expect(found.has("never:set")).toBe(false);
    });

    test("a node that goes down reads as misses for its keys only, without an error, and writes to it report false", async () => {
        const lost = NODES[1];
        await daemons.stopOne("memcached-1");
        const started = Date.now();
        const found = await pool.getMulti(keys);
        expect(Date.now() - started).toBeLessThan(2000);
        const onLost = keys.filter((k) => pool.nodeFor(k) === lost);
        expect(onLost.length).toBeGreaterThan(0);
        expect(found.size).toBe(keys.length - onLost.length);
        expect(await pool.set(onLost[0], "x")).toBe(false);
    });

    test("keys memcached would reject are refused before they are sent", async () => {
        await expect(pool.getMulti(["has space"])).rejects.toThrow(/printable ASCII characters without spaces/);
        await expect(pool.set("k".repeat(251), "x")).rejects.toThrow(/1-250/);
    });
});
