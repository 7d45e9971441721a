/** The whole program, under mocks, against every rule: what `pulumi preview --policy-pack policies` would say. */
import { beforeAll, describe, expect, test } from "vitest";
import { policies } from "../../policies/rules";
import { ProgramRun } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { checkAll, Violation } from "../harness/policy";

let dev: ProgramRun;
let seed: ProgramRun;
beforeAll(async () => {
    dev = await runStack("dev");
    seed = await runStack("instagram-2011", { "instagram:adminCidrs": ["203.0.113.0/24"] });
});

const show = (vs: Violation[]) => vs.map((v) => `[${v.level}] ${v.policy}: ${v.message}`).join("\n");

describe("the stack under its own policy pack", () => {
    test("instagram-2011 (with admin SSH) has no violation at all", async () => {
        const violations = await checkAll(policies as never, seed, { "shard-raid-volume-count": { volumesPerShard: 4 } });
        expect(violations, show(violations)).toEqual([]);
    });

    test("dev has no mandatory violation once its policy config allows an unprotected load balancer", async () => {
        const violations = await checkAll(policies as never, dev, { "alb-deletion-protection": { required: false }, "shard-raid-volume-count": { volumesPerShard: 2 } });
        expect(violations.filter((v) => v.level === "mandatory"), show(violations)).toEqual([]);
        // Without that config the one rule a throwaway stack breaks on purpose does fire.
        const strict = await checkAll(policies as never, dev);
        expect(strict.map((v) => v.policy)).toEqual(["alb-deletion-protection"]);
    });

    test("every rule has a stable name, a description citing what it checks, and an enforcement level", () => {
        const names = policies.map((p) => p.name);
        expect(new Set(names).size).toBe(names.length);
        for (const p of policies) {
            expect(p.name).toMatch(/^[a-z0-9-]+$/);
            expect(p.description.length, p.name).toBeGreaterThan(30);
            expect(["mandatory", "advisory"]).toContain(p.enforcementLevel);
        }
        expect(policies.length).toBeGreaterThanOrEqual(30);
    });
});
