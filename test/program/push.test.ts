/**
 * Push in the program: with the APNs and FCM settings and credentials in the stack config, the credentials
 * become SSM SecureStrings (Pulumi secrets in the state), only the app and worker tiers may read them, the
 * hosts fetch them at boot and their environment names the settings but never holds a key; half a
 * platform's settings is refused naming what is missing; without any, push is off and no parameter exists.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { ProgramRun } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { readableSecrets, T, userDataOf } from "../harness/queries";
import { apnsTestKey, testServiceAccount } from "../../tools/push-stand-ins";
import { planJson, SECRET_TEXT } from "../../tools/plan";

const key = apnsTestKey().privateKey;
const account = testServiceAccount("photos-prod").json("https://oauth2.googleapis.com/token");
const push = {
    "instagram:apnsTeamId": "TEAM123456", "instagram:apnsKeyId": "KEY1234567", "instagram:apnsTopic": "com.example.photos", "instagram:apnsKey": key,
    "instagram:fcmProjectId": "photos-prod", "instagram:fcmServiceAccount": account,
};
let run: ProgramRun;
let plain: ProgramRun;

beforeAll(async () => {
    run = await runStack("instagram-2011", push);
    plain = await runStack("dev");
}, 120_000);

const readable = readableSecrets;

describe("push credentials", () => {
    test("are SecureStrings whose value is a Pulumi secret, readable by the app and worker tiers only", () => {
        const params = run.ofType(T.ssmParameter).filter((p) => /\/(apns-key|fcm-service-account)$/.test(p.inputs.name));
        expect(params.map((p) => p.inputs.name).sort()).toEqual(["/instagram/instagram-2011/apns-key", "/instagram/instagram-2011/fcm-service-account"]);
        for (const p of params) {
            expect(p.inputs.type).toBe("SecureString");
            expect(p.secretInputs).toContain("value");
        }
        expect(params.find((p) => p.inputs.name.endsWith("apns-key"))!.inputs.value).toBe(key);
        const arns = params.map((p) => p.state.arn);
        for (const tier of ["app", "worker"]) expect(readable(run, tier)).toEqual(expect.arrayContaining(arns));
        for (const tier of ["shard-0", "redis", "monitoring"]) expect(readable(run, tier).filter((a) => arns.includes(a))).toEqual([]);
    });

    test("hosts fetch them at boot and are told the settings; no key is in any user data", () => {
        for (const host of [run.named(T.instance, "app-0"), run.named(T.instance, "worker-0")]) {
            const ud = userDataOf(host);
            expect(ud).toContain("/instagram/instagram-2011/apns-key /etc/instagram/secrets/apns-key root:root 0600");
            expect(ud).toContain("/instagram/instagram-2011/fcm-service-account /etc/instagram/secrets/fcm-service-account root:root 0600");
            expect(ud).toContain("INSTAGRAM_APNS_TEAM_ID='TEAM123456'");
            expect(ud).toContain("INSTAGRAM_APNS_TOPIC='com.example.photos'");
            expect(ud).toContain("INSTAGRAM_APNS_ENVIRONMENT='production'");
            expect(ud).toContain("INSTAGRAM_FCM_PROJECT_ID='photos-prod'");
        }
        const keyBody = key.split("\n")[1];
        for (const host of run.ofType(T.instance)) expect(userDataOf(host)).not.toContain(keyBody);
    });

    test("the offline plan's JSON shows them as [secret], as pulumi preview does, and holds no key text", () => {
        const json = planJson(run);
        const text = JSON.stringify(json);
        expect(text).not.toContain(key.split("\n")[1]);
        expect(text).not.toContain(JSON.parse(account).private_key.split("\n")[1]);
        const param = (json.resources as { name: string; inputs: Record<string, unknown> }[]).find((r) => r.name === "secrets-apns-key")!;
        expect(param.inputs.value).toBe(SECRET_TEXT);
    });

    test("without them push is off: no parameter, no settings, the installer's empty credential files so the units start", () => {
        expect(plain.ofType(T.ssmParameter).filter((p) => /apns|fcm/.test(p.inputs.name))).toEqual([]);
        const ud = userDataOf(plain.named(T.instance, "app-0"));
        expect(ud).not.toContain("INSTAGRAM_APNS");
        // Nothing to fetch; the release's installer leaves the empty credential files (test/delivery/app-install.test.ts).
        expect(ud).not.toMatch(/\/instagram\/[^/\s]+\/(apns-key|fcm-service-account)/);
        expect(ud).toContain("instagram-app-install");
    });
});

describe("push settings are validated", () => {
    test("half of APNs' settings is refused, naming what is missing", async () => {
        await expect(runStack("dev", { "instagram:apnsTeamId": "TEAM123456", "instagram:apnsTopic": "com.example.photos" }))
            .rejects.toThrow(/iOS push needs .*instagram:apnsKeyId, instagram:apnsKey are not set/);
    });

    test("a key that is not an EC P-256 .p8 is refused without quoting it", async () => {
        const rsa = testServiceAccount("x-project").json("https://oauth2.googleapis.com/token");
        const pem = JSON.parse(rsa).private_key as string;
        const err = await runStack("dev", { ...push, "instagram:apnsKey": pem }).catch((e: Error) => e);
        expect(String(err)).toMatch(/instagram:apnsKey = \[secret\]: must be an EC P-256 private key/);
        expect(String(err)).not.toContain(pem.split("\n")[1]);
    });

    test("a service account of another project, or not a service account, is refused", async () => {
        await expect(runStack("dev", { ...push, "instagram:fcmProjectId": "other-project" })).rejects.toThrow(/instagram:fcmProjectId = "other-project": the service account .* belongs to project "photos-prod"/);
        await expect(runStack("dev", { ...push, "instagram:fcmServiceAccount": "{\"type\": \"user\"}" })).rejects.toThrow(/instagram:fcmServiceAccount = \[secret\]: must be a service account key file/);
        await expect(runStack("dev", { ...push, "instagram:apnsTeamId": "team" })).rejects.toThrow(/instagram:apnsTeamId = "team": must be the team ID: 10 upper-case/);
    });
});
