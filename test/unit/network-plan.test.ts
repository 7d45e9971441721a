import { describe, expect, test } from "vitest";
import { cidrContains, hostAddress, parseCidr, subnetOf } from "../../core/cidr";
import { monitoringHostIp, privateSubnetCidr, publicSubnetCidr, shardAzs, spreadAz } from "../../core/network-plan";

function contains(outer: string, inner: string): boolean {
    const o = parseCidr(outer)!;
    const i = parseCidr(inner)!;
    return i.prefix >= o.prefix && Math.floor(i.base / 2 ** (32 - o.prefix)) === Math.floor(o.base / 2 ** (32 - o.prefix));
}

function overlaps(a: string, b: string): boolean {
    return contains(a, b) || contains(b, a);
}

describe("network plan", () => {
    test("a /16 gives /18 private subnets and /21 public ones", () => {
        expect([0, 1, 2].map((i) => privateSubnetCidr("10.20.0.0/16", i))).toEqual(["10.20.0.0/18", "10.20.64.0/18", "10.20.128.0/18"]);
        expect([0, 1, 2].map((i) => publicSubnetCidr("10.20.0.0/16", i))).toEqual(["10.20.192.0/21", "10.20.200.0/21", "10.20.208.0/21"]);
    });

    test("subnets never overlap and stay inside the VPC, for every allowed prefix", () => {
        for (const vpc of ["10.0.0.0/16", "172.16.0.0/18", "192.168.4.0/22", "10.99.128.0/20"]) {
            const subnets = [0, 1, 2].flatMap((i) => [privateSubnetCidr(vpc, i), publicSubnetCidr(vpc, i)]);
            for (const s of subnets) expect(contains(vpc, s)).toBe(true);
            for (let a = 0; a < subnets.length; a++) {
                for (let b = a + 1; b < subnets.length; b++) expect(overlaps(subnets[a], subnets[b]), `${subnets[a]} vs ${subnets[b]}`).toBe(false);
            }
            // AWS's smallest subnet is a /28.
            for (const s of subnets) expect(parseCidr(s)!.prefix).toBeLessThanOrEqual(28);
        }
    });

    test("the Munin master's fixed address is a usable host in the first private subnet", () => {
        expect(monitoringHostIp("10.20.0.0/16")).toBe("10.20.0.10");
        expect(contains(privateSubnetCidr("192.168.4.0/22", 0), `${monitoringHostIp("192.168.4.0/22")}/32`)).toBe(true);
    });

    test("a standby is never in its primary's AZ", () => {
        for (const azCount of [2, 3]) {
            for (let shard = 0; shard < 24; shard++) {
                const { primary, standby } = shardAzs(shard, azCount);
                expect(standby).not.toBe(primary);
                expect(primary).toBeLessThan(azCount);
                expect(standby).toBeLessThan(azCount);
            }
        }
    });

    test("spread tiers use every AZ evenly", () => {
        const counts = [0, 0, 0];
        for (let i = 0; i < 25; i++) counts[spreadAz(i, 3)]++;
        expect(counts).toEqual([9, 8, 8]);
    });

    test("CIDR helpers refuse what does not fit", () => {
        expect(() => subnetOf("10.0.0.0/16", 15, 0)).toThrow();
        expect(() => subnetOf("10.0.0.0/16", 18, 4)).toThrow(/holds 4/);
        expect(() => hostAddress("10.0.0.0/28", 3)).toThrow(/usable range/);
        expect(parseCidr("10.0.0.1/16")!.isNetworkAddress).toBe(false);
        expect(parseCidr("256.0.0.0/8")).toBeUndefined();
        expect(parseCidr("8.8.8.0/24")!.isPrivate).toBe(false);
    });
});

test("cidrContains: inside and outside a block, every address in /0, and nothing for text that is not an address", () => {
    expect(cidrContains("10.20.0.0/16", "10.20.255.7")).toBe(true);
    expect(cidrContains("10.20.0.0/16", "10.21.0.1")).toBe(false);
    expect(cidrContains("0.0.0.0/0", "203.0.113.9")).toBe(true);
    expect(cidrContains("203.0.113.0/24", "203.0.113.255")).toBe(true);
    expect(cidrContains("10.0.0.0/8", "not an address")).toBe(false);
    expect(cidrContains("10.0.0.0/33", "10.0.0.1")).toBe(false);
});
