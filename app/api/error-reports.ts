/**
 * Error reports (the Sentry role): an answer of 500 from a route, a job that fails for good and an exception
 * nothing caught go to Sentry through @sentry/node, with the release (the bundle's SHA-256), the request ID
 * and the route or the job attached. Nothing else of a request is sent: no headers, no body, no query string,
 * no cookies, no breadcrumbs of what the process logged; and every event passes through scrubEvent() before
 * it leaves, which filters any field named like a secret and any secret-looking text in messages.
 * Off when the stack sets no DSN (the credential is an empty file), and /readyz says so. A Sentry that is
 * down or slow costs nothing but its reports: events are sent in the background, a full queue drops them.
 */
import * as fs from "fs";
import { RELEASE_DIR } from "../../core/error-reports";
import type { ErrorReportsConfig } from "./config";

export interface ErrorContext {
    readonly requestId?: string;
    readonly method?: string;
    /** The route's pattern (/api/v1/media/:id), never the path itself. */
    readonly route?: string;
    readonly job?: { readonly fn: string; readonly unique?: string };
}

export interface ErrorReports {
    /** For /readyz: "on (environment …, release …)" or "off (…)". */
    readonly state: string;
    report(error: unknown, context: ErrorContext): void;
    /** Waits for the reports in flight (a worker that stops), at most timeoutMs. */
    flush(timeoutMs: number): Promise<void>;
}

export const FILTERED = "[Filtered]";
/** Keys whose values are never sent, wherever they are in an event. */
const SECRET_KEY = /pass(word|wd)?|secret|token|cookie|authori[sz]ation|session|api[-_]?key|credential|private[-_]?key|dsn|signature/i;
/** Secrets inside text (an exception's message, a log line): the value after a secret's name, credentials in URLs. */
const SECRET_TEXT: readonly [RegExp, string][] = [
    [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${FILTERED}`],
    [/\b(password|passwd|pwd|token|secret|session|api[-_]?key|authorization|cookie)(["']?\s*[:=]\s*["']?)[^\s"'&,;]+/gi, `$1$2${FILTERED}`],
    [/(\/\/[^/\s:@]+):[^/\s@]+@/g, `$1:${FILTERED}@`],
];

export function scrubText(text: string): string {
    return SECRET_TEXT.reduce((t, [pattern, replacement]) => t.replace(pattern, replacement), text);
}

/** A deep copy of `value` with every secret-named field filtered and every string scrubbed. */
export function scrubEvent<T>(value: T): T {
    const walk = (v: unknown, depth: number): unknown => {
        if (typeof v === "string") return scrubText(v);
        if (v === null || typeof v !== "object" || depth > 20) return v;
        if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_KEY.test(k) && x !== null && x !== undefined ? FILTERED : walk(x, depth + 1)]));
    };
    return walk(value, 0) as T;
}

/** The SHA-256 of the release this code was installed from (APP_HOME/releases/<sha256>/…), if it was. */
export function installedRelease(file: string = __filename): string | undefined {
    let real = file;
    try {
        real = fs.realpathSync(file);
    } catch {
        // A path that no longer resolves (a release removed under a running worker) is matched as it is.
    }
    return RELEASE_DIR.exec(real)?.[1];
}

/** A route's pattern as people read it: ^\/api\/v1\/media\/([^/]+)$ → /api/v1/media/:param. */
export function routeName(pattern: RegExp): string {
    return pattern.source.replace(/^\^/, "").replace(/\$$/, "").replace(/\([^)]*\)/g, ":param").replace(/\\\//g, "/");
}

const OFF = (why: string): ErrorReports => ({ state: `off (${why})`, report: () => undefined, flush: async () => undefined });

type SentryModule = typeof import("@sentry/node");
let initialised: { key: string; sentry: SentryModule } | undefined;

export function errorReports(config: ErrorReportsConfig): ErrorReports {
    if (!config.dsn) return OFF(config.off ?? "no DSN");
    const release = config.release ?? installedRelease();
    const key = JSON.stringify([config.dsn, config.environment, release]);
    if (initialised?.key !== key) {
        // Loaded only when on: the SDK and what it brings are not started in a process that reports nothing.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const sentry: SentryModule = require("@sentry/node");
        sentry.initWithoutDefaultIntegrations({
            dsn: config.dsn,
            release,
            environment: config.environment,
            // Nothing of the request is collected (the SDK's defaults collect headers, cookies, query and bodies).
            dataCollection: { userInfo: false, cookies: false, httpHeaders: false, httpBodies: [], urlQueryParams: false },
            // Exceptions only: no tracing, no breadcrumbs (they would carry log lines and outgoing URLs).
            maxBreadcrumbs: 0,
            integrations: [
                sentry.linkedErrorsIntegration(),
                sentry.dedupeIntegration(),
                sentry.onUncaughtExceptionIntegration(),
                sentry.onUnhandledRejectionIntegration({ mode: "warn" }),
            ],
            beforeSend: (event) => scrubEvent(event),
            beforeBreadcrumb: () => null,
        });
        initialised = { key, sentry };
    }
    const sentry = initialised.sentry;
    return {
        state: `on (environment ${config.environment ?? "unset"}, release ${release ?? "unknown: not run from an installed release"})`,
        report(error, context) {
            sentry.withScope((scope) => {
                if (context.requestId) scope.setTag("request_id", context.requestId);
                if (context.method) scope.setTag("method", context.method);
                if (context.route) {
                    scope.setTag("route", context.route);
                    scope.setTransactionName(`${context.method ?? ""} ${context.route}`.trim());
                }
                if (context.job) {
                    scope.setTag("job", context.job.fn);
                    if (context.job.unique) scope.setTag("job_unique", context.job.unique);
                    scope.setTransactionName(`job ${context.job.fn}`);
                }
                sentry.captureException(error);
            });
        },
        async flush(timeoutMs) {
            await sentry.flush(timeoutMs);
        },
    };
}
