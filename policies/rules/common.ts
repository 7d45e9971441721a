/** Shared pieces of the rules: how a violation reads, what "the world" is, decoding user data and IAM documents. */
import * as zlib from "zlib";

export const WORLD_CIDRS = ["0.0.0.0/0", "::/0"];

/** Ports whose exposure Checkov/KICS single out, plus this stack's own daemons. */
export const SENSITIVE_PORTS: Record<number, string> = {
    22: "SSH",
    3389: "RDP",
    5432: "PostgreSQL",
    6432: "pgbouncer",
    6379: "Redis",
    11211: "memcached",
    4949: "munin-node",
    4730: "gearmand",
};

/** "NAME: PROPERTY is VALUE; FIX" — every message says which resource, which property, and how to fix it. */
export function problem(resourceName: string, property: string, what: string, fix: string): string {
    return `${resourceName}: ${property} ${what}. Fix: ${fix}.`;
}

/** The #cloud-config text of an instance, whether given as userData or gzipped/plain userDataBase64. */
export function userDataText(props: { userData?: string; userDataBase64?: string }): string | undefined {
    if (typeof props.userData === "string") return props.userData;
    if (typeof props.userDataBase64 !== "string") return undefined;
    const raw = Buffer.from(props.userDataBase64, "base64");
    if (raw[0] === 0x1f && raw[1] === 0x8b) return zlib.gunzipSync(raw).toString("utf8");
    return raw.toString("utf8");
}

export interface Statement {
    Effect?: string;
    Action?: string | string[];
    NotAction?: string | string[];
    Resource?: string | string[];
    Principal?: unknown;
    Sid?: string;
    Condition?: unknown;
}

/** The statements of an IAM or bucket policy given as a JSON string or object (unknown at preview: none). */
export function statementsOf(policy: unknown): Statement[] {
    let doc: unknown = policy;
    if (typeof policy === "string") {
        try {
            doc = JSON.parse(policy);
        } catch {
            return [];
        }
    }
    const statements = (doc as { Statement?: unknown })?.Statement;
    if (!statements) return [];
    return (Array.isArray(statements) ? statements : [statements]) as Statement[];
}

export const asList = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** Read-only IAM actions (by verb), the only ones allowed on Resource "*". */
export function isReadOnlyAction(action: string): boolean {
    return /^[a-z0-9-]+:(Get|List|Describe|Head|Lookup|Search|Check|View)[A-Za-z0-9]*\*?$/.test(action);
}
