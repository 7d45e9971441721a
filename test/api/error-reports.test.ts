/**
 * Error reports end to end: the API on the real data tier with @sentry/node pointed at a loopback stand-in of
 * Sentry's ingest endpoint (tools/sentry-stand-in.ts, which checks the key, the project and the envelope as
 * Sentry does). A route that fails (a table gone from the shards) makes one event with the release, the
 * request ID and the route, and none of the request's secrets; a 400 makes none; /readyz says on or off; and
 * with Sentry unreachable the app answers as fast as before.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventually } from "../harness/daemons";
import { ApiStack, USER_PASSWORD } from "../harness/api-stack";
import { SentryStandIn, startSentryStandIn } from "../../tools/sentry-stand-in";
import { errorReports, FILTERED, routeName, scrubEvent } from "../../app/api/error-reports";

const NET = "127.0.51";
const RELEASE = "ab".repeat(32);
let sentry: SentryStandIn;
let api: ApiStack;

beforeAll(async () => {
    sentry = await startSentryStandIn(`${NET}.40`);
    api = new ApiStack(NET, { INSTAGRAM_SENTRY_DSN: sentry.dsn, INSTAGRAM_SENTRY_ENVIRONMENT: "test-stack", INSTAGRAM_RELEASE: RELEASE });
    await api.start();
}, 120_000);

afterAll(async () => {
    await api?.stop();
    await sentry?.close();
});

/** Renames the devices table in every logical shard's schema of both physical shards (and back). */
function devicesTable(from: string, to: string): void {
    for (const shard of api.shards) {
        shard.sql(`DO $$ DECLARE s text; BEGIN FOR s IN SELECT table_schema FROM information_schema.tables WHERE table_name = '${from}' LOOP EXECUTE format('ALTER TABLE %I.${from} RENAME TO ${to}', s); END LOOP; END $$`, "instagram");
    }
}

