import { describe, expect, test } from "vitest";
import { defaultWorkers, parseBind, parseServeArgs, UsageError } from "../../app/server/options";

describe("serve options", () => {
    test("gunicorn's defaults: WEB_CONCURRENCY, else 2 x cores + 1; 30 s timeouts; no recycling", () => {
        expect(defaultWorkers({ WEB_CONCURRENCY: "5" })).toBe(5);
        expect(defaultWorkers({ WEB_CONCURRENCY: "zero" })).toBeGreaterThanOrEqual(3);
        const o = parseServeArgs([], { WEB_CONCURRENCY: "3" });
        expect(o).toMatchObject({ workers: 3, timeout: 30, gracefulTimeout: 30, maxRequests: 0, errorLog: "-", binds: [{ kind: "tcp", host: "127.0.0.1", port: 8000 }] });
    });

    test("several binds, unix and TCP (IPv6 in brackets), both flag spellings", () => {
        const o = parseServeArgs(["-b", "unix:/run/app.sock", "--bind=[::1]:9000", "--bind", "0.0.0.0:80", "-w", "4", "--max-requests=1000", "--max-requests-jitter", "50"], {});
        expect(o.binds).toEqual([{ kind: "unix", path: "/run/app.sock" }, { kind: "tcp", host: "::1", port: 9000 }, { kind: "tcp", host: "0.0.0.0", port: 80 }]);
        expect(o).toMatchObject({ workers: 4, maxRequests: 1000, maxRequestsJitter: 50 });
    });

    test.each([
        [["--workers", "0"], /--workers 0: expected a whole number from 1 to 512/],
        [["--timeout", "-1"], /--timeout -1: expected a whole number/],
        [["--timeout"], /--timeout needs a value/],
        [["--bind", "localhost"], /--bind localhost: expected HOST:PORT/],
        [["--bind", "h:70000"], /--bind h:70000/],
        [["--bind", "unix:sock"], /a unix socket needs an absolute path/],
        [["--nope"], /unknown option "--nope"/],
    ])("%j is refused: %s", (args, message) => {
        expect(() => parseServeArgs(args, {})).toThrow(UsageError);
        expect(() => parseServeArgs(args, {})).toThrow(message);
    });

    test("parseBind keeps what it was given", () => {
        expect(parseBind("127.0.0.1:8080")).toEqual({ kind: "tcp", host: "127.0.0.1", port: 8080 });
    });
});
