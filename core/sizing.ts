/**
 * Memory and connection sizing for each daemon, from the instance type. Pure functions, shared by the cloud
 * roles and (later) the local target, so the numbers a host runs with are the numbers the tests check.
 */
import { instanceSpec, InstanceSpec } from "./instance-types";

const MiB_PER_GiB = 1024;

export function specOf(instanceType: string): InstanceSpec {
    const spec = instanceSpec(instanceType);
    if (!spec) throw new Error(`unknown instance type ${instanceType}`);
    return spec;
}

/** gunicorn's rule of thumb: 2 × cores + 1, unless the config names a number. */
export function appWorkerCount(appInstanceType: string, configured: number): number {
    return configured > 0 ? configured : 2 * specOf(appInstanceType).vcpus + 1;
}

/**
 * Job worker processes per host. A job mostly waits on PostgreSQL, Redis or another network, so a worker
 * host runs four per vCPU (Instagram's ~200 Gearman workers were a few dozen per machine); on an app host,
 * where they share the CPU with the HTTP workers, one per vCPU.
 */
export function jobWorkerCount(instanceType: string, configured: number, dedicatedHost: boolean): number {
    if (configured > 0) return configured;
    const vcpus = specOf(instanceType).vcpus;
    return dedicatedHost ? 4 * vcpus : vcpus;
}

export interface PostgresSizing {
    readonly sharedBuffersMiB: number;
    readonly effectiveCacheSizeMiB: number;
    readonly maintenanceWorkMemMiB: number;
    readonly workMemMiB: number;
    readonly maxConnections: number;
    /** Server connections pgbouncer may open per database/user pair. */
    readonly pgbouncerPoolSize: number;
    readonly pgbouncerReservePool: number;
    readonly pgbouncerMaxClientConn: number;
    readonly maxWalSenders: number;
}

/**
 * shared_buffers at a quarter of memory and effective_cache_size at three quarters (the rest is the OS page
 * cache, which Instagram relied on to keep the working set in memory). With transaction pooling the server
 * needs few backends: about 2 per vCPU, plus reserve, replication and admin slots.
 */
export function postgresSizing(shardInstanceType: string, appClients: number): PostgresSizing {
    const spec = specOf(shardInstanceType);
    const memMiB = spec.memoryGiB * MiB_PER_GiB;
    if (spec.memoryGiB < 1) {
        throw new Error(`${shardInstanceType} has ${spec.memoryGiB} GiB of memory; a PostgreSQL host (shard or search) needs at least 1 GiB`);
    }
    const pgbouncerPoolSize = Math.max(10, 2 * spec.vcpus);
    const pgbouncerReservePool = Math.max(5, Math.ceil(pgbouncerPoolSize / 4));
    const maxWalSenders = 10;
    const adminReserve = 10; // superuser_reserved_connections, munin, psql
    const maxConnections = pgbouncerPoolSize + pgbouncerReservePool + maxWalSenders + adminReserve;
    const sharedBuffersMiB = Math.floor(memMiB / 4);
    const workMemMiB = Math.min(256, Math.max(4, Math.floor((memMiB - sharedBuffersMiB) / 4 / maxConnections)));
    return {
        sharedBuffersMiB,
        effectiveCacheSizeMiB: Math.floor((memMiB * 3) / 4),
        maintenanceWorkMemMiB: Math.min(2048, Math.max(64, Math.floor(memMiB / 20))),
        workMemMiB,
        maxConnections,
        pgbouncerPoolSize,
        pgbouncerReservePool,
        pgbouncerMaxClientConn: Math.max(100, appClients * 2),
        maxWalSenders,
    };
}

/** Leave room for the fork that BGSAVE and replica sync make (copy-on-write can double a busy dataset). */
export function redisMaxMemoryMiB(redisInstanceType: string): number {
    const memMiB = specOf(redisInstanceType).memoryGiB * MiB_PER_GiB;
    if (memMiB < 512) throw new Error(`${redisInstanceType} has too little memory for Redis (at least 0.5 GiB)`);
    return Math.floor(memMiB * 0.6);
}

export interface MemcachedSizing {
    readonly memoryMiB: number;
    readonly threads: number;
    readonly maxConnections: number;
}

/** memcached gets most of the host; the 2011 fleet ran -t 4 on 8-core boxes. */
export function memcachedSizing(memcachedInstanceType: string, appClients: number): MemcachedSizing {
    const spec = specOf(memcachedInstanceType);
    const memMiB = spec.memoryGiB * MiB_PER_GiB;
    const headroom = Math.min(2048, Math.max(256, Math.floor(memMiB * 0.1)));
    if (memMiB - headroom < 64) throw new Error(`${memcachedInstanceType} has too little memory for memcached`);
    return {
        memoryMiB: memMiB - headroom,
        threads: Math.max(1, Math.min(spec.vcpus, 8)),
        maxConnections: Math.max(1024, appClients * 2),
    };
}
