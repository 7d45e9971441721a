/**
 * Whether a policy's Resource ARN can name a resource of a catalogue resource type: is there one ARN that
 * both the policy's pattern (with its * and ? wildcards) and the type's format
 * (arn:${Partition}:s3:::${BucketName}/${ObjectName}) describe?
 *
 * Both sides are patterns, so this is the intersection of two tiny automata, searched breadth-first over
 * (position in the policy ARN, position in the format, inside a variable).
 */

/** Pulumi's unknown sentinel, as it may stand inside an interpolated string of a plan. */
const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

type PolicyToken = { readonly kind: "char"; readonly ch: string } | { readonly kind: "one" } | { readonly kind: "any" };
type FormatToken = { readonly kind: "char"; readonly ch: string } | { readonly kind: "var"; readonly excludes: string };

/**
 * What a format's variables may hold. Only those whose characters AWS documents are narrowed, and only as far
 * as the check needs: a partition, region or account has no colon, a bucket name no slash (so that
 * arn:aws:s3:::media/* is an object, never a bucket). Every other variable may hold anything, slashes
 * included (object keys, parameter paths, log group names).
 */
const VARIABLE_EXCLUDES: Readonly<Record<string, string>> = { Partition: ":", Region: ":", Account: ":", AccountId: ":", BucketName: "/:" };

/** The policy ARN's tokens: policy variables (${aws:username}) and unknown parts stand for any text. */
function policyTokens(arn: string): PolicyToken[] {
    const tokens: PolicyToken[] = [];
    const text = arn.split(UNKNOWN_SENTINEL).join("*").replace(/\$\{[^}]*\}/g, "*");
    for (const ch of text) tokens.push(ch === "*" ? { kind: "any" } : ch === "?" ? { kind: "one" } : { kind: "char", ch });
    return tokens;
}

function formatTokens(format: string): FormatToken[] {
    const tokens: FormatToken[] = [];
    for (const part of format.split(/(\$\{[^}]+\})/)) {
        const variable = /^\$\{([^}]+)\}$/.exec(part);
        if (variable) tokens.push({ kind: "var", excludes: VARIABLE_EXCLUDES[variable[1]] ?? "" });
        else for (const ch of part) tokens.push({ kind: "char", ch });
    }
    return tokens;
}

/** Whether one character can satisfy both tokens. */
function overlap(p: PolicyToken, f: FormatToken): boolean {
    if (p.kind !== "char") return true; // a variable excludes at most two characters, so some character fits
    return f.kind === "char" ? f.ch === p.ch : !f.excludes.includes(p.ch);
}

/** Whether some ARN matches both the policy's Resource pattern and a resource type's ARN format. */
export function arnMatchesFormat(policyArn: string, format: string): boolean {
    const p = policyTokens(policyArn);
    const f = formatTokens(format);
    // State: i tokens of p and j of f consumed; `open` when f[j] is a variable that has taken a character.
    const seen = new Set<string>();
    const queue: [number, number, boolean][] = [[0, 0, false]];
    const push = (i: number, j: number, open: boolean) => {
        const key = `${i},${j},${open}`;
        if (!seen.has(key)) { seen.add(key); queue.push([i, j, open]); }
    };
    while (queue.length > 0) {
        const [i, j, open] = queue.shift()!;
        if (i === p.length && j === f.length) return true;
        if (p[i]?.kind === "any") push(i + 1, j, open); // * may match nothing
        if (open) push(i, j + 1, false); // a variable holds at least one character, then ends
        if (i < p.length && j < f.length && overlap(p[i], f[j])) {
            const nextI = p[i].kind === "any" ? i : i + 1;
            if (f[j].kind === "var") push(nextI, j, true);
            else push(nextI, j + 1, false);
        }
    }
    return false;
}

/** IAM's Resource grammar: "*" or an ARN, arn:partition:service:region:account:resource (wildcards allowed). */
export function isArnShaped(resource: string): boolean {
    return resource === "*" || /^arn:[^:]*:[^:]*:[^:]*:[^:]*:./.test(resource) || (resource.startsWith("arn:") && resource.includes("*"));
}
