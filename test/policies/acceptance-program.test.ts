/**
 * The whole program, as `npm run validate` sees it, with every optional feature on (push, error reports, paging
 * and e-mail alerts, admin SSH): AWS would refuse none of its inputs, and every AWS resource type it declares
 * is mapped to the request AWS receives (or known to send none), so no type passes unchecked.
 */
import { describe, expect, test } from "vitest";
import { API_MAPPINGS, NO_API_REQUEST } from "../../policies/rules/acceptance/api-mappings";
import { checkPlan } from "../../policies/rules/acceptance/check";
import { refusalLine } from "../../policies/rules/acceptance/types";
import { plannedFromRun } from "../../tools/offline/acceptance";
import { previewProgram } from "../../tools/offline/preview";
import { apnsTestKey, testServiceAccount } from "../../tools/push-stand-ins";

const EVERYTHING_ON = {
    "instagram:apnsTeamId": "TEAM123456", "instagram:apnsKeyId": "KEY1234567", "instagram:apnsTopic": "com.example.photos", "instagram:apnsKey": apnsTestKey().privateKey,
    "instagram:fcmProjectId": "photos-prod", "instagram:fcmServiceAccount": testServiceAccount("photos-prod").json("https://oauth2.googleapis.com/token"),
    "instagram:sentryDsn": "https://0123456789abcdef0123456789abcdef@o12345.ingest.sentry.io/4505",
    "instagram:pagerdutyEscalationPolicy": "PABC123",
    "instagram:alertEmails": ["oncall@example.com"],
    "instagram:adminCidrs": ["203.0.113.0/24"],
};

describe.each([["dev"], ["instagram-2011"]])("the %s stack with every optional feature on", (stack) => {
    test("AWS would refuse none of its inputs, and every AWS type it declares is covered", async () => {
        const planned = plannedFromRun(await previewProgram(stack, EVERYTHING_ON));
        const ledger = await checkPlan(planned);
        expect(ledger.refusals.map(refusalLine)).toEqual([]);
        expect(ledger.total).toBeGreaterThan(1000);
        const types = [...new Set(planned.map((r) => r.type))].filter((t) => t.startsWith("aws:"));
        expect(types.length).toBeGreaterThanOrEqual(42);
        expect(types.filter((t) => !API_MAPPINGS[t] && !NO_API_REQUEST[t])).toEqual([]);
        expect(types).toContain("aws:sns/topicSubscription:TopicSubscription");
    }, 60_000);
});
