/**
 * The gunicorn-style server with real processes and real signals, under bounded load on loopback.
 */
import * as fs from "fs";
import * as http from "http";
import { spawnSync } from "child_process";
import * as os from "os";
import * as path from "path";
import { afterEach, describe, expect, test } from "vitest";
import { childPids, FLAKY_APP, get, loadUntil, RunningServer, sleep, SLOW_BOOT_APP, startServer, TEST_APP, waitUntilServing } from "../harness/server";
import { eventually } from "../harness/daemons";
import { WORKER_NODE_FLAGS } from "../../app/server/arbiter";

const HOST = "127.0.8.1";
let port = 18000;
const running: RunningServer[] = [];

async function serve(extra: string[], workers = 2, app = TEST_APP, env: NodeJS.ProcessEnv = {}): Promise<{ server: RunningServer; port: number }> {
    const p = port++;
    const server = startServer(["--app", app, "-w", String(workers), "-b", `${HOST}:${p}`, ...extra], env);
    running.push(server);
    await waitUntilServing(HOST, p);
    await eventually(() => (childPids(server.pid).length === workers ? true : undefined), 10_000, `${workers} workers`);
    return { server, port: p };
}

afterEach(async (ctx) => {
    // A failed test shows what the master logged.
    if (ctx.task.result?.state === "fail") for (const s of running) console.error(`--- master ${s.pid} log ---\n${s.log()}`);
    await Promise.all(running.splice(0).map((s) => s.stop()));
});

