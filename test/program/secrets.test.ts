import { beforeAll, describe, expect, test } from "vitest";
import { ProgramRun } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { policyOf, T } from "../harness/queries";
import { SECRET_NAMES } from "../../components/secrets";

let run: ProgramRun;
beforeAll(async () => {
    run = await runStack("instagram-2011");
});

function tierPolicy(tier: string): { Statement: any[] } | undefined {
    const role = run.named(T.role, `${tier}-host`);
    const policy = run.ofType(T.rolePolicy).find((p) => p.inputs.role === role.state.id);
    return policy ? policyOf(policy) : undefined;
}

describe("secrets", () => {
    test("each password is a SecureString under the stack's path, holding the generated value", () => {
        const params = run.ofType(T.ssmParameter).filter((p) => p.name !== "shard-directory");
        expect(params.map((p) => p.inputs.name).sort()).toEqual(SECRET_NAMES.map((s) => `/instagram/instagram-2011/${s}`).sort());
        for (const p of params) {
            expect(p.inputs.type).toBe("SecureString");
            const password = run.named(T.randomPassword, p.name).state.result;
            expect(p.inputs.value).toBe(password);
        }
    });

    test("a tier reads exactly the secrets it needs, named by ARN", () => {
        const arn = (s: string) => run.ofType(T.ssmParameter).find((p) => p.inputs.name.endsWith(`/${s}`))!.state.arn;
        const readable = (tier: string) => tierPolicy(tier)?.Statement.filter((s) => s.Sid === "ReadOwnSecrets").flatMap((s) => s.Resource).sort() ?? [];
        expect(readable("app")).toEqual([arn("postgres-app"), arn("redis-auth"), arn("search-app")].sort());
        expect(readable("shard-0")).toEqual(["postgres-app", "postgres-replication", "pgbouncer-auth", "pgbackrest-cipher"].map(arn).sort());
        expect(readable("redis")).toEqual([arn("redis-auth")]);
        expect(readable("monitoring")).toEqual([arn("munin-web")]);
        expect(readable("worker")).toEqual([arn("postgres-app"), arn("redis-auth"), arn("search-app")].sort());
        // The search tier's own passwords: none of the shards', and no shard host reads these.
        expect(readable("search")).toEqual(["search-app", "search-replication", "search-pgbouncer-auth"].map(arn).sort());
        // Memcached hosts read nothing; gearman hosts only publish their metrics.
        expect(tierPolicy("memcached")!.Statement.map((s) => s.Sid)).toEqual(["NoParameters"]);
        expect(tierPolicy("gearman")!.Statement.map((s) => s.Sid)).toEqual(["PublishHostMetrics", "NoParameters"]);
    });

    test("the SSM agent's managed policy reads every parameter, so each tier's own policy denies all but its own", () => {
        const fence = (tier: string) => tierPolicy(tier)!.Statement.find((s) => s.Sid === "OnlyOwnParameters" || s.Sid === "NoParameters")!;
        const reads = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory"];
        const directory = `arn:aws:ssm:us-east-1:123456789012:parameter/instagram/instagram-2011/directory/shards`;
        for (const tier of ["app", "shard-0", "redis", "worker", "search", "monitoring"]) {
            const own = tierPolicy(tier)!.Statement.filter((s) => s.Effect === "Allow" && [s.Action].flat().includes("ssm:GetParameter")).flatMap((s) => [s.Resource].flat());
            expect(fence(tier), tier).toEqual({ Sid: "OnlyOwnParameters", Effect: "Deny", Action: reads, NotResource: own });
        }
        expect(fence("app").NotResource).toContain(directory);
        expect(fence("worker").NotResource).toContain(directory);
        for (const tier of ["memcached", "gearman"]) expect(fence(tier), tier).toEqual({ Sid: "NoParameters", Effect: "Deny", Action: reads, Resource: "*" });
    });

    test("no tier policy grants a wildcard action or resource; app hosts may only get, put and delete photos", () => {
        for (const tier of ["app", "shard-0", "redis", "worker", "search", "monitoring"]) {
            for (const s of tierPolicy(tier)!.Statement) {
                expect([s.Action].flat().some((a: string) => a.includes("*")), `${tier} ${s.Sid}`).toBe(false);
                // PutMetricData takes no resource but "*"; its condition holds it to the stack's namespace.
                if (s.Sid === "PublishHostMetrics") {
                    expect(s.Condition, tier).toEqual({ StringEquals: { "cloudwatch:namespace": "Instagram/instagram-2011" } });
                    continue;
                }
                expect([s.Resource].flat().some((r: string) => r === "*"), `${tier} ${s.Sid}`).toBe(false);
            }
        }
        const photos = tierPolicy("app")!.Statement.find((s) => s.Sid === "PhotosReadWrite");
        expect(photos).toEqual({ Sid: "PhotosReadWrite", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: `${run.named(T.bucket, "media").state.arn}/*` });
    });

    test("every host role is assumable only by EC2 and managed through SSM", () => {
        const profiles = new Set(run.ofType(T.instanceProfile).map((p) => p.name));
        const hostRoles = run.ofType(T.role).filter((r) => profiles.has(r.name));
        // Seven tiers' and one per physical shard (instagram-2011 has 12).
        expect(hostRoles).toHaveLength(7 + 12);
        for (const role of hostRoles) {
            expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }]);
            const attached = run.ofType(T.rolePolicyAttachment).filter((a) => a.inputs.role === role.state.name).map((a) => a.inputs.policyArn);
            expect(attached).toEqual(["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]);
        }
        // The only other role is Data Lifecycle Manager's (test/program/snapshots.test.ts).
        expect(run.ofType(T.role).filter((r) => !profiles.has(r.name)).map((r) => JSON.parse(r.inputs.assumeRolePolicy).Statement[0].Principal.Service)).toEqual(["dlm.amazonaws.com"]);
    });
});
