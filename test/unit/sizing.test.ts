import { describe, expect, test } from "vitest";
import { instanceSpec } from "../../core/instance-types";
import { appWorkerCount, memcachedSizing, postgresSizing, redisMaxMemoryMiB } from "../../core/sizing";

describe("instance types", () => {
    test("the 2011 profile's mapping: c7i.2xlarge is 8 vCPU / 16 GiB, r7i.2xlarge 8 vCPU / 64 GiB", () => {
        expect(instanceSpec("c7i.2xlarge")).toMatchObject({ vcpus: 8, memoryGiB: 16, architecture: "x86_64" });
        expect(instanceSpec("r7i.2xlarge")).toMatchObject({ vcpus: 8, memoryGiB: 64, architecture: "x86_64" });
    });
    test("Graviton types need the arm64 AMI", () => {
        expect(instanceSpec("c7g.large")?.architecture).toBe("arm64");
        expect(instanceSpec("t4g.small")?.architecture).toBe("arm64");
        expect(instanceSpec("t3.small")?.architecture).toBe("x86_64");
    });
    test("unknown types are unknown, not guessed", () => {
        expect(instanceSpec("c1.xlarge")).toBeUndefined();
        expect(instanceSpec("r7i.3xlarge")).toBeUndefined();
        expect(instanceSpec("t3")).toBeUndefined();
    });
});

describe("sizing", () => {
    test("app workers: gunicorn's 2 x vCPU + 1 unless configured", () => {
        expect(appWorkerCount("c7i.2xlarge", 0)).toBe(17);
        expect(appWorkerCount("c7i.2xlarge", 4)).toBe(4);
    });

    test("PostgreSQL on 64 GiB: a quarter in shared_buffers, three quarters as cache, connections within pgbouncer's pools", () => {
        const s = postgresSizing("r7i.2xlarge", 25 * 17);
        expect(s.sharedBuffersMiB).toBe(16 * 1024);
        expect(s.effectiveCacheSizeMiB).toBe(48 * 1024);
        expect(s.maxConnections).toBeGreaterThanOrEqual(s.pgbouncerPoolSize + s.pgbouncerReservePool + s.maxWalSenders);
        expect(s.pgbouncerMaxClientConn).toBeGreaterThanOrEqual(25 * 17);
        // work_mem times every backend stays within the memory left after shared_buffers.
        expect(s.workMemMiB * s.maxConnections).toBeLessThan(64 * 1024 - s.sharedBuffersMiB);
    });

    test("memory too small for a daemon fails with the instance type named", () => {
        expect(() => postgresSizing("t3.nano", 10)).toThrow(/t3.nano/);
        expect(() => memcachedSizing("t3.nano", 10)).not.toThrow();
        expect(redisMaxMemoryMiB("t3.nano")).toBe(307);
    });

    test("Redis leaves room for fork; memcached leaves the OS headroom and uses at most 8 threads", () => {
        expect(redisMaxMemoryMiB("r7i.large")).toBe(Math.floor(16 * 1024 * 0.6));
        const m = memcachedSizing("r7i.large", 100);
        expect(m.memoryMiB).toBe(16 * 1024 - 1638);
        expect(m.threads).toBe(2);
        expect(memcachedSizing("r7i.8xlarge", 100).threads).toBe(8);
    });
});