describe("error reports to Sentry", () => {
    test("/readyz says they are on, with the environment and the release", async () => {
        const r = await api.call("GET", "/readyz");
        expect(r.json.errorReports).toBe(`on (environment test-stack, release ${RELEASE})`);
    });

    test("a route that fails makes one event with the release, the request ID and the route, and none of the request's secrets", async () => {
        const user = await api.signup("reported");
        const deviceToken = "d".repeat(64);
        const cookie = "session=cookie-secret-123456";
        devicesTable("devices", "devices_gone");
        try {
            const r = await api.call("POST", "/api/v1/devices", { platform: "ios", token: deviceToken }, { Cookie: cookie, "X-Request-Id": "req-boom-1" }, user);
            expect(r.status).toBe(500);
            expect(r.json.error).toBe("internal_error");
            expect(r.headers.get("x-request-id")).toBe("req-boom-1");
        } finally {
            devicesTable("devices_gone", "devices");
        }
        const [received] = await eventually(() => (sentry.events().length > 0 ? sentry.events() : undefined), 10_000, "the event at the stand-in");
        const event = received.event as { release: string; environment: string; tags: Record<string, string>; transaction: string; exception: { values: { type: string; value: string }[] } };
        expect(event.release).toBe(RELEASE);
        expect(event.environment).toBe("test-stack");
        expect(event.tags).toMatchObject({ request_id: "req-boom-1", route: "/api/v1/devices", method: "POST" });
        expect(event.transaction).toBe("POST /api/v1/devices");
        expect(event.exception.values.at(-1)!.value).toMatch(/devices.*does not exist/);
        // Nothing the client sent that would open an account or a device: not in the event, not anywhere in any body.
        for (const body of sentry.bodies()) {
            for (const secret of [user.token, deviceToken, "cookie-secret-123456", USER_PASSWORD]) expect(body).not.toContain(secret);
        }
        // One event for one failure, and the app serves the same route again once the table is back.
        await new Promise((r) => setTimeout(r, 500));
        expect(sentry.events()).toHaveLength(1);
        expect((await api.call("GET", "/api/v1/devices", undefined, {}, user)).status).toBe(200);
        expect(sentry.refused()).toEqual([]);
    });

    test("a 400, a 404 and a 401 make no event", async () => {
        const before = sentry.events().length;
        const user = await api.login("reported");
        expect((await api.call("POST", "/api/v1/devices", { platform: "windows", token: "x" }, {}, user)).status).toBe(400);
        expect((await api.call("GET", "/api/v1/media/999999999999")).status).toBe(404);
        expect((await api.call("GET", "/api/v1/devices")).status).toBe(401);
        await new Promise((r) => setTimeout(r, 1000));
        expect(sentry.events()).toHaveLength(before);
    });

    test("what an error's message carries is scrubbed before it is sent: passwords, tokens, URL credentials", async () => {
        const before = sentry.events().length;
        const reports = errorReports({ dsn: sentry.dsn, environment: "test-stack", release: RELEASE });
        reports.report(new Error("login to postgres://app:Sup3rSecret@db:5432/x failed: password=hunter2 with Authorization: Bearer abc.def.ghi token=tok-998877"), { requestId: "req-2" });
        await reports.flush(5000);
        const got = await eventually(() => (sentry.events().length > before ? sentry.events().at(-1) : undefined), 10_000, "the second event");
        for (const secret of ["Sup3rSecret", "hunter2", "abc.def.ghi", "tok-998877"]) expect(got.raw).not.toContain(secret);
        expect(got.raw).toContain(`postgres://app:${FILTERED}@db:5432/x`);
    });

    test("with Sentry unreachable, a failing route still answers at once and the app serves on", async () => {
        // The last test: the SDK is one per process, and this points it at a port where nothing listens.
        const closed = `http://${sentry.dsn.split("//")[1].split("@")[0]}@${NET}.41:9/42`;
        const down = await api.serve({ ...api.env(), INSTAGRAM_SENTRY_DSN: closed });
        try {
            const user = await api.login("reported");
            devicesTable("devices", "devices_gone");
            const started = Date.now();
            let fails: number[] = [];
            try {
                fails = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`${down.url}/api/v1/devices`, { headers: { Authorization: `Bearer ${user.token}` } })).status));
            } finally {
                devicesTable("devices_gone", "devices");
            }
            expect(fails).toEqual(Array(20).fill(500));
            expect(Date.now() - started).toBeLessThan(5000);
            const ok = await fetch(`${down.url}/api/v1/devices`, { headers: { Authorization: `Bearer ${user.token}` } });
            expect(ok.status).toBe(200);
            expect((await fetch(`${down.url}/healthz`)).status).toBe(200);
        } finally {
            down.server.close();
        }
    });
});

describe("the scrub and the names, alone", () => {
    test("fields named like secrets are filtered at any depth; other fields are kept", () => {
        const event = {
            request: { headers: { Authorization: "Bearer x", Cookie: "a=b", "User-Agent": "curl" }, cookies: { session: "s" }, data: { password: "p", caption: "hi" } },
            extra: { nested: [{ api_key: "k", fine: "yes" }] },
            message: "retry with session=abc123 failed",
        };
        expect(scrubEvent(event)).toEqual({
            request: { headers: { Authorization: FILTERED, Cookie: FILTERED, "User-Agent": "curl" }, cookies: FILTERED, data: { password: FILTERED, caption: "hi" } },
            extra: { nested: [{ api_key: FILTERED, fine: "yes" }] },
            message: `retry with session=${FILTERED} failed`,
        });
    });

    test("route names are the patterns people read", () => {
        expect(routeName(/^\/api\/v1\/users\/([^/]+)\/media$/)).toBe("/api/v1/users/:param/media");
        expect(routeName(/^\/readyz$/)).toBe("/readyz");
    });

    test("off without a DSN, and /readyz would say why", () => {
        expect(errorReports({ off: "no DSN: credential sentry-dsn is empty" }).state).toBe("off (no DSN: credential sentry-dsn is empty)");
    });
});
