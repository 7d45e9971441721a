/**
 * Error reports in the program: with instagram:sentryDsn set, the DSN becomes an SSM SecureString (a Pulumi
 * secret in the state) that only the app and worker tiers may read, those hosts fetch it at boot and their
 * environment names the stack as Sentry's environment; without it there is no parameter and no setting; a
 * DSN that is not one is refused without being quoted.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { ProgramRun } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { readableSecrets, T, userDataOf } from "../harness/queries";
import { planJson, SECRET_TEXT } from "../../tools/plan";

const DSN = "https://0123456789abcdef0123456789abcdef@o12345.ingest.sentry.io/4505";
let run: ProgramRun;
let plain: ProgramRun;

beforeAll(async () => {
    run = await runStack("dev", { "instagram:sentryDsn": DSN });
    plain = await runStack("dev");
}, 120_000);

const readable = readableSecrets;

describe("the Sentry DSN", () => {
    test("is a SecureString whose value is a Pulumi secret, readable by the app tier only (dev runs the job workers there)", () => {
        const [param] = run.ofType(T.ssmParameter).filter((p) => p.inputs.name === "/instagram/dev/sentry-dsn");
        expect(param.inputs.type).toBe("SecureString");
        expect(param.secretInputs).toContain("value");
        expect(param.inputs.value).toBe(DSN);
        expect(readable(run, "app")).toContain(param.state.arn);
        for (const tier of ["shard-0", "redis", "monitoring", "search"]) expect(readable(run, tier)).not.toContain(param.state.arn);
    });

    test("app hosts fetch it at boot and file reports under the stack's name; no DSN is in any user data or in the plan", () => {
        const ud = userDataOf(run.named(T.instance, "app-0"));
        expect(ud).toContain("/instagram/dev/sentry-dsn /etc/instagram/secrets/sentry-dsn root:root 0600");
        expect(ud).toContain("INSTAGRAM_SENTRY_ENVIRONMENT='dev'");
        for (const host of run.ofType(T.instance)) expect(userDataOf(host)).not.toContain("0123456789abcdef0123456789abcdef");
        const json = planJson(run);
        expect(JSON.stringify(json)).not.toContain("0123456789abcdef0123456789abcdef");
        expect((json.resources as { name: string; inputs: Record<string, unknown> }[]).find((r) => r.name === "secrets-sentry-dsn")!.inputs.value).toBe(SECRET_TEXT);
    });

    test("without it: no parameter, nothing fetched, no environment setting", () => {
        expect(plain.ofType(T.ssmParameter).filter((p) => /sentry/.test(p.inputs.name))).toEqual([]);
        const ud = userDataOf(plain.named(T.instance, "app-0"));
        expect(ud).not.toContain("sentry-dsn");
        expect(ud).not.toContain("INSTAGRAM_SENTRY");
    });

    test("a DSN that is not one is refused, naming the key and not quoting the value", async () => {
        for (const bad of ["http://0123456789abcdef0123456789abcdef@sentry.example.com/1", "https://short@sentry.example.com/1", "https://0123456789abcdef0123456789abcdef:secret@sentry.example.com/1", "https://0123456789abcdef0123456789abcdef@sentry.example.com/project"]) {
            const err = await runStack("dev", { "instagram:sentryDsn": bad }).catch((e: Error) => e);
            expect(String(err)).toMatch(/instagram:sentryDsn = \[secret\]: must be a Sentry DSN/);
            expect(String(err)).not.toContain(bad);
        }
    });
});
