/**
 * App delivery under mocks: the build step, the content-addressed artifact in a private bucket, what the
 * app hosts may read, how a new release rolls out, and the health gate at the end of `pulumi up`.
 */
import * as crypto from "crypto";
import { spawnSync } from "child_process";
import { hostToolsTarball } from "../../components/host-tools";
import * as yaml from "js-yaml";
import { beforeAll, describe, expect, test, vi } from "vitest";
import { ProgramRun, RecordedResource } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { hostName, policyOf, T, userDataOf } from "../harness/queries";
import { appSourceHash, PROJECT_ROOT } from "../../delivery/sources";
import { NODESOURCE_KEY_FINGERPRINT } from "../../cloud-init/roles/app";
import { primaryKeyFingerprint } from "../harness/openpgp";

const COMMAND = "command:local:Command";
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";
let dev: ProgramRun;

beforeAll(async () => {
    dev = await runStack("dev", { "instagram:appServers": 2 });
});

const appHosts = (run: ProgramRun) => run.ofType(T.instance).filter((i) => i.inputs.tags.Role === "app");
const cloudConfig = (i: RecordedResource) => yaml.load(userDataOf(i)) as { runcmd: unknown[]; packages: string[]; apt?: any; write_files: { path: string }[] };
const artifactsBucket = (run: ProgramRun) => run.named(T.bucket, "app-artifacts");

