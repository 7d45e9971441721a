/**
 * `npm run bench:local`: the one-machine stack from cold (an empty state directory) to healthy, then feed
 * reads and uploads through the edge over HTTPS at a fixed concurrency, requests/s with p50/p99, as a
 * table. Everything is on 127.0.31.0/24 in a temporary directory, and is taken down at the end. Needs root
 * and the local stack's packages (npm run local -- install-deps).
 * BENCH_SECONDS (default 10) per run, BENCH_CONCURRENCY (default 16).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "../delivery/sources";
import { contextFor } from "../local/session";
import { readState } from "../local/state";
import { edgeCertificate } from "../local/services/edge";
import { loadLoop, percentile, SiteClient } from "../local/site-client";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const NET = "127.0.31";
for (const [name, value, max] of [["BENCH_SECONDS", SECONDS, 120], ["BENCH_CONCURRENCY", CONCURRENCY, 256]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > max) {
        console.error(`bench:local: ${name} must be a whole number from 1 to ${max}`);
        process.exit(2);
    }
}

function local(dir: string, args: string[]): { status: number; out: string } {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "local", "cli.ts"), ...args, "--dir", dir], { cwd: PROJECT_ROOT, encoding: "utf8" });
    return { status: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

async function main(): Promise<number> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-local-"));
    fs.chmodSync(dir, 0o755);
    const stackArgs = ["--stack", "dev", "--net", NET, "--workers", "2", "--set", "instagram:appServers=2", "--set", "instagram:physicalShards=2",
        "--set", "instagram:logicalShards=64", "--set", "instagram:memcachedNodes=2"];
    try {
        const started = Date.now();
        const up = local(dir, ["up", ...stackArgs]);
        const bringUpS = (Date.now() - started) / 1000;
        if (up.status !== 0) {
            console.error(`bench:local: up failed:\n${up.out}`);
            return 1;
        }
        const ctx = contextFor(dir, readState(dir)!, () => undefined);
        const site = new SiteClient(`${NET}.1`, edgeCertificate(ctx), ctx.plan.domain);
        const users: string[] = [];
        for (let i = 0; i < 50; i++) users.push(await site.createUser(`bench_${i}`));
        for (let i = 5; i < users.length; i++) await site.follow(users[i], users[i % 5]);
        // Warm the feeds so reads measure the steady state (memcached hits).
        await loadLoop(site, users.slice(0, 5), { seconds: 2, concurrency: 4, uploadShare: 1 });
        const rows: string[][] = [];
        for (const [name, share] of [["feed read", 0], ["upload (PNG, fanned out to ~10 followers)", 1]] as const) {
            const r = await loadLoop(site, share === 1 ? users.slice(0, 5) : users, { seconds: SECONDS, concurrency: CONCURRENCY, uploadShare: share });
            const lat = share === 1 ? r.latenciesMs.upload : r.latenciesMs.feed;
            rows.push([name, String(CONCURRENCY), (lat.length / r.seconds).toFixed(0), percentile(lat, 50).toFixed(1), percentile(lat, 99).toFixed(1), String(r.failed)]);
        }
        site.close();
        const up2 = Date.now();
        const again = local(dir, ["up"]);
        const idempotentS = (Date.now() - up2) / 1000;
        console.log(`\nbring-up from cold to healthy (2 app hosts, 2 shards, Redis, 2 memcached, edge, Munin): ${bringUpS.toFixed(1)} s`);
        console.log(`a second \`up\` (already running, changes nothing): ${idempotentS.toFixed(1)} s${again.status === 0 ? "" : " (failed)"}\n`);
        const head = ["request", "concurrency", "requests/s", "p50 ms", "p99 ms", "failed"];
        const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
        const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
        console.log([line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n"));
        console.log(`\n(${SECONDS} s per run, HTTPS through the edge nginx, ${os.cpus().length} cores shared by every daemon and the load generator)`);
        return 0;
    } finally {
        const down = local(dir, ["down"]);
        if (down.status !== 0) console.error(down.out);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().then((code) => process.exit(code), (e: Error) => { console.error(`bench:local: ${e.message}`); process.exit(1); });
