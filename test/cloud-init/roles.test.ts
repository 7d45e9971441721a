/** Role specs against the rest of the stack: secrets they fetch are ones their tier may read, and bad input fails at render. */
import { describe, expect, test } from "vitest";
import { SECRET_READERS } from "../../core/secrets";
import { appRole } from "../../cloud-init/roles/app";
import { memcachedRole } from "../../cloud-init/roles/memcached";
import { monitoringRole } from "../../cloud-init/roles/monitoring";
import { shardRole, shardEnv, ShardParams } from "../../cloud-init/roles/postgres";
import * as yaml from "js-yaml";
import { redisRole } from "../../cloud-init/roles/redis";
import { commonRole } from "../../cloud-init/roles/common";
import { postgresSizing, memcachedSizing } from "../../core/sizing";
import { shardMap } from "../../core/shard-map";
import { renderCloudConfig, emptyRole } from "../../cloud-init/role";

const sizing = postgresSizing("r7i.large", 100);
const shardParams = (kind: "primary" | "standby", extra: Partial<ShardParams> = {}): ShardParams => ({
    shard: 0, kind, hostname: `shard-0-${kind}`, ubuntuRelease: "24.04", sizing, volumeIds: ["vol-0123456789abcdef0", "vol-0123456789abcdef1"],
    raidLevel: 0, volumeGiB: 100, logicalShards: [{ first: 0, last: 9 }], hasStandby: true,
    primaryAddress: kind === "standby" ? "10.20.0.5" : undefined, replicationCidrs: ["10.20.0.0/18", "10.20.64.0/18"],
    backup: { repository: { kind: "s3", bucket: "backups-bucket", region: "us-east-1" }, retentionFull: 4, fullDay: "Sun", time: "02:00" }, ...extra,
});
const shard = (kind: "primary" | "standby", extra: Partial<ShardParams> = {}) => shardRole(shardParams(kind, extra));
const app = appRole({
    workers: 3, logicalShards: 10, shardMap: shardMap(10, 1), pgbouncerHosts: ["10.20.0.5"], redisHost: "10.20.0.6", memcachedHosts: ["10.20.0.7"],
    mediaBucket: "b", mediaBaseUrl: "https://media.example.com", region: "us-east-1", vpcCidr: "10.20.0.0/16", maxUploadMiB: 10, shardDirectoryParameter: "/instagram/test/directory/shards",
    release: { url: `s3://artifacts/releases/${"ab".repeat(32)}.tar.gz`, sha256: "ab".repeat(32) }, nodeVersion: "22.21.0",
});

import { appUnit } from "../../app/deploy/unit";

describe("roles", () => {
    test("each tier's role fetches only secrets its instance role may read", () => {
        const byTier: [string, { secrets: readonly string[] }][] = [
            ["app", app],
            ["shard", shard("primary")],
            ["shard", shard("standby")],
            ["redis", redisRole({ kind: "primary", maxMemoryMiB: 100, redisMajor: 7 })],
            ["memcached", memcachedRole(memcachedSizing("r7i.large", 10))],
            ["monitoring", monitoringRole([])],
        ];
        for (const [tier, spec] of byTier) {
            for (const secret of spec.secrets) expect(SECRET_READERS[secret as keyof typeof SECRET_READERS], `${tier} fetches ${secret}`).toContain(tier);
        }
    });

    test("fetching secrets comes first at boot, with a manifest naming the stack's SSM paths", () => {
        const text = renderCloudConfig({ ...emptyRole("x"), secrets: ["redis-auth"], commands: [["true"]] }, { hostname: "h", stack: "prod" }, { fetchSecrets: "#!/bin/sh\n", awsLib: "#!/bin/sh\n", startUnits: "#!/bin/sh\n" });
        expect(text).toContain("/instagram/prod/redis-auth /etc/instagram/secrets/redis-auth root:root 0600");
        const runcmd = (yaml.load(text) as { runcmd: (string | string[])[] }).runcmd;
        expect(runcmd.slice(0, 3)).toEqual(["set -e", ["/usr/local/sbin/instagram-fetch-secrets", "/etc/instagram/secrets.list"], ["true"]]);
        expect(() => renderCloudConfig({ ...emptyRole("x"), secrets: ["redis-auth"] }, { hostname: "h", stack: "prod" })).toThrow(/no fetch-secrets script/);
    });

    test("the app server gets its secrets as systemd credentials, never in its environment file", () => {
        const files = Object.fromEntries(app.files.map((f) => [f.path, f.content]));
        expect(appUnit()).toContain("LoadCredential=postgres-app:/etc/instagram/secrets/postgres-app");
        expect(appUnit()).toContain("EnvironmentFile=/etc/instagram/app.env");
        expect(files["/etc/instagram/app.env"]).not.toMatch(/PASSWORD|SECRET|AUTH=/i);
    });

    test("a standby clones, a primary bootstraps; only the primary keeps a slot", () => {
        const primaryFiles = shard("primary").files.map((f) => f.path);
        const standbyFiles = shard("standby").files.map((f) => f.path);
        expect(primaryFiles).toEqual(expect.arrayContaining(["/etc/instagram/postgresql/cluster.sql", "/etc/instagram/postgresql/database.sql", "/etc/instagram/postgresql/slot.sql"]));
        expect(standbyFiles).toContain("/etc/instagram/postgresql/standby.conf");
        expect(standbyFiles).not.toContain("/etc/instagram/postgresql/cluster.sql");
        expect(shard("primary", { hasStandby: false }).files.map((f) => f.path)).not.toContain("/etc/instagram/postgresql/slot.sql");
        const commands = shard("primary").commands.map((c) => c[0]);
        expect(commands.indexOf("/usr/local/sbin/instagram-shard-raid")).toBeLessThan(commands.indexOf("/usr/local/sbin/instagram-shard-postgres"));
    });

    test("bad parameters fail at render with a clear message", () => {
        expect(() => shard("standby", { primaryAddress: undefined })).toThrow(/standby needs its primary's address/);
        expect(() => shard("primary", { volumeIds: [] })).toThrow(/has no data volumes/);
        expect(() => shard("primary", { volumeIds: ["vol-1; rm -rf /"] })).toThrow(/characters a shell would interpret/);
        expect(() => shard("primary", { logicalShards: [{ first: 5, last: 2 }] })).toThrow(/bad logical shard range/);
        expect(() => redisRole({ kind: "replica", maxMemoryMiB: 100, redisMajor: 7 })).toThrow(/needs its primary's address/);
        expect(() => postgresSizing("t3.nano", 1)).toThrow(/t3.nano/);
    });

    test("Ubuntu 22.04 gets its own PostgreSQL version and Redis 6's setting names", () => {
        expect(shardEnv(shardParams("primary", { ubuntuRelease: "22.04" }))).toContain("PG_VERSION='14'");
        expect(shard("primary", { ubuntuRelease: "22.04" }).files.map((f) => f.path)).toContain("/etc/systemd/system/postgresql@14-main.service.d/instagram.conf");
        const six = redisRole({ kind: "primary", maxMemoryMiB: 100, redisMajor: 6 }).files[0].content;
        expect(six).toContain("hash-max-ziplist-entries 1024");
        expect(six).not.toContain("listpack");
    });

    test("the common role runs on every host", () => {
        const c = commonRole({ stack: "s", role: "app", hostname: "app-0", muninMasterIp: "10.20.0.10" });
        expect(c.packages).toEqual(expect.arrayContaining(["munin-node", "chrony", "unattended-upgrades"]));
        expect(c.services).toEqual(["chrony"]);
        expect(c.optionalServices).toEqual(["munin-node"]);
    });
});
