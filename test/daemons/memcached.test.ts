/** memcached started by Debian's own wrapper from the generated /etc/memcached.conf. */
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Daemons, requireCommand, tcpExchange, tempDir } from "../harness/daemons";
import { memcachedConf } from "../../cloud-init/configs/memcached";
import { memcachedSizing } from "../../core/sizing";

const HOST = "127.0.3.1";
const WRAPPER = "/usr/share/memcached/scripts/systemd-memcached-wrapper";
const daemons = new Daemons();
const sizing = memcachedSizing("t3.small", 50);

beforeAll(async () => {
    requireCommand("memcached", "memcached");
    const dir = daemons.track(tempDir("memcached-test"));
    const conf = path.join(dir, "memcached.conf");
    fs.writeFileSync(conf, memcachedConf({ sizing, listenAddress: HOST }).replace("/var/log/memcached.log", path.join(dir, "memcached.log")));
    // The wrapper drops to the memcache user itself (-u memcache), as on a host.
    daemons.start("memcached", fs.existsSync(WRAPPER) ? WRAPPER : "memcached", [conf]);
    await daemons.waitFor("memcached", HOST, 11211);
}, 30_000);

afterAll(() => daemons.cleanup());

const stats = async () => Object.fromEntries(
    (await tcpExchange(HOST, 11211, "stats settings\r\n", /END\r\n/)).split("\r\n").filter((l) => l.startsWith("STAT ")).map((l) => l.split(" ").slice(1, 3)),
);

describe("memcached with the generated configuration", () => {
    test("runs with the sized memory, connections and threads, TCP only, on its address", async () => {
        const s = await stats();
        expect(Number(s.maxbytes)).toBe(sizing.memoryMiB * 1024 * 1024);
        expect(Number(s.maxconns)).toBe(sizing.maxConnections);
        expect(Number(s.num_threads)).toBe(sizing.threads);
        expect(s.udpport).toBe("0");
        expect(s.tcpport).toBe("11211");
    });

    test("stores and returns values", async () => {
        expect(await tcpExchange(HOST, 11211, "set media:1 0 60 5\r\nhello\r\n", /STORED\r\n/)).toBe("STORED\r\n");
        expect(await tcpExchange(HOST, 11211, "get media:1\r\n", /END\r\n/)).toBe("VALUE media:1 0 5\r\nhello\r\nEND\r\n");
    });

    test("runs as the memcache user, not root", () => {
        const pid = daemons.run("pgrep", ["-f", `memcached.*${HOST}`]).stdout.trim().split("\n")[0];
        expect(daemons.run("ps", ["-o", "user=", "-p", pid]).stdout.trim()).toBe("memcache");
    });
});
