/**
 * The shard directory under mocks: the first deploy writes it; with one deployed, a config change keeps every
 * assignment (more physical shards arrive empty) or is refused, naming the key, before any resource exists.
 */
import * as yaml from "js-yaml";
import { describe, expect, test } from "vitest";
import { initialDirectory, parseShardDirectory, shardDirectoryParameterName, ShardDirectory, formatShardDirectory, withEndpoint, withPlacement } from "../../core/shard-directory";
import { APP_ENV, APP_SHARD_DIRECTORY_FILE, SHARD_DIRECTORY_SYNC_SERVICE } from "../../core/app-contract";
import { ProgramRun } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { hostName, policyOf, T, userDataOf } from "../harness/queries";

const NAME = shardDirectoryParameterName("dev");
const deployedWith = (d: ShardDirectory) => ({ [NAME]: formatShardDirectory(d) });

function writtenDirectory(run: ProgramRun): ShardDirectory {
    const parameter = run.ofType(T.ssmParameter).find((p) => p.inputs.name === NAME);
    expect(parameter, "the shard directory parameter").toBeDefined();
    expect(parameter!.inputs.type).toBe("String");
    return parseShardDirectory(parameter!.inputs.value, NAME);
}

function file(run: ProgramRun, host: string, path: string): string | undefined {
    const instance = run.ofType(T.instance).find((i) => hostName(i) === host)!;
    const doc = yaml.load(userDataOf(instance)) as { write_files: { path: string; content: string }[] };
    return doc.write_files.find((f) => f.path.endsWith(path))?.content;
}

const appEnv = (run: ProgramRun) => Object.fromEntries(file(run, "app-0", "/etc/instagram/app.env")!.trim().split("\n").map((l) => /^(\w+)='(.*)'$/.exec(l)!.slice(1)));

