/**
 * Passwords, kept as scrypt hashes (memory-hard, in node's crypto) that carry their own parameters:
 * `scrypt$<N>$<r>$<p>$<salt>$<hash>` (base64url). Raising the cost later only changes what new hashes use;
 * a login with an older, cheaper hash still verifies and is re-hashed at the current cost.
 */
import * as crypto from "crypto";
import { promisify } from "util";

const scrypt = promisify(crypto.scrypt) as (password: crypto.BinaryLike, salt: crypto.BinaryLike, keylen: number, options: crypto.ScryptOptions) => Promise<Buffer>;

export interface ScryptCost {
    /** CPU/memory cost, a power of two; memory is 128 × N × r bytes. */
    readonly N: number;
    readonly r: number;
    readonly p: number;
}

/** 32 MiB and about 90 ms of one core per hash here: the cost Go's x/crypto documents for interactive logins. */
export const DEFAULT_SCRYPT_COST: ScryptCost = { N: 32768, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;
export const PASSWORD_MIN_LENGTH = 8;
/** Bytes, not characters: the whole password is hashed, and an unbounded one is a cheap way to burn CPU. */
export const PASSWORD_MAX_BYTES = 256;

let common: Set<string> | undefined;

/**
 * A password on zxcvbn-ts's list of common ones (@zxcvbn-ts/language-common, MIT: 49,233 passwords from breach
 * corpora, most frequent first), compared as the list is written: NFC, lower case. NIST SP 800-63B 5.1.1.2 asks
 * a verifier to refuse "passwords obtained from previous breach corpuses" and commonly used ones. Only the
 * entries long enough to pass the length rule are kept (18,000 or so).
 */
export function isCommonPassword(password: string): boolean {
    // Loaded at the first check, not at import: the package decompresses its lists when it is loaded (about
    // 0.2 s of CPU here, many times that on an emulated or credit-starved CPU), which every app worker would
    // otherwise pay before it serves anything, and the arbiter replaces a worker that does not boot in 30 s.
    // (esbuild keeps a require() inside a function lazy in the bundle.)
    common ??= new Set((require("@zxcvbn-ts/language-common") as typeof import("@zxcvbn-ts/language-common")).dictionary["passwords-common"].filter((w) => [...w].length >= PASSWORD_MIN_LENGTH));
    return common.has(password.normalize("NFC").toLowerCase());
}

/**
 * Why a new password is not acceptable, or undefined: at signup and at a change, never at login (an account
 * whose password predates a rule still logs in). Length (NIST's 8 characters at least, 64 at most it must
 * take), then what an attacker tries first: the account's own name, one character over and over, blanks, and
 * the list of common passwords. The message says which, so that the user can choose another.
 */
export function passwordProblem(password: unknown, field = "password", username?: string): string | undefined {
    if (typeof password !== "string") return `${field} must be a string`;
    if ([...password].length < PASSWORD_MIN_LENGTH) return `${field} must be at least ${PASSWORD_MIN_LENGTH} characters`;
    if (Buffer.byteLength(password, "utf8") > PASSWORD_MAX_BYTES) return `${field} is limited to ${PASSWORD_MAX_BYTES} bytes`;
    if (/^\s+$/u.test(password)) return `${field} is only blank characters`;
    if (new Set(password).size === 1) return `${field} is one character repeated`;
    if (username !== undefined && password.normalize("NFC").toLowerCase() === username.toLowerCase()) return `${field} is the username`;
    if (isCommonPassword(password)) return `${field} is on a list of common or breached passwords; choose another`;
    return undefined;
}

/** `N=…,r=…,p=…` (INSTAGRAM_PASSWORD_SCRYPT), checked: N a power of two from 2^14, r 8-32, p 1-16. */
export function parseScryptCost(text: string): ScryptCost | string {
    const m = /^N=(\d+),r=(\d+),p=(\d+)$/.exec(text.trim());
    if (!m) return `expected N=<power of two>,r=<8-32>,p=<1-16>, got ${text}`;
    const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (N < 16384 || N > 1048576 || (N & (N - 1)) !== 0) return `N must be a power of two from 16384 to 1048576, got ${N}`;
    if (r < 8 || r > 32) return `r must be 8-32, got ${r}`;
    if (p < 1 || p > 16) return `p must be 1-16, got ${p}`;
    return { N, r, p };
}

const maxmem = (c: ScryptCost) => 256 * c.N * c.r + 1024 * 1024;

export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
    const salt = crypto.randomBytes(SALT_BYTES);
    const key = await scrypt(password.normalize("NFC"), salt, KEY_BYTES, { ...cost, maxmem: maxmem(cost) });
    return ["scrypt", cost.N, cost.r, cost.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

function parseHash(stored: string): { cost: ScryptCost; salt: Buffer; key: Buffer } | undefined {
    const parts = stored.split("$");
    if (parts.length !== 6 || parts[0] !== "scrypt") return undefined;
    const cost = parseScryptCost(`N=${parts[1]},r=${parts[2]},p=${parts[3]}`);
    if (typeof cost === "string") return undefined;
    return { cost, salt: Buffer.from(parts[4], "base64url"), key: Buffer.from(parts[5], "base64url") };
}

/** A stored hash nobody's password matches, so an unknown username costs a login as much time as a wrong password. */
const DUMMY_HASH = `scrypt$${DEFAULT_SCRYPT_COST.N}$${DEFAULT_SCRYPT_COST.r}$${DEFAULT_SCRYPT_COST.p}$${"A".repeat(22)}$${"A".repeat(43)}`;

/**
 * Whether `password` matches `stored` (compared in constant time), and whether the hash is cheaper than
 * `current` and should be replaced. A missing or unreadable hash never matches, after the same work.
 */
export async function verifyPassword(password: string, stored: string | null | undefined, current: ScryptCost = DEFAULT_SCRYPT_COST): Promise<{ ok: boolean; rehash: boolean }> {
    const parsed = parseHash(stored ?? "") ?? parseHash(DUMMY_HASH)!;
    const key = await scrypt(password.normalize("NFC"), parsed.salt, parsed.key.length, { ...parsed.cost, maxmem: maxmem(parsed.cost) });
    const ok = stored !== null && stored !== undefined && parseHash(stored) !== undefined && crypto.timingSafeEqual(key, parsed.key);
    const rehash = ok && (parsed.cost.N < current.N || parsed.cost.r < current.r || parsed.cost.p < current.p);
    return { ok, rehash };
}