describe("instagram-app serve", () => {
    test("HUP under concurrent load: every worker is replaced and not one request fails", async () => {
        const { server, port: p } = await serve([]);
        const before = childPids(server.pid);
        const reloaded = (async () => {
            await sleep(800);
            server.signal("SIGHUP");
            await eventually(() => {
                const now = childPids(server.pid);
                return now.length === 2 && now.every((pid) => !before.includes(pid)) ? true : undefined;
            }, 15_000, "the old workers to be replaced");
            await sleep(800);
        })();
        const result = await loadUntil(HOST, p, 8, reloaded);
        expect(result.failed, result.errors.slice(0, 5).join("; ")).toBe(0);
        expect(result.ok).toBeGreaterThan(100);
        const after = childPids(server.pid);
        expect(after.some((pid) => before.includes(pid))).toBe(false);
        expect([...result.pids].some((pid) => after.includes(pid))).toBe(true);
        expect(server.log()).toMatch(/Handling signal: hup/);
    }, 60_000);

    test("kill -9 of a worker under load: it is replaced, and only its in-flight requests can fail", async () => {
        const concurrency = 8;
        const { server, port: p } = await serve([]);
        const [victim] = childPids(server.pid);
        const killed = (async () => {
            await sleep(500);
            process.kill(victim, "SIGKILL");
            await eventually(() => (childPids(server.pid).length === 2 && !childPids(server.pid).includes(victim) ? true : undefined), 15_000, "a replacement");
            await sleep(500);
        })();
        const result = await loadUntil(HOST, p, concurrency, killed);
        expect(result.failed).toBeLessThanOrEqual(concurrency);
        expect(result.ok).toBeGreaterThan(50);
        expect(server.log()).toMatch(new RegExp(`Worker \\(pid: ${victim}\\) exited unexpectedly \\(signal SIGKILL\\); replacing it`));
    }, 60_000);

    test("a handler that blocks the event loop past --timeout: WORKER TIMEOUT, killed, replaced", async () => {
        const { server, port: p } = await serve(["--timeout", "1"], 1);
        const [stuck] = childPids(server.pid);
        const blocked = get(HOST, p, "/block?ms=8000").catch((e: Error) => e);
        await eventually(() => (server.log().includes(`WORKER TIMEOUT (pid:${stuck})`) ? true : undefined), 10_000, "WORKER TIMEOUT");
        expect(await blocked).toBeInstanceOf(Error);
        await eventually(() => { const now = childPids(server.pid); return now.length === 1 && now[0] !== stuck ? true : undefined; }, 10_000, "a replacement");
        // With a single worker the socket has no listener until the replacement boots (node:cluster closes it).
        await waitUntilServing(HOST, p);
        expect(JSON.parse((await get(HOST, p, "/")).body).pid).not.toBe(stuck);
    }, 60_000);

    test("max-requests with jitter recycles workers: each replacement boots before the old one drains, no request fails", async () => {
        const { server, port: p } = await serve(["--max-requests", "20", "--max-requests-jitter", "5"], 1);
        const pids = new Set<number>();
        // Paced so replacements (about a second to boot) come and go during the loop; bounded in count and time.
        const deadline = Date.now() + 30_000;
        for (let i = 0; i < 600 && pids.size < 4 && Date.now() < deadline; i++) {
            const reply = await get(HOST, p, "/");
            expect(reply.status).toBe(200);
            pids.add(JSON.parse(reply.body).pid);
            await sleep(10);
        }
        expect(pids.size).toBeGreaterThanOrEqual(4);
        const served = [...server.log().matchAll(/retiring: served (\d+) requests \(max-requests\)/g)].map((m) => Number(m[1]));
        expect(served.length).toBeGreaterThanOrEqual(3);
        for (const n of served) expect(n).toBeGreaterThanOrEqual(20);
        // Jitter: the limits are not all the same (20..25 each; equal by chance only rarely over 3+ workers).
        expect(served.every((n) => n <= 25)).toBe(true);
    }, 60_000);

    test("workers run with the worker node flags (a young generation sized for a server's allocation rate)", async () => {
        const { server } = await serve([], 2);
        for (const pid of childPids(server.pid)) {
            const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
            expect(argv).toEqual(expect.arrayContaining(WORKER_NODE_FLAGS));
        }
    }, 30_000);

    test("TTIN adds a worker; TTOU retires the oldest, never below one", async () => {
        const { server } = await serve([], 2);
        const first = childPids(server.pid).sort((a, b) => a - b);
        server.signal("SIGTTIN");
        await eventually(() => (childPids(server.pid).length === 3 ? true : undefined), 10_000, "3 workers");
        server.signal("SIGTTOU");
        await eventually(() => (childPids(server.pid).length === 2 ? true : undefined), 10_000, "2 workers");
        expect(childPids(server.pid)).not.toContain(first[0]);
        for (let i = 0; i < 3; i++) { server.signal("SIGTTOU"); await sleep(300); }
        await eventually(() => (childPids(server.pid).length === 1 ? true : undefined), 10_000, "1 worker");
        await sleep(500);
        expect(childPids(server.pid)).toHaveLength(1);
    }, 60_000);

    test("TERM lets an in-flight request finish, then the master exits 0 and removes its pid file", async () => {
        const pidFile = path.join(os.tmpdir(), `ig-test-${process.pid}.pid`);
        const { server, port: p } = await serve(["--pid", pidFile, "--graceful-timeout", "10"], 1);
        expect(Number(fs.readFileSync(pidFile, "utf8"))).toBe(server.pid);
        const slow = get(HOST, p, "/slow?ms=1500");
        await sleep(300);
        server.signal("SIGTERM");
        const reply = await slow;
        expect(reply.status).toBe(200);
        expect(await server.exited).toBe(0);
        expect(fs.existsSync(pidFile)).toBe(false);
        await expect(get(HOST, p, "/", 1000)).rejects.toThrow();
    }, 60_000);

    test("INT stops at once, without waiting for a slow request", async () => {
        const { server, port: p } = await serve(["--graceful-timeout", "30"], 1);
        const slow = get(HOST, p, "/slow?ms=10000").catch((e: Error) => e);
        await sleep(300);
        const started = Date.now();
        server.signal("SIGINT");
        await server.exited;
        expect(Date.now() - started).toBeLessThan(3000);
        expect(await slow).toBeInstanceOf(Error);
    }, 60_000);

    test("an app that fails to boot stops the master with the reason (exit 3), instead of restarting forever", async () => {
        const server = startServer(["--app", path.resolve(__dirname, "../fixtures/broken-app.ts"), "-w", "2", "-b", `${HOST}:${port++}`]);
        running.push(server);
        expect(await server.exited).toBe(3);
        expect(server.log()).toMatch(/failed to boot: cannot connect to the configuration store \(simulated boot failure\)/);
        expect(server.log().match(/Booting worker/g)).toHaveLength(2);
    }, 30_000);

    test("USR1 reopens the access log after it was moved away; the stats file counts requests and uploads", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ig-logs-"));
        const access = path.join(dir, "access.log");
        const stats = path.join(dir, "stats");
        const { server, port: p } = await serve(["--access-log", access, "--stats-file", stats], 1);
        await get(HOST, p, "/first");
        await eventually(() => (fs.existsSync(access) && fs.readFileSync(access, "utf8").includes("GET /first") ? true : undefined), 5000, "the first access line");
        fs.renameSync(access, `${access}.1`);
        server.signal("SIGUSR1");
        await eventually(() => (server.log().includes("reopening logs") ? true : undefined), 5000, "USR1");
        await sleep(300);
        await get(HOST, p, "/second");
        await get(HOST, p, "/upload");
        await eventually(() => (fs.existsSync(access) && fs.readFileSync(access, "utf8").includes("GET /second") ? true : undefined), 5000, "the reopened log");
        expect(fs.readFileSync(`${access}.1`, "utf8")).not.toContain("/second");
        expect(fs.readFileSync(access, "utf8")).toMatch(/"GET \/second HTTP\/1.1" 200 (\d+|-) [\d.]+ms pid=\d+/);
        // Every request counts (the readiness probes too): as many as the access log has lines, in both files.
        const logged = () => [access, `${access}.1`].map((f) => fs.readFileSync(f, "utf8").trim().split("\n").length).reduce((a, b) => a + b);
        await eventually(() => {
            const text = fs.existsSync(stats) ? fs.readFileSync(stats, "utf8") : "";
            return /^uploads 1$/m.test(text) && text.includes(`requests ${logged()}\n`) ? text : undefined;
        }, 5000, "the stats file to count every request and the upload");
        fs.rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    test("a unix socket bind, as on a host behind nginx: served, survives a reload, a stale socket file is replaced", async () => {
        const sock = path.join(os.tmpdir(), `ig-test-${process.pid}.sock`);
        const viaSocket = () => new Promise<number>((resolve, reject) => {
            http.get({ socketPath: sock, path: "/", agent: false }, (res) => { res.resume(); resolve(res.statusCode!); }).on("error", reject);
        });
        // A socket file left by a crashed master (nothing listening) must not stop the start.
        spawnSync("python3", ["-c", "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", sock]); // bound, never unlinked
        expect(fs.statSync(sock).isSocket()).toBe(true);
        const server = startServer(["--app", TEST_APP, "-w", "2", "-b", `unix:${sock}`]);
        running.push(server);
        await eventually(async () => ((await viaSocket().catch(() => 0)) === 200 ? true : undefined), 20_000, "the socket to serve");
        server.signal("SIGHUP");
        await eventually(() => (server.log().match(/Worker exiting/g)?.length === 2 ? true : undefined), 20_000, "the reload");
        expect(await viaSocket()).toBe(200);
    }, 60_000);

    test("a second HUP while the first one's workers still boot: those stop, and the pool settles at its size", async () => {
        // A deploy tool that reloads twice in a row. The workers forked for the first reload are still loading
        // the app when the second arrives; a stop sent to them then must not be lost, or each one boots later
        // as a worker the master has already written off, serving the old release for good.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ig-slow-boot-"));
        const { server, port: p } = await serve([], 2, SLOW_BOOT_APP, { SLOW_BOOT_MS: "3000", SLOW_BOOT_DIR: dir });
        const original = childPids(server.pid);
        const loaded = (pid: number) => fs.existsSync(path.join(dir, `loaded-${pid}`));
        await eventually(() => (original.every(loaded) ? true : undefined), 20_000, "both workers to load the app");
        await sleep(500); // and to tell the master so
        server.signal("SIGHUP");
        const firstReload = await eventually(() => {
            const forked = childPids(server.pid).filter((pid) => !original.includes(pid));
            return forked.length === 2 ? forked : undefined;
        }, 5000, "the first reload's workers forked");
        expect(firstReload.some(loaded)).toBe(false);
        server.signal("SIGHUP");
        const settled = () => {
            const now = childPids(server.pid);
            return now.length === 2 && now.every((pid) => !original.includes(pid) && !firstReload.includes(pid)) ? now : undefined;
        };
        const final = await eventually(settled, 30_000, "the second reload's workers alone");
        // Long enough for a lost stop to show: a first-reload worker would have booted by now and still be there.
        await sleep(4000);
        expect(childPids(server.pid).sort()).toEqual(final.sort());
        const { body } = await get(HOST, p, "/");
        expect(final).toContain(JSON.parse(body).pid);
        expect(server.log().match(/Worker exiting/g)).toHaveLength(4);
        fs.rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    test("bad arguments get the usage and exit 2", async () => {
        for (const args of [["--workers", "0"], ["--bind", "nowhere"], ["--bind", "unix:relative.sock"], ["--frobnicate"], ["--timeout"]]) {
            const server = startServer(args);
            expect(await server.exited, args.join(" ")).toBe(2);
            expect(server.log()).toMatch(/instagram-app serve: .*\nusage: instagram-app serve/);
        }
    }, 60_000);

    describe("an app that cannot load for a while (a broken release on disk, a dependency missing)", () => {
        let flag: string;
        /** Workers that loaded the app and are alive (the fixture marks each; no request needed to find them). */
        const loadedPids = (server: RunningServer) => {
            const loaded = new Set(fs.readdirSync(path.dirname(flag)).filter((f) => f.startsWith("loaded-")).map((f) => Number(f.slice(7))));
            return childPids(server.pid).filter((pid) => loaded.has(pid));
        };
        /** A server on the flaky app; its module fails to load while `flag` exists. */
        const serveFlaky = async (extra: string[], workers: number) => {
            flag = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ig-flaky-")), "broken");
            const started = await serve(extra, workers, FLAKY_APP, { FLAKY_APP_BROKEN: flag });
            // Every worker has loaded the app before it breaks (a forked worker loads it a moment later).
            await eventually(() => (loadedPids(started.server).length === workers && childPids(started.server.pid).length === workers ? true : undefined), 20_000, `${workers} workers loaded`);
            return started;
        };
        const breakApp = () => fs.writeFileSync(flag, "");
        const fixApp = () => fs.rmSync(flag, { force: true });
        afterEach(() => fs.rmSync(path.dirname(flag), { recursive: true, force: true }));
        /** Workers that served a request: with a failing boot in progress, childPids() also counts the doomed one. */
        const servingPids = async (p: number, tries = 40) => {
            const pids = new Set<number>();
            for (let i = 0; i < tries; i++) pids.add(JSON.parse((await get(HOST, p, "/")).body).pid);
            return pids;
        };
        /** Workers the master logged as due for max-requests. */
        const recycled = (server: RunningServer) => [...server.log().matchAll(/Worker (\d+) retiring: served \d+ requests \(max-requests\)/g)].map((m) => Number(m[1]));

        test("max-requests recycling while the app cannot load: no worker retires without a replacement, and the pool recovers", async () => {
            const { server, port: p } = await serveFlaky(["--max-requests", "200"], 3);
            const original = childPids(server.pid);
            breakApp();
            // 1000 requests over 3 workers with a limit of 200: at least one passes it, some several times over.
            const deadline = Date.now() + 60_000;
            let ok = 0;
            for (let i = 0; i < 250 && Date.now() < deadline; i++) {
                const replies = await Promise.all(Array.from({ length: 4 }, () => get(HOST, p, "/")));
                ok += replies.filter((r) => r.status === 200).length;
            }
            expect(ok).toBe(1000);
            const failed = /failed to boot: cannot load the app: .* \(simulated broken release\); 3 worker\(s\) serving of 3, next boot in \d+ s/;
            await eventually(() => (failed.test(server.log()) ? true : undefined), 20_000, "the replacements to fail to boot");
            const due = recycled(server);
            expect(due.length).toBeGreaterThan(0);
            // No worker was retired: every original still runs, the recycled ones included.
            for (const pid of original) expect(childPids(server.pid)).toContain(pid);
            expect(server.proc.exitCode).toBeNull();

            fixApp();
            await eventually(() => {
                const now = childPids(server.pid);
                const loaded = loadedPids(server);
                return now.length === 3 && loaded.length === 3 && due.every((pid) => !now.includes(pid)) ? true : undefined;
            }, 30_000, "the recycled workers replaced by three that loaded the fixed app");
            expect(server.log()).toMatch(/booted after \d+ failed boot\(s\)/);
        }, 120_000);

        test("TTIN and kill -9 while the app cannot load: the others serve, the pool grows back to the target once it loads", async () => {
            const { server, port: p } = await serveFlaky([], 2);
            const [victim, survivor] = childPids(server.pid);
            breakApp();
            process.kill(victim, "SIGKILL");
            server.signal("SIGTTIN");
            await eventually(() => ((server.log().match(/failed to boot/g)?.length ?? 0) >= 2 ? true : undefined), 30_000, "replacements failing to boot");
            expect([...(await servingPids(p, 10))]).toEqual([survivor]);
            fixApp();
            await eventually(() => (loadedPids(server).length === 3 ? true : undefined), 30_000, "three workers that loaded the app");
            await sleep(1500);
            expect(childPids(server.pid)).toHaveLength(3);
            expect(childPids(server.pid)).toContain(survivor);
        }, 120_000);

        test("HUP to a broken release keeps the running workers serving; once it is fixed the reload completes, with no failed request", async () => {
            const { server, port: p } = await serveFlaky([], 2);
            const original = childPids(server.pid);
            breakApp();
            const reload = (async () => {
                server.signal("SIGHUP");
                await eventually(() => ((server.log().match(/failed to boot/g)?.length ?? 0) >= 2 ? true : undefined), 30_000, "the new workers failing to boot");
                for (const pid of original) expect(childPids(server.pid)).toContain(pid);
                fixApp();
                await eventually(() => {
                    const now = childPids(server.pid);
                    return now.length === 2 && now.every((pid) => !original.includes(pid)) ? true : undefined;
                }, 30_000, "the reload to complete");
                await sleep(500);
            })();
            const result = await loadUntil(HOST, p, 4, reload, 90_000);
            await reload;
            expect(result.failed, result.errors.slice(0, 5).join("; ")).toBe(0);
            expect(result.ok).toBeGreaterThan(100);
        }, 120_000);

        test("kill -9 of the only worker while the app cannot load: nothing can serve, so the master exits 3 for systemd to restart it", async () => {
            const { server } = await serveFlaky([], 1);
            breakApp();
            process.kill(childPids(server.pid)[0], "SIGKILL");
            expect(await server.exited).toBe(3);
            expect(server.log()).toMatch(/No worker is serving and none could boot: shutting down \(exit 3\)/);
        }, 60_000);
    });
});
