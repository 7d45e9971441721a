/**
 * Daily snapshot sets of the shard data volumes under mocks: a Data Lifecycle Manager policy over exactly the
 * shard hosts the stack tags (each shard's standby, or its primary when it has none), the boot volume left
 * out, the RAID's volumes in one multi-volume set, /data frozen around it by an SSM document, retention and
 * time from the config.
 */
import { spawnSync } from "child_process";
import { describe, expect, test } from "vitest";
import { runStack } from "../harness/run";
import { hostName, T } from "../harness/queries";
import { ProgramRun } from "../../tools/offline/runtime";
import { FREEZE_SAFETY_SECONDS, snapshotFreezeScript } from "../../cloud-init/configs/snapshot-freeze";

const DLM = "aws:dlm/lifecyclePolicy:LifecyclePolicy";
const DOCUMENT = "aws:ssm/document:Document";

function tagged(run: ProgramRun, stack: string): string[] {
    return run.ofType(T.instance).filter((i) => i.inputs.tags?.SnapshotSet === `${stack}-shard-data`).map(hostName).sort();
}

describe("shard snapshots (program)", () => {
    test("instagram-2011: one policy over every shard's standby (never a primary), boot volume excluded, freeze scripts, retention", async () => {
        const run = await runStack("instagram-2011");
        const [policy] = run.ofType(DLM);
        const details = policy.inputs.policyDetails;
        expect(details.resourceTypes).toEqual(["INSTANCE"]);
        expect(details.targetTags).toEqual({ SnapshotSet: "instagram-2011-shard-data" });
        expect(details.parameters).toEqual({ excludeBootVolume: true, noReboot: true });
        expect(tagged(run, "instagram-2011")).toEqual(Array.from({ length: 12 }, (_, i) => `shard-${i}-standby`).sort());
        const [schedule] = details.schedules;
        expect(schedule.createRule).toMatchObject({ interval: 24, intervalUnit: "HOURS", times: "03:00" });
        expect(schedule.retainRule).toEqual({ count: 7 });
        expect(schedule.copyTags).toBe(true);
        const [document] = run.ofType(DOCUMENT);
        expect(document.inputs.name).toBe("instagram-instagram-2011-shard-freeze");
        expect(schedule.createRule.scripts).toMatchObject({ executionHandler: "instagram-instagram-2011-shard-freeze", executionHandlerService: "AWS_SYSTEMS_MANAGER", stages: ["PRE", "POST"] });
        expect(document.inputs.documentType).toBe("Command");
        expect(document.inputs.tags).toEqual({ DLMScriptsAccess: "true" });
        const content = JSON.parse(document.inputs.content);
        expect(content.parameters.command.allowedValues).toEqual(["pre-script", "post-script", "dry-run"]);
        const script = content.mainSteps[0].inputs.runCommand.join("\n");
        expect(script).toContain('fsfreeze -f "$mount"');
        expect(script).toContain(`--on-active=${FREEZE_SAFETY_SECONDS} /usr/sbin/fsfreeze -u "$mount"`);
        const role = run.ofType(T.role).find((r) => r.inputs.arn === policy.inputs.executionRoleArn || r.state.arn === policy.inputs.executionRoleArn)!;
        expect(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal).toEqual({ Service: "dlm.amazonaws.com" });
        expect(run.ofType(T.rolePolicyAttachment).filter((a) => a.inputs.role === role.state.name).map((a) => a.inputs.policyArn).sort()).toEqual([
            "arn:aws:iam::aws:policy/AWSDataLifecycleManagerSSMFullAccess",
            "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole",
        ]);
    });

    test("dev (no standbys): the primaries carry the tag; time and retention come from the config", async () => {
        const run = await runStack("dev", { "instagram:physicalShards": 2, "instagram:shardSnapshotTime": "22:30", "instagram:shardSnapshotRetention": 30 });
        expect(tagged(run, "dev")).toEqual(["shard-0-primary", "shard-1-primary"]);
        const [schedule] = run.ofType(DLM)[0].inputs.policyDetails.schedules;
        expect(schedule.createRule.times).toBe("22:30");
        expect(schedule.retainRule).toEqual({ count: 30 });
    });

    test("a bad time or retention is refused, naming the key", async () => {
        await expect(runStack("dev", { "instagram:shardSnapshotTime": "3am" })).rejects.toThrow(/instagram:shardSnapshotTime = "?3am"?.*HH:MM/);
        await expect(runStack("dev", { "instagram:shardSnapshotRetention": 0 })).rejects.toThrow(/instagram:shardSnapshotRetention/);
    });

    test("the freeze script passes shellcheck as POSIX sh", () => {
        const r = spawnSync("shellcheck", ["-s", "sh", "-"], { input: `#!/bin/sh\n${snapshotFreezeScript()}`, encoding: "utf8" });
        expect(r.status, r.stdout).toBe(0);
    });
});
