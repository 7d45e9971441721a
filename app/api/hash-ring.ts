/**
 * Ketama consistent hashing, as libmemcached (pylibmc, which Instagram used) lays it out: each node owns
 * 160 points on a 32-bit circle (40 MD5 digests of "host:port-i", 4 points each); a key belongs to the
 * first point at or after the first 4 bytes of its MD5. Adding or removing a node moves only about 1/N of
 * the keys, so a cache node's loss does not cold-start the whole cache.
 */
import * as crypto from "crypto";

const POINTS_PER_DIGEST = 4;
const DIGESTS_PER_NODE = 40;
/** Keys whose node is remembered: a feed page asks for the same hot photos again and again. */
const MEMO_KEYS = 100_000;

function point(digest: Buffer, h: number): number {
    return ((digest[3 + h * 4] << 24) | (digest[2 + h * 4] << 16) | (digest[1 + h * 4] << 8) | digest[h * 4]) >>> 0;
}

export class HashRing<T extends string = string> {
    private readonly points: { at: number; node: T }[] = [];
    /** nodeFor's answers (an MD5 per key otherwise), forgotten all at once when full. */
    private readonly memo = new Map<string, T>();

    constructor(readonly nodes: readonly T[]) {
        if (nodes.length === 0) throw new Error("a hash ring needs at least one node");
        if (new Set(nodes).size !== nodes.length) throw new Error(`duplicate node in ${nodes.join(", ")}`);
        for (const node of nodes) {
            for (let i = 0; i < DIGESTS_PER_NODE; i++) {
                const digest = crypto.createHash("md5").update(`${node}-${i}`).digest();
                for (let h = 0; h < POINTS_PER_DIGEST; h++) this.points.push({ at: point(digest, h), node });
            }
        }
        this.points.sort((a, b) => a.at - b.at || (a.node < b.node ? -1 : 1));
    }

    nodeFor(key: string): T {
        let node = this.memo.get(key);
        if (node === undefined) {
            if (this.memo.size >= MEMO_KEYS) this.memo.clear();
            node = this.locate(key);
            this.memo.set(key, node);
        }
        return node;
    }

    private locate(key: string): T {
        const at = point(crypto.createHash("md5").update(key).digest(), 0);
        // First point at or after the key's position, wrapping around the circle.
        let lo = 0;
        let hi = this.points.length;
        while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            if (this.points[mid].at < at) lo = mid + 1;
            else hi = mid;
        }
        return this.points[lo === this.points.length ? 0 : lo].node;
    }

    /** Keys grouped by the node that owns them (one round trip per node for a multi-get). */
    group(keys: readonly string[]): Map<T, string[]> {
        const groups = new Map<T, string[]>();
        for (const key of keys) {
            const node = this.nodeFor(key);
            const group = groups.get(node);
            if (group) group.push(key);
            else groups.set(node, [key]);
        }
        return groups;
    }
}
