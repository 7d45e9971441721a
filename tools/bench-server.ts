/**
 * `npm run bench:server`: requests/s and p99 of a trivial endpoint under this server, bare node:cluster (the
 * ceiling), pm2 cluster mode and gunicorn sync workers, same machine, same worker count, one wrk run each;
 * then failed requests during a reload under load, for this server (HUP) and `pm2 reload`.
 * Everything listens on 127.0.9.x and is stopped at the end. Needs wrk and gunicorn (apt-get install wrk gunicorn).
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as http from "http";

const ROOT = path.resolve(__dirname, "..");
const BENCH = path.join(__dirname, "bench");
const WORKERS = Number(process.env.BENCH_WORKERS ?? os.cpus().length);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
/** wrk shares the machine's cores with the servers: interleaved rounds, median per server, tame the noise. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PORT = 8000;

for (const [name, value, max] of [["BENCH_WORKERS", WORKERS, 64], ["BENCH_SECONDS", SECONDS, 120], ["BENCH_CONNECTIONS", CONNECTIONS, 1000], ["BENCH_ROUNDS", ROUNDS, 9]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > max) {
        console.error(`bench:server: ${name} must be a whole number from 1 to ${max}`);
        process.exit(2);
    }
}
for (const tool of ["wrk", "gunicorn"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
        console.error(`bench:server: ${tool} is not installed (apt-get install wrk gunicorn)`);
        process.exit(2);
    }
}

const children: ChildProcess[] = [];
const pm2Home = fs.mkdtempSync(path.join(os.tmpdir(), "bench-pm2-"));
const pm2 = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(path.join(ROOT, "node_modules", ".bin", "pm2"), args, { env: { ...process.env, PM2_HOME: pm2Home, ...env }, encoding: "utf8" });

function start(command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: "ignore" });
    children.push(child);
    return child;
}

async function waitFor(host: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
        const ok = await new Promise<boolean>((resolve) => {
            http.get({ host, port: PORT, path: "/", agent: false, timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode === 200); }).on("error", () => resolve(false));
        });
        if (ok) return;
        await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`nothing answered on ${host}:${PORT}`);
}

interface WrkResult { rps: number; p99ms: number; requests: number; errors: number }

/** One wrk run; `during` runs after `at` seconds (a reload). */
async function wrk(host: string, during?: { at: number; run: () => void }): Promise<WrkResult> {
    const child = spawn("wrk", [`-t2`, `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--latency", `http://${host}:${PORT}/`], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const timer = during ? setTimeout(during.run, during.at * 1000) : undefined;
    await new Promise((resolve) => child.on("close", resolve));
    if (timer) clearTimeout(timer);
    const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
    const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
    const p99ms = p99 ? Number(p99[1]) * (p99[2] === "us" ? 0.001 : p99[2] === "s" ? 1000 : 1) : NaN;
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const errors = (socketErrors ? socketErrors.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0) + (num(/Non-2xx or 3xx responses: (\d+)/) || 0);
    return { rps: num(/Requests\/sec:\s+([\d.]+)/), p99ms, requests: num(/(\d+) requests in/), errors };
}

async function main(): Promise<void> {
    const rows: { name: string; r: WrkResult }[] = [];
    const ours = "127.0.9.1", bare = "127.0.9.2", pm2Host = "127.0.9.3", gunicorn = "127.0.9.4";
    const app = path.join(BENCH, "trivial-app.js");

    const server = start(process.execPath, ["--import", "tsx", "app/server/cli.ts", "serve", "-w", String(WORKERS), "-b", `${ours}:${PORT}`, "--app", app, "--error-log", path.join(pm2Home, "ours.log")]);
    start(process.execPath, [path.join(BENCH, "bare-cluster.js"), bare, String(PORT), String(WORKERS)]);
    pm2(["start", path.join(BENCH, "pm2-app.js"), "-i", String(WORKERS), "--name", "bench", "--wait-ready"], { BENCH_HOST: pm2Host, BENCH_PORT: String(PORT) });
    start("gunicorn", ["-w", String(WORKERS), "-b", `${gunicorn}:${PORT}`, "--chdir", BENCH, "wsgi_app:application"]);
    for (const host of [ours, bare, pm2Host, gunicorn]) await waitFor(host);

    const candidates = [["bare node:cluster (ceiling)", bare], ["instagram-app serve", ours], ["pm2 cluster mode", pm2Host], ["gunicorn sync workers", gunicorn]] as const;
    const runs = new Map<string, WrkResult[]>(candidates.map(([name]) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
        for (const [name, host] of candidates) runs.get(name)!.push(await wrk(host));
    }
    for (const [name] of candidates) {
        const results = runs.get(name)!;
        const byRps = [...results].sort((a, b) => a.rps - b.rps);
        const median = byRps[Math.floor(byRps.length / 2)];
        rows.push({ name, r: { ...median, errors: results.reduce((sum, r) => sum + r.errors, 0) } });
    }
    const ceiling = rows[0].r.rps;
    const hup = await wrk(ours, { at: SECONDS / 3, run: () => server.kill("SIGHUP") });
    const reload = await wrk(pm2Host, { at: SECONDS / 3, run: () => pm2(["reload", "bench"]) });

    console.log(`Trivial endpoint, ${WORKERS} workers each, wrk -t2 -c${CONNECTIONS} -d${SECONDS}s, median of ${ROUNDS} interleaved rounds, on loopback, ${os.cpus().length} cores, Node ${process.version}\n`);
    console.log("| server | requests/s (median) | p99 ms | vs bare node:cluster | failed requests (all rounds) |");
    console.log("|---|---|---|---|---|");
    for (const { name, r } of rows) console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p99ms.toFixed(2)} | ${(r.rps / ceiling).toFixed(2)} | ${r.errors} |`);
    console.log("\nReload under load (same wrk run, reload a third of the way in):\n");
    console.log("| reload | requests | failed requests |");
    console.log("|---|---|---|");
    console.log(`| instagram-app serve, kill -HUP | ${hup.requests} | ${hup.errors} |`);
    console.log(`| pm2 reload | ${reload.requests} | ${reload.errors} |`);
}

function cleanup(): void {
    pm2(["kill"]);
    for (const child of children) child.kill("SIGTERM");
    fs.rmSync(pm2Home, { recursive: true, force: true });
}

main().then(cleanup, (e) => { cleanup(); console.error(`bench:server: ${(e as Error).message}`); process.exit(1); });