describe("app delivery", () => {
    test("the bundle is built by `npm run build:app` in the project, rebuilt when the app's sources change", () => {
        const build = dev.named(COMMAND, "app-bundle");
        expect(build.inputs).toMatchObject({ create: "npm run --silent build:app -- --json", dir: PROJECT_ROOT });
        expect(build.inputs.triggers[0]).toBe(appSourceHash());
    });

    test("the artifact is uploaded under its SHA-256 into the private artifacts bucket, and kept when replaced", () => {
        const object = dev.named(OBJECT, "app-artifact");
        const sha = dev.outputs.appRelease as string;
        expect(sha).toMatch(/^[0-9a-f]{64}$/);
        expect(object.inputs).toMatchObject({ bucket: artifactsBucket(dev).state.id, key: `releases/${sha}.tar.gz`, checksumAlgorithm: "SHA256" });
        expect(object.inputs.source.path, "relative to the project, so the checkout's location does not matter").toBe(`dist/app/instagram-app-${sha}.tar.gz`);
        expect(object.retainOnDelete, "old releases stay for a roll back").toBe(true);
        expect(dev.outputs.appReleaseUrl).toBe(`s3://${artifactsBucket(dev).state.bucket}/releases/${sha}.tar.gz`);
        // Uploaded only once the bucket is locked down.
        const bucketId = artifactsBucket(dev).state.id;
        const lockdown = [T.publicAccessBlock, T.ownership].map((t) => dev.ofType(t).find((r) => r.inputs.bucket === bucketId)!.urn);
        expect(object.dependencies).toEqual(expect.arrayContaining(lockdown));
        expect(dev.ofType(T.publicAccessBlock).find((r) => r.inputs.bucket === bucketId)!.inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
        expect(dev.ofType(T.encryption).find((r) => r.inputs.bucket === bucketId)!.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("AES256");
        expect(dev.ofType(T.versioning).find((r) => r.inputs.bucket === bucketId)!.inputs.versioningConfiguration.status).toBe("Enabled");
    });

    test("app and job-worker hosts may read the release objects and nothing else of the artifacts bucket, shard hosts the host tools; no other tier may", () => {
        const arn = artifactsBucket(dev).state.arn as string;
        for (const policy of dev.ofType(T.rolePolicy)) {
            const touching = policyOf(policy).Statement.filter((s) => JSON.stringify(s.Resource ?? []).includes(arn));
            if (policy.name === "app-host-tier" || policy.name === "worker-host-tier") {
                expect(touching).toEqual([{ Sid: "AppReleasesRead", Effect: "Allow", Action: ["s3:GetObject"], Resource: `${arn}/releases/*` }]);
            } else if (/^shard-\d+-host-tier$/.test(policy.name)) {
                expect(touching).toEqual([{ Sid: "HostToolsRead", Effect: "Allow", Action: ["s3:GetObject"], Resource: `${arn}/tools/*` }]);
            } else {
                expect(touching, policy.name).toEqual([]);
            }
        }
    });

    test("each app host downloads, verifies and installs exactly that release, with Node.js from NodeSource's pinned repository", () => {
        const sha = dev.outputs.appRelease as string;
        for (const host of appHosts(dev)) {
            const doc = cloudConfig(host);
            expect(doc.runcmd, hostName(host)).toContainEqual(["/usr/local/sbin/instagram-app-install", dev.outputs.appReleaseUrl, sha]);
            expect(doc.packages).toContain("nodejs=22.21.0-1nodesource1");
            // The key travels in the user data: no keyserver (HKP's port 11371 is outside the hosts' egress).
            const nodesource = doc.apt.sources["nodesource.list"];
            expect(Object.keys(nodesource).sort()).toEqual(["key", "source"]);
            expect(nodesource.source).toBe("deb [signed-by=$KEY_FILE] https://deb.nodesource.com/node_22.x nodistro main");
            expect(primaryKeyFingerprint(nodesource.key)).toBe(NODESOURCE_KEY_FINGERPRINT);
            expect(doc.write_files.map((f) => f.path)).toEqual(expect.arrayContaining([
                "/usr/local/sbin/instagram-s3-get", "/usr/local/sbin/instagram-app-install", "/usr/local/lib/instagram/aws-lib.sh",
            ]));
            // The unit comes with the release; the user data no longer writes one.
            expect(doc.write_files.map((f) => f.path)).not.toContain("/etc/systemd/system/instagram-app.service");
        }
        for (const host of dev.ofType(T.instance).filter((i) => i.inputs.tags.Role !== "app")) {
            expect(userDataOf(host), hostName(host)).not.toContain("nodesource");
        }
    });

    test("the Node.js version is a config key, validated", async () => {
        const run = await runStack("dev", { "instagram:nodeVersion": "24.11.1" });
        const doc = cloudConfig(appHosts(run)[0]);
        expect(doc.packages).toContain("nodejs=24.11.1-1nodesource1");
        expect(doc.apt.sources["nodesource.list"].source).toContain("node_24.x");
        await expect(runStack("dev", { "instagram:nodeVersion": "18.20.0" })).rejects.toThrow(/instagram:nodeVersion = "18.20.0": must be an exact Node.js version/);
    });

    test("every new app host must be healthy in the target group before the update goes on", () => {
        const tg = dev.ofType(T.targetGroup)[0];
        for (const [i, host] of appHosts(dev).entries()) {
            const wait = dev.named(COMMAND, `app-${i}-in-service`);
            const attachment = dev.named(T.targetGroupAttachment, `app-${i}`);
            expect(wait.inputs.create).toBe(`node --import tsx tools/wait-healthy.ts target --target-group ${tg.state.arn} --target ${host.state.id} --port 80 --region us-east-1 --timeout 900`);
            expect(wait.inputs.triggers).toEqual([host.state.id]);
            expect(wait.dependencies).toContain(attachment.urn);
        }
        // All at once by default: no app host waits for another.
        for (const host of appHosts(dev)) expect(host.dependencies.filter((d) => d.includes("in-service"))).toEqual([]);
    });

    test("appRolloutBatch N: each host waits until the host N places before it is healthy", async () => {
        const run = await runStack("dev", { "instagram:appServers": 5, "instagram:appRolloutBatch": 2 });
        const waits = (i: number) => run.named(COMMAND, `app-${i}-in-service`).urn;
        const deps = (i: number) => run.named(T.instance, `app-${i}`).dependencies.filter((d) => d.includes("in-service"));
        expect([0, 1].map(deps)).toEqual([[], []]);
        expect([2, 3, 4].map(deps)).toEqual([[waits(0)], [waits(1)], [waits(2)]]);
    });

    test("the health gate waits for https://<domain>/readyz after the edge and every app host", () => {
        const gate = dev.named(COMMAND, "site-ready");
        expect(gate.inputs.create).toBe("node --import tsx tools/wait-healthy.ts url https://dev.example.com/readyz --timeout 600");
        expect(gate.inputs.triggers).toEqual([dev.outputs.appRelease, ...appHosts(dev).map((h) => h.state.id)]);
        const https = dev.ofType(T.listener).find((l) => l.inputs.protocol === "HTTPS")!;
        const records = dev.ofType(T.record).filter((r) => r.inputs.aliases?.length && r.urn.includes("instagram:edge:Edge$"));
        expect(records).toHaveLength(2);
        expect(gate.dependencies).toEqual(expect.arrayContaining([https.urn, ...records.map((r) => r.urn), ...appHosts(dev).map((_, i) => dev.named(COMMAND, `app-${i}-in-service`).urn)]));
        expect(dev.outputs.siteReady).toMatch(/^https:\/\/dev\.example\.com\/readyz healthy after \d+ s: 200/);
    });

    test("aws:profile and the region reach every deploy-time wait as AWS_PROFILE and AWS_REGION, never credentials", async () => {
        // The build (`npm run build:app`) calls no AWS API, so it gets neither: a profile change must not rebuild.
        const waits = (run: ProgramRun) => run.ofType(COMMAND).filter((c) => c.name !== "app-bundle");
        const profiled = await runStack("instagram-2011", { "aws:profile": "prod-admin", "aws:region": "eu-west-1" });
        expect(waits(profiled).map((c) => c.name).sort()).toEqual([...Array.from({ length: 25 }, (_, i) => `app-${i}-in-service`), "site-ready"].sort());
        for (const wait of waits(profiled)) expect(wait.inputs.environment, wait.name).toEqual({ AWS_PROFILE: "prod-admin", AWS_REGION: "eu-west-1" });
        // The providers use the same profile.
        expect(profiled.ofType(T.provider).map((p) => p.inputs.profile)).toEqual(profiled.ofType(T.provider).map(() => "prod-admin"));
        // Without a profile: the region only; the command inherits the deployer's environment, as the provider does.
        for (const run of [dev, await runStack("instagram-2011")]) {
            expect(waits(run).length).toBeGreaterThan(1);
            for (const wait of waits(run)) expect(wait.inputs.environment, `${run.stack} ${wait.name}`).toEqual({ AWS_REGION: "us-east-1" });
        }
        for (const run of [dev, profiled]) {
            const build = run.ofType(COMMAND).find((c) => c.name === "app-bundle")!;
            expect(build.inputs.environment ?? {}).toEqual({});
            for (const c of run.ofType(COMMAND)) expect(JSON.stringify(c.inputs.environment ?? {})).not.toMatch(/AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)/);
        }
    });

    test("changing the app's sources changes the artifact, the app hosts' user data and the gate, and nothing else", async () => {
        vi.doMock("../../delivery/sources", async (importOriginal) => ({
            ...(await importOriginal<typeof import("../../delivery/sources")>()),
            appSourceHash: () => "f".repeat(64),
        }));
        let changed: ProgramRun;
        try {
            changed = await runStack("dev", { "instagram:appServers": 2 });
        } finally {
            vi.doUnmock("../../delivery/sources");
        }
        expect(changed.outputs.appRelease).not.toBe(dev.outputs.appRelease);
        const key = (r: RecordedResource) => `${r.type}::${r.name}`;
        const before = new Map(dev.resources.map((r) => [key(r), JSON.stringify(r.inputs)]));
        const differing = changed.resources.filter((r) => before.get(key(r)) !== JSON.stringify(r.inputs)).map(key).sort();
        expect(differing).toEqual([
            `${T.instance}::app-0`,
            `${T.instance}::app-1`,
            `${OBJECT}::app-artifact`,
            `${COMMAND}::app-bundle`,
            `${COMMAND}::site-ready`,
        ].sort());
        expect(changed.resources.map(key).sort()).toEqual(dev.resources.map(key).sort());
    });

    test("instagram:appRelease deploys an uploaded release without building (the roll back)", async () => {
        const sha = "ab".repeat(32);
        const run = await runStack("dev", { "instagram:appRelease": sha });
        expect(run.ofType(COMMAND).map((c) => c.name)).not.toContain("app-bundle");
        expect(run.ofType(OBJECT).map((o) => o.name)).toEqual(["host-tools"]);
        expect(run.calls.find((c) => c.token === "aws:s3/getObject:getObject")?.inputs).toMatchObject({ key: `releases/${sha}.tar.gz`, bucket: artifactsBucket(run).state.bucket });
        expect(cloudConfig(appHosts(run)[0]).runcmd).toContainEqual(["/usr/local/sbin/instagram-app-install", `s3://${artifactsBucket(run).state.bucket}/releases/${sha}.tar.gz`, sha]);
        await expect(runStack("dev", { "instagram:appRelease": "latest" })).rejects.toThrow(/instagram:appRelease = "latest": must be the SHA-256 of an uploaded app release/);
    });

    test("the host tools tarball: under its SHA-256 in the artifacts bucket, holding the move and promote scripts; every shard host installs exactly it", () => {
        const object = dev.named(OBJECT, "host-tools");
        const bytes = Buffer.from(object.inputs.contentBase64, "base64");
        const sha = crypto.createHash("sha256").update(bytes).digest("hex");
        expect(object.inputs.key).toBe(`tools/${sha}.tar.gz`);
        expect(hostToolsTarball().sha256).toBe(sha);
        const listing = spawnSync("tar", ["-tvzf", "-"], { input: bytes, encoding: "utf8" }).stdout;
        expect(listing).toMatch(/^-rwxr-xr-x 0\/0 .* instagram-shard-move$/m);
        expect(listing).toMatch(/^-rwxr-xr-x 0\/0 .* instagram-shard-promote$/m);
        const shards = dev.ofType(T.instance).filter((i) => hostName(i).startsWith("shard-"));
        expect(shards.length).toBeGreaterThan(0);
        for (const host of shards) {
            const doc = cloudConfig(host);
            expect(doc.runcmd, hostName(host)).toContainEqual(["/usr/local/sbin/instagram-tools-install", `s3://${artifactsBucket(dev).state.bucket}/tools/${sha}.tar.gz`, sha]);
            // Not in the user data itself: that is what the tarball is for.
            expect(doc.write_files.map((f: { path: string }) => f.path)).not.toContain("/usr/local/sbin/instagram-shard-move");
        }
    });
});
