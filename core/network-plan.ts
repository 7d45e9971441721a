/**
 * Where things go in the VPC: subnet blocks per AZ and which AZ each host lands in. Pure, so placement
 * rules (a standby never shares its primary's AZ) are tested without mocks.
 *
 * The VPC is cut into quarters: quarters 0-2 are the private subnets of AZs 0-2 (every host), and quarter 3
 * is cut into eighths for the public subnets (load balancer and NAT only need a few addresses).
 */
import { hostAddress, parseCidr, subnetOf } from "./cidr";

export function privateSubnetCidr(vpcCidr: string, azIndex: number): string {
    return subnetOf(vpcCidr, parseCidr(vpcCidr)!.prefix + 2, azIndex);
}

export function publicSubnetCidr(vpcCidr: string, azIndex: number): string {
    const prefix = parseCidr(vpcCidr)!.prefix;
    return subnetOf(subnetOf(vpcCidr, prefix + 2, 3), prefix + 5, azIndex);
}

/**
 * The Munin master gets a fixed address so that every munin-node can allow exactly it, without a
 * dependency cycle (the master's config lists every node).
 */
export function monitoringHostIp(vpcCidr: string): string {
    return hostAddress(privateSubnetCidr(vpcCidr, 0), 10);
}

/** AZ index of the i-th member of a spread-out tier (app servers, memcached nodes). */
export function spreadAz(index: number, azCount: number): number {
    return index % azCount;
}

/** A shard's primary rotates over the AZs; its standby is always in the next one. */
export function shardAzs(shard: number, azCount: number): { primary: number; standby: number } {
    return { primary: shard % azCount, standby: (shard + 1) % azCount };
}
