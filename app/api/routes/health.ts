/** /healthz (the process is alive) and /readyz (what is missing or down, by name). */
import { sendJson } from "../http";
import { RouteTable } from "../services";

export const HEALTH_ROUTES: RouteTable = [
    ["GET", /^\/healthz$/, async (_req, res) => sendJson(res, 200, { status: "ok", pid: process.pid })],
    ["GET", /^\/readyz$/, async (_req, res, _p, s) => {
        const shards = s.shards ? await s.shards.check() : [];
        const down = shards.filter((c) => !c.ok).map((c) => `shard ${c.shard}: ${c.error}`);
        if (s.redis) {
            const pong = await Promise.race([s.redis.ping().catch((e: Error) => e.message), new Promise<string>((r) => setTimeout(() => r("no answer within 1 s"), 1000))]);
            if (pong !== "PONG") down.push(`redis: ${pong}`);
            else if (!s.reader?.ready) down.push("redis: the read connection is not up yet");
        }
        // The search tier serves search only: down, it is named here (and search answers 503), the rest serves on.

        const stale = s.directory?.problem();
        const problems = [...s.missing, ...down, ...(stale ? [`${stale} (routing by the last directory read)`] : [])];
        // Push is optional: whether each platform is on is said, and never makes the server unready by itself.
        const push = { apns: s.config.push.apns ? "on" : "off", fcm: s.config.push.fcm ? "on" : "off", queued: s.push !== undefined, notes: s.config.push.off };
        const search = s.search ? await s.search.readiness() : "not configured";
        // Error reports are optional too: on or off (and why) is said, never a reason to be unready.
        const errorReports = s.errorReports.state;
        sendJson(res, problems.length === 0 ? 200 : 503, { status: problems.length === 0 ? "ready" : "not ready", problems, shards, push, search, errorReports });
    }],
];
