/**
 * Deploy-time waits, run by the Pulumi program's local.Commands during `pulumi up` (never at preview):
 *   wait-healthy url URL [--ca FILE]                       until URL answers 200 (the site's /readyz)
 *   wait-healthy target --target-group ARN --target ID --port N --region R
 *                                                          until the instance is healthy in the target group
 * Common: --timeout SECONDS (default 600), --interval SECONDS (default 5). Progress goes to stderr; the last
 * line on stdout says what passed. Exit 0 when it passed, 1 when it timed out (the message names the last
 * thing the check saw, e.g. "503: postgres: shard 1 is down") or, in target mode, when no AWS credentials
 * resolve (at once, naming the profile), 2 on bad arguments.
 * AWS settings come from the environment the program gives it: AWS_PROFILE (aws:profile) and AWS_REGION.
 */
import * as fs from "fs";
import { pollUntil, WaitTimeout } from "./deploy/poll";
import { urlCheck } from "./deploy/url-check";
import { credentialsProblem, targetCheck, TargetRef } from "./deploy/target-check";

const USAGE = `usage: wait-healthy url URL [--ca FILE] [--timeout S] [--interval S]
       wait-healthy target --target-group ARN --target ID --port N --region R [--timeout S] [--interval S]`;

class UsageError extends Error {}

function parse(argv: readonly string[]): { mode: string; positional: string[]; flags: Map<string, string> } {
    const [mode, ...rest] = argv;
    if (mode !== "url" && mode !== "target") throw new UsageError(mode ? `unknown mode ${JSON.stringify(mode)}` : "missing mode");
    const positional: string[] = [];
    const flags = new Map<string, string>();
    const known = new Set(["--ca", "--timeout", "--interval", "--target-group", "--target", "--port", "--region", "--endpoint"]);
    for (let i = 0; i < rest.length; i++) {
        const arg = rest[i];
        if (arg.startsWith("--")) {
            if (!known.has(arg)) throw new UsageError(`unknown flag ${arg}`);
            const value = rest[++i];
            if (value === undefined) throw new UsageError(`${arg} needs a value`);
            flags.set(arg, value);
        } else {
            positional.push(arg);
        }
    }
    return { mode, positional, flags };
}

function seconds(flags: Map<string, string>, flag: string, fallback: number): number {
    const raw = flags.get(flag);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new UsageError(`${flag} ${raw}: must be a number of seconds from 0 to 3600`);
    return n;
}

function required(flags: Map<string, string>, flag: string): string {
    const value = flags.get(flag);
    if (!value) throw new UsageError(`${flag} is required`);
    return value;
}

async function main(argv: readonly string[]): Promise<number> {
    let what: string;
    let check: ReturnType<typeof urlCheck>;
    let timeoutMs: number;
    let intervalMs: number;
    let target: TargetRef | undefined;
    try {
        const { mode, positional, flags } = parse(argv);
        timeoutMs = seconds(flags, "--timeout", 600) * 1000;
        intervalMs = seconds(flags, "--interval", 5) * 1000;
        if (mode === "url") {
            if (positional.length !== 1) throw new UsageError("url mode takes exactly one URL");
            let url: URL;
            try {
                url = new URL(positional[0]);
            } catch {
                throw new UsageError(`not a URL: ${positional[0]}`);
            }
            if (url.protocol !== "https:" && url.protocol !== "http:") throw new UsageError(`not an http(s) URL: ${positional[0]}`);
            const caFile = flags.get("--ca");
            what = url.href;
            check = urlCheck(url.href, caFile ? fs.readFileSync(caFile) : undefined);
        } else {
            const port = Number(required(flags, "--port"));
            if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError("--port must be a TCP port");
            const ref = {
                targetGroupArn: required(flags, "--target-group"),
                targetId: required(flags, "--target"),
                port,
                region: required(flags, "--region"),
                endpoint: flags.get("--endpoint"),
            };
            what = `target ${ref.targetId} in ${ref.targetGroupArn.split(":").pop()}`;
            check = targetCheck(ref);
            target = ref;
        }
    } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        console.error(`wait-healthy: ${e.message}\n${USAGE}`);
        return 2;
    }
    const problem = target && (await credentialsProblem(target));
    if (problem) {
        console.error(`wait-healthy: ${what}: ${problem}`);
        return 1;
    }
    try {
        const result = await pollUntil(what, check, {
            timeoutMs,
            intervalMs,
            progress: (detail, ms) => console.error(`wait-healthy: ${what}: ${detail} (${Math.round(ms / 1000)} s)`),
        });
        console.log(`${what} healthy after ${Math.round(result.elapsedMs / 1000)} s: ${result.detail}`);
        return 0;
    } catch (e) {
        if (!(e instanceof WaitTimeout)) throw e;
        console.error(`wait-healthy: ${e.message}`);
        return 1;
    }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