describe("shard directory (program)", () => {
    test("a first deploy writes the directory from the config, with each primary's pgbouncer", async () => {
        const run = await runStack("dev", { "instagram:physicalShards": 2 });
        const written = writtenDirectory(run);
        expect(written.ranges).toEqual(initialDirectory(64, 2).ranges);
        const primaries = ["shard-0-primary", "shard-1-primary"].map((n) => run.ofType(T.instance).find((i) => hostName(i) === n)!.state.privateIp);
        expect(written.physicalShards).toEqual(primaries.map((ip, physicalShard) => ({ physicalShard, endpoint: `${ip}:6432` })));
        expect(run.outputs.shardDirectory).toBe(NAME);
    });

    test("raising physicalShards keeps every assignment: the new shard's hosts come up empty, the app routes as before", async () => {
        const deployed = initialDirectory(64, 1);
        const run = await runStack("dev", { "instagram:physicalShards": 2 }, deployedWith(deployed));
        expect(writtenDirectory(run).ranges).toEqual(deployed.ranges);
        expect(writtenDirectory(run).physicalShards.map((p) => p.physicalShard)).toEqual([0, 1]);
        expect(run.ofType(T.instance).map(hostName)).toContain("shard-1-primary");
        // The new primary creates the schema functions but no logical shard; the old one keeps all 64.
        expect(file(run, "shard-1-primary", "database.sql")).not.toMatch(/generate_series/);
        expect(file(run, "shard-0-primary", "database.sql")).toMatch(/generate_series\(0, 63\)/);
        expect(file(run, "shard-1-primary", "shard.env")).toMatch(/^LOGICAL_SHARDS=''$/m);
        const env = appEnv(run);
        expect(JSON.parse(env[APP_ENV.shardMap])).toEqual([{ physicalShard: 0, firstLogicalShard: 0, lastLogicalShard: 63 }]);
        expect(env[APP_ENV.pgbouncerHosts].split(",")).toHaveLength(2);
        expect(run.outputs.shardMap).toEqual([{ physicalShard: 0, firstLogicalShard: 0, lastLogicalShard: 63 }]);
    });

    test("the same config over a deployed directory changes nothing in it", async () => {
        const deployed = initialDirectory(64, 1);
        const run = await runStack("dev", {}, deployedWith(deployed));
        expect(writtenDirectory(run).ranges).toEqual(deployed.ranges);
    });

    test("lowering physicalShards below a shard that holds data is refused before any resource, naming the key", async () => {
        await expect(runStack("dev", { "instagram:physicalShards": 1 }, deployedWith(initialDirectory(64, 2)))).rejects.toThrow(
            /instagram:physicalShards = 1: physical shard 1 still holds logical shards 32-63; removing it would drop their data/,
        );
    });

    test("changing logicalShards once deployed is refused, naming the deployed count", async () => {
        await expect(runStack("dev", { "instagram:logicalShards": 128 }, deployedWith(initialDirectory(64, 1)))).rejects.toThrow(
            /instagram:logicalShards = 128: the deployed shard directory has 64 logical shards/,
        );
    });

    test("a deploy is refused while the deployed directory shows a move under way (it would race the move's flip)", async () => {
        const moving = withPlacement(initialDirectory(64, 2), 5, { physicalShard: 0, state: "moving", movingTo: 1 });
        await expect(runStack("dev", { "instagram:physicalShards": 2 }, deployedWith(moving))).rejects.toThrow(
            /shows a shards move under way: logical shards 5-5 \(0 → 1\)\. Finish it \(run the same `npm run ops -- shards move FIRST-LAST --to P` again\) or roll it back/,
        );
    });

    test("a shard whose standby was promoted keeps its standby's endpoint; removing standbys is refused then", async () => {
        const promoted = withEndpoint(initialDirectory(64, 2), 1, "10.9.9.9:6432", true);
        const run = await runStack("dev", { "instagram:physicalShards": 2, "instagram:shardStandby": true }, deployedWith(promoted));
        const standbyIp = run.ofType(T.instance).find((i) => hostName(i) === "shard-1-standby")!.state.privateIp;
        const primaryIp = run.ofType(T.instance).find((i) => hostName(i) === "shard-0-primary")!.state.privateIp;
        expect(writtenDirectory(run).physicalShards).toEqual([
            { physicalShard: 0, endpoint: `${primaryIp}:6432` },
            { physicalShard: 1, endpoint: `${standbyIp}:6432`, promotedStandby: true },
        ]);
        await expect(runStack("dev", { "instagram:physicalShards": 2, "instagram:shardStandby": false }, deployedWith(promoted))).rejects.toThrow(
            /instagram:shardStandby = false: physical shard 1 runs on the standby host promoted by `promote`/,
        );
    });

    test("a deployed directory that is not valid stops the program with what is wrong, instead of guessing", async () => {
        await expect(runStack("dev", {}, { [NAME]: '{"format":1,"logicalShards":64,"ranges":[],"physicalShards":[{"physicalShard":0}]}' })).rejects.toThrow(
            /the deployed shard directory \(SSM parameter \/instagram\/dev\/directory\/shards\): ranges must be a non-empty list/,
        );
    });

    test("app hosts read the directory live: a service keeps a copy from SSM, the app's environment names the copy, ssm:GetParameter on exactly its ARN, for app and job-worker hosts only", async () => {
        const run = await runStack("dev");
        expect(appEnv(run)[APP_ENV.shardDirectory]).toBe(APP_SHARD_DIRECTORY_FILE);
        expect(file(run, "app-0", `${SHARD_DIRECTORY_SYNC_SERVICE}.service`)).toMatch(new RegExp(`^ExecStart=/usr/local/sbin/instagram-shard-directory-sync ${NAME} ${APP_SHARD_DIRECTORY_FILE} 5$`, "m"));
        const readers = run.ofType(T.rolePolicy).filter((p) => policyOf(p).Statement.some((st: { Sid?: string }) => st.Sid === "ReadShardDirectory"));
        expect(readers.map((p) => p.name)).toEqual(["app-host-tier", "worker-host-tier"]);
        for (const reader of readers) {
            const statement = policyOf(reader).Statement.find((st: { Sid?: string }) => st.Sid === "ReadShardDirectory");
            expect(statement).toEqual({ Sid: "ReadShardDirectory", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: `arn:aws:ssm:us-east-1:123456789012:parameter${NAME}` });
        }
    });
});
