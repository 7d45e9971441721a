/** IPv4 CIDR arithmetic for subnet planning and config validation. Pure; no dependency on AWS. */

export interface Cidr {
    readonly base: number; // the address as an unsigned 32-bit integer
    readonly prefix: number;
    readonly isNetworkAddress: boolean;
    readonly isPrivate: boolean;
}

export function parseIPv4(text: string): number | undefined {
    const parts = text.split(".");
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
    return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIPv4(n: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

const PRIVATE_RANGES: readonly [string, number][] = [["10.0.0.0", 8], ["172.16.0.0", 12], ["192.168.0.0", 16]];

function within(base: number, prefix: number, outerBase: number, outerPrefix: number): boolean {
    return prefix >= outerPrefix && Math.floor(base / 2 ** (32 - outerPrefix)) === Math.floor(outerBase / 2 ** (32 - outerPrefix));
}

export function parseCidr(text: string): Cidr | undefined {
    const match = /^([\d.]+)\/(\d{1,2})$/.exec(text);
    if (!match) return undefined;
    const base = parseIPv4(match[1]);
    const prefix = Number(match[2]);
    if (base === undefined || prefix > 32) return undefined;
    return {
        base,
        prefix,
        isNetworkAddress: base % 2 ** (32 - prefix) === 0,
        isPrivate: PRIVATE_RANGES.some(([b, p]) => within(base, prefix, parseIPv4(b)!, p)),
    };
}

/** Whether an address is inside a block ("0.0.0.0/0" holds every address); false for text that is neither. */
export function cidrContains(cidr: string, ip: string): boolean {
    const block = parseCidr(cidr);
    const address = parseIPv4(ip);
    return block !== undefined && address !== undefined && within(address, 32, block.base, block.prefix);
}

/** The index-th block of size /newPrefix inside cidr. */
export function subnetOf(cidr: string, newPrefix: number, index: number): string {
    const parsed = parseCidr(cidr);
    if (!parsed || newPrefix < parsed.prefix || newPrefix > 28) throw new Error(`cannot carve /${newPrefix} blocks out of ${cidr}`);
    const count = 2 ** (newPrefix - parsed.prefix);
    if (index < 0 || index >= count) throw new Error(`${cidr} holds ${count} /${newPrefix} blocks; there is no block ${index}`);
    return `${formatIPv4(parsed.base + index * 2 ** (32 - newPrefix))}/${newPrefix}`;
}

/** The n-th host address in a subnet (AWS reserves the first four and the last). */
export function hostAddress(cidr: string, n: number): string {
    const parsed = parseCidr(cidr);
    if (!parsed) throw new Error(`not a CIDR block: ${cidr}`);
    const size = 2 ** (32 - parsed.prefix);
    if (n < 4 || n >= size - 1) throw new Error(`host ${n} is outside the usable range of ${cidr}`);
    return formatIPv4(parsed.base + n);
}
