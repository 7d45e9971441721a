/**
 * Golden files of what the hosts run: one host of each role's kind, its rendered #cloud-config, for the dev
 * and the 2011-scale stacks. A change to any role, config generator or script shows up here as a diff a
 * review can read. After an intended change: `UPDATE_GOLDEN=1 npx vitest run test/cloud-init/golden.test.ts`.
 */
import * as fs from "fs";
import * as path from "path";
import { beforeAll, describe, expect, test } from "vitest";
import { ProgramRun } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { hostName, T, userDataOf } from "../harness/queries";

const GOLDEN = path.join(__dirname, "golden");
const PINNED_RELEASE = "0123456789abcdef".repeat(4);
const HOSTS: Record<string, readonly string[]> = {
    dev: ["app-0", "shard-0-primary", "redis-primary", "memcached-0", "gearman-0", "search-primary", "munin"],
    "instagram-2011": ["app-0", "shard-0-primary", "shard-0-standby", "redis-primary", "redis-replica", "memcached-0", "gearman-0", "worker-0", "search-primary", "search-standby", "munin"],
};

describe.each(Object.keys(HOSTS))("golden #cloud-config, stack %s", (stack) => {
    let run: ProgramRun;
    // A pinned release, so that the files change with the roles, not with every edit of the app's sources
    // (whose bundle the tests check themselves).
    beforeAll(async () => { run = await runStack(stack, { "instagram:appRelease": PINNED_RELEASE }); });

    test.each(HOSTS[stack])("%s", (host) => {
        const instance = run.ofType(T.instance).find((i) => hostName(i) === host);
        expect(instance, `no host ${host} in ${stack}`).toBeDefined();
        const file = path.join(GOLDEN, stack, `${host}.yaml`);
        const text = userDataOf(instance!);
        if (process.env.UPDATE_GOLDEN) {
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(file, text);
        }
        expect(fs.existsSync(file), `${path.relative(process.cwd(), file)} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
        // Not toMatchFileSnapshot: vitest would write a missing file itself under CI, and pass.
        expect(text).toBe(fs.readFileSync(file, "utf8"));
    });

    test("the golden folder holds exactly these hosts (a removed role leaves no stale file)", () => {
        expect(fs.readdirSync(path.join(GOLDEN, stack)).sort()).toEqual(HOSTS[stack].map((h) => `${h}.yaml`).sort());
    });
});
