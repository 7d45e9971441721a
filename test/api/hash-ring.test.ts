import { describe, expect, test } from "vitest";
import { HashRing } from "../../app/api/hash-ring";

const nodes = (n: number) => Array.from({ length: n }, (_, i) => `10.20.0.${10 + i}:11211`);
const keys = Array.from({ length: 20_000 }, (_, i) => `media:${1_000_000 + i * 7}`);

describe("ketama hash ring", () => {
    test("spreads keys over six nodes (Instagram's pool) within 25% of an even share", () => {
        const ring = new HashRing(nodes(6));
        const counts = new Map<string, number>();
        for (const k of keys) counts.set(ring.nodeFor(k), (counts.get(ring.nodeFor(k)) ?? 0) + 1);
        expect(counts.size).toBe(6);
        for (const c of counts.values()) expect(Math.abs(c - keys.length / 6) / (keys.length / 6)).toBeLessThan(0.25);
    });

    test("adding a seventh node moves about a seventh of the keys, and only onto the new node", () => {
        const before = new HashRing(nodes(6));
        const after = new HashRing(nodes(7));
        const moved = keys.filter((k) => before.nodeFor(k) !== after.nodeFor(k));
        expect(moved.length / keys.length).toBeGreaterThan(0.08);
        expect(moved.length / keys.length).toBeLessThan(0.22);
        expect(moved.every((k) => after.nodeFor(k) === nodes(7)[6])).toBe(true);
    });

    test("is a pure function of the node list: same answer every time, whatever the list's order", () => {
        const a = new HashRing(nodes(4));
        const b = new HashRing([...nodes(4)].reverse());
        expect(keys.slice(0, 500).every((k) => a.nodeFor(k) === b.nodeFor(k))).toBe(true);
    });

    test("groups keys by node for one round trip per node", () => {
        const ring = new HashRing(nodes(3));
        const groups = ring.group(keys.slice(0, 100));
        expect([...groups.values()].flat().sort()).toEqual(keys.slice(0, 100).sort());
        for (const [node, ks] of groups) expect(ks.every((k) => ring.nodeFor(k) === node)).toBe(true);
    });

    test("refuses an empty or duplicated node list", () => {
        expect(() => new HashRing([])).toThrow(/at least one node/);
        expect(() => new HashRing(["a:1", "a:1"])).toThrow(/duplicate node/);
    });
});
