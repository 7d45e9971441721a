import * as yaml from "js-yaml";
import { beforeAll, describe, expect, test } from "vitest";
import { ProgramRun } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { allStrings, byId, hostName, T, userDataOf } from "../harness/queries";
import { CANONICAL_OWNER_ID } from "../../components/ami";

let dev: ProgramRun;
let seed: ProgramRun;
beforeAll(async () => {
    dev = await runStack("dev");
    seed = await runStack("instagram-2011");
});

const profiles = () => [["dev", dev], ["instagram-2011", seed]] as const;

describe("every host", () => {
    test("requires IMDSv2 with a hop limit of 1, has an encrypted gp3 root, detailed monitoring, no public IP and an instance profile", () => {
        for (const [, run] of profiles()) {
            const profiles = new Set(run.ofType(T.instanceProfile).map((p) => p.state.name));
            for (const i of run.ofType(T.instance)) {
                const name = hostName(i);
                expect(i.inputs.metadataOptions, name).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1, httpEndpoint: "enabled" });
                expect(i.inputs.rootBlockDevice, name).toMatchObject({ encrypted: true, volumeType: "gp3", deleteOnTermination: true });
                expect(i.inputs.monitoring, name).toBe(true);
                expect(i.inputs.associatePublicIpAddress, name).toBe(false);
                expect(profiles.has(i.inputs.iamInstanceProfile), name).toBe(true);
                expect(i.inputs.userDataReplaceOnChange, name).toBe(true);
                expect(i.inputs.tags, name).toMatchObject({ Name: expect.any(String), Role: expect.any(String) });
            }
        }
    });

    test("lives in a private subnet", () => {
        for (const [, run] of profiles()) {
            const subnets = byId(run, T.subnet);
            for (const i of run.ofType(T.instance)) {
                expect(subnets.get(i.inputs.subnetId)?.inputs.tags.Tier, hostName(i)).toBe("private");
            }
        }
    });

    test("boots Canonical's Ubuntu for its release and architecture", () => {
        const amiCalls = seed.calls.filter((c) => c.token === "aws:ec2/getAmi:getAmi");
        expect(amiCalls.length).toBeGreaterThan(0);
        for (const call of amiCalls) {
            expect(call.inputs.owners).toEqual([CANONICAL_OWNER_ID]);
            expect(call.inputs.mostRecent).toBe(true);
            expect(call.inputs.filters).toContainEqual({ name: "name", values: ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"] });
        }
        for (const i of seed.ofType(T.instance)) expect(i.inputs.ami).toBe("ami-0mockubuntuamd6400");
    });

    test("boots from #cloud-config under EC2's 16 KiB limit, with its role's finished marker", () => {
        for (const [, run] of profiles()) {
            for (const i of run.ofType(T.instance)) {
                const text = userDataOf(i);
                expect(text.startsWith("#cloud-config\n"), hostName(i)).toBe(true);
                expect(Buffer.byteLength(i.inputs.userData ?? "", "utf8")).toBeLessThanOrEqual(16 * 1024);
                const doc = yaml.load(text) as Record<string, any>;
                expect(doc.hostname).toBe(hostName(i));
                expect(doc.runcmd.at(-1).join(" ")).toContain("/var/lib/instagram/role-done");
            }
        }
    });

    test("never receives a password in its user data, and no output carries one", () => {
        for (const [, run] of profiles()) {
            const passwords = run.ofType(T.randomPassword).map((p) => p.state.result as string);
            expect(passwords).toHaveLength(9);
            for (const password of passwords) expect(password).toMatch(/^[A-Za-z0-9]{40}$/);
            for (const i of run.ofType(T.instance)) {
                const text = userDataOf(i);
                for (const password of passwords) expect(text.includes(password), `${hostName(i)} user data holds a password`).toBe(false);
            }
            const outputs = allStrings(run.outputs).join("\n");
            for (const password of passwords) expect(outputs.includes(password)).toBe(false);
        }
    });
});

describe("shard hosts", () => {
    test("each data volume is encrypted gp3 in the same AZ as the instance it is attached to", () => {
        for (const [, run] of profiles()) {
            const instances = byId(run, T.instance);
            const volumes = byId(run, T.volume);
            const attachments = run.ofType(T.attachment);
            expect(attachments.length).toBe(volumes.size);
            for (const a of attachments) {
                const volume = volumes.get(a.inputs.volumeId)!;
                const instance = instances.get(a.inputs.instanceId)!;
                expect(volume.inputs).toMatchObject({ encrypted: true, type: "gp3" });
                expect(volume.inputs.availabilityZone, `${volume.name} vs ${hostName(instance)}`).toBe(instance.state.availabilityZone);
                expect(a.inputs.stopInstanceBeforeDetaching).toBe(true);
                expect(a.inputs.deviceName).toMatch(/^\/dev\/sd[f-u]$/);
            }
        }
    });

    test("a standby is in a different AZ than its primary", () => {
        const instances = seed.ofType(T.instance);
        for (let shard = 0; shard < 12; shard++) {
            const primary = instances.find((i) => hostName(i) === `shard-${shard}-primary`)!;
            const standby = instances.find((i) => hostName(i) === `shard-${shard}-standby`)!;
            expect(standby.state.availabilityZone).not.toBe(primary.state.availabilityZone);
        }
    });

    test("a shard host's user data names exactly its own volume IDs, its logical shards and, for a standby, its primary", () => {
        const volumes = seed.ofType(T.volume);
        const instances = seed.ofType(T.instance);
        const primary3 = instances.find((i) => hostName(i) === "shard-3-primary")!;
        const standby3 = instances.find((i) => hostName(i) === "shard-3-standby")!;
        const shardEnv = (i: typeof primary3) => {
            const doc = yaml.load(userDataOf(i)) as { write_files: { path: string; content: string }[] };
            const text = doc.write_files.find((f) => f.path === "/etc/instagram/shard.env")!.content;
            return Object.fromEntries(text.trim().split("\n").map((l) => /^(\w+)='(.*)'$/.exec(l)!.slice(1)));
        };
        const own = volumes.filter((v) => v.name.startsWith("shard-3-primary-data-")).map((v) => v.state.id);
        expect(own).toHaveLength(4);
        expect(shardEnv(primary3)).toMatchObject({ SHARD: "3", KIND: "primary", VOLUME_IDS: own.join(" "), RAID_LEVEL: "10", FIRST_LOGICAL_SHARD: "500", LAST_LOGICAL_SHARD: "666", PG_VERSION: "16", STANDBY_SLOT: "shard_3_standby" });
        expect(shardEnv(primary3).PRIMARY_ADDRESS).toBeUndefined();
        expect(shardEnv(standby3)).toMatchObject({ KIND: "standby", PRIMARY_ADDRESS: primary3.state.privateIp, STANDBY_SLOT: "shard_3_standby" });
        expect(shardEnv(standby3).VOLUME_IDS).not.toEqual(own.join(" "));
        // The tags the policy pack reads at preview say what the user data holds.
        for (const host of instances.filter((i) => i.inputs.tags.Role === "shard")) {
            expect(host.inputs.tags.RaidVolumes, hostName(host)).toBe(String(shardEnv(host).VOLUME_IDS.split(" ").length));
            expect(host.inputs.tags.RaidLevel, hostName(host)).toBe(shardEnv(host).RAID_LEVEL);
        }
    });

    test("data volumes are protected from deletion when deletionProtection is on, and not in dev", () => {
        expect(seed.ofType(T.volume).every((v) => v.protect)).toBe(true);
        expect(dev.ofType(T.volume).some((v) => v.protect)).toBe(false);
    });
});
