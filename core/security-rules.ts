/**
 * Who may talk to whom, as data. The Network component turns each rule into an ingress rule on the target's
 * security group and a matching egress rule on the source's, both referencing the other group, never a
 * CIDR. The only CIDR sources are the internet on the load balancer's 80/443 and, when the user lists
 * them, adminCidrs on SSH.
 */
import { PORTS } from "./ports";

export const HOST_ROLES = ["app", "shard", "redis", "memcached", "gearman", "worker", "search", "monitoring"] as const;
export type HostRole = (typeof HOST_ROLES)[number];
export type GroupRole = "lb" | HostRole;


export interface GroupRule {
    readonly from: GroupRole;
    readonly to: GroupRole;
    readonly port: number;
    readonly description: string;
}

export interface InternetRule {
    readonly to: GroupRole;
    readonly port: number;
    readonly cidr: string;
    readonly description: string;
}

export function groupRules(): GroupRule[] {
    return [
        { from: "lb", to: "app", port: PORTS.http, description: "Load balancer to nginx on the app hosts (requests and health checks)" },
        { from: "app", to: "shard", port: PORTS.pgbouncer, description: "App workers to pgbouncer on the shard hosts" },
        { from: "shard", to: "shard", port: PORTS.postgres, description: "Standby streams WAL from its primary; a primary copies a moving logical shard from another" },
        { from: "app", to: "redis", port: PORTS.redis, description: "App workers to Redis (feeds, sessions)" },
        { from: "redis", to: "redis", port: PORTS.redis, description: "Redis replica syncs from its primary" },
        { from: "app", to: "memcached", port: PORTS.memcached, description: "App workers to memcached" },
        { from: "app", to: "gearman", port: PORTS.gearman, description: "The app queues jobs on gearmand (and runs job workers when there is no worker tier)" },
        { from: "worker", to: "gearman", port: PORTS.gearman, description: "Job workers take jobs from gearmand" },
        { from: "worker", to: "shard", port: PORTS.pgbouncer, description: "Job workers to pgbouncer (the followers of a photo owner)" },
        { from: "worker", to: "redis", port: PORTS.redis, description: "Job workers to Redis (the feeds of followers)" },
        { from: "app", to: "search", port: PORTS.pgbouncer, description: "App workers to pgbouncer on the search hosts (media search, and the index when there is no queue)" },
        { from: "worker", to: "search", port: PORTS.pgbouncer, description: "Job workers to pgbouncer on the search hosts (the index job, the reindex)" },
        { from: "search", to: "search", port: PORTS.postgres, description: "The search standby streams WAL from its primary" },
        // Not to itself: the master reads its own munin-node on loopback (its node list says 127.0.0.1).
        ...HOST_ROLES.filter((to) => to !== "monitoring").map((to) => ({
            from: "monitoring" as const,
            to,
            port: PORTS.muninNode,
            description: `Munin master polls munin-node on the ${to} hosts`,
        })),
    ];
}

export function internetRules(adminCidrs: readonly string[]): InternetRule[] {
    return [
        { to: "lb", port: PORTS.https, cidr: "0.0.0.0/0", description: "HTTPS from the internet to the load balancer" },
        { to: "lb", port: PORTS.http, cidr: "0.0.0.0/0", description: "HTTP from the internet, answered with a redirect to HTTPS" },
        ...adminCidrs.flatMap((cidr) =>
            HOST_ROLES.map((to) => ({ to, port: PORTS.ssh, cidr, description: `SSH from admin network ${cidr}` })),
        ),
    ];
}

/**
 * Outbound from hosts to the internet (through NAT): HTTPS for SSM, S3 and package signing keys, HTTP for
 * Ubuntu's package mirrors. The load balancer gets none.
 */
export function hostEgressPorts(): { port: number; description: string }[] {
    return [
        { port: PORTS.https, description: "HTTPS out through NAT: SSM, S3, CloudWatch, package keys" },
        { port: PORTS.http, description: "HTTP out through NAT: Ubuntu package mirrors (packages are signed)" },
    ];
}
