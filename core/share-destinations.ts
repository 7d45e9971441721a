/**
 * Where an upload can be shared to (Instagram posted to Twitter and Facebook from Gearman workers): named
 * HTTPS endpoints from the stack config (`instagram:shareDestinations`), each with its own timeout and number
 * of attempts. Pure: the stack's validation and the app's environment parse them the same way.
 */

export interface ShareDestination {
    /** What an upload names in `?share=`: lower-case letters, digits and dashes. */
    readonly name: string;
    /** https://HOST/PATH the worker POSTs the photo's JSON to. */
    readonly url: string;
    /** Each attempt's limit, in seconds. */
    readonly timeoutSeconds: number;
    /** Tries before the share is dead-lettered. */
    readonly attempts: number;
}

export const SHARE_DEFAULTS = { timeoutSeconds: 5, attempts: 4 } as const;
/** Back-off before retry n (1-based): BASE × 2^(n-1), each with up to as much again of random jitter. */
export const SHARE_BACKOFF_BASE_MS = 500;

/** The longest a share job can take: every attempt timing out, plus the back-offs with their full jitter. */
export function shareJobBoundSeconds(d: ShareDestination): number {
    let backoffMs = 0;
    for (let n = 1; n < d.attempts; n++) backoffMs += 2 * SHARE_BACKOFF_BASE_MS * 2 ** (n - 1);
    return d.attempts * d.timeoutSeconds + backoffMs / 1000;
}

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/**
 * A list of destinations from JSON text, or a sentence saying what is wrong. `requirePort443`: on AWS the
 * hosts reach the internet on 443 only (core/security-rules.ts), so the stack refuses any other port.
 */
export function parseShareDestinations(text: string, requirePort443: boolean): ShareDestination[] | string {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        return "not JSON";
    }
    if (!Array.isArray(value)) return 'a JSON list such as [{"name": "twitter", "url": "https://share.example.com/twitter"}]';
    const out: ShareDestination[] = [];
    for (const [i, item] of value.entries()) {
        const d = (item ?? {}) as Record<string, unknown>;
        const where = `entry ${i}`;
        const extra = Object.keys(d).filter((k) => !["name", "url", "timeoutSeconds", "attempts"].includes(k));
        if (extra.length > 0) return `${where}: unknown field(s) ${extra.join(", ")} (allowed: name, url, timeoutSeconds, attempts)`;
        if (typeof d.name !== "string" || !NAME.test(d.name)) return `${where}: name must be 1-32 lower-case letters, digits or dashes`;
        if (out.some((o) => o.name === d.name)) return `${where}: name ${d.name} is listed twice`;
        let url: URL;
        try {
            url = new URL(String(d.url));
        } catch {
            return `${where} (${d.name}): url must be an https:// URL`;
        }
        if (url.protocol !== "https:" || url.username || url.password || url.hash || String(d.url).includes("'")) return `${where} (${d.name}): url must be https://HOST/PATH, with no credentials, fragment or quote`;
        if (requirePort443 && url.port !== "") return `${where} (${d.name}): url must use port 443 (hosts reach the internet on 443 only)`;
        const timeoutSeconds = d.timeoutSeconds ?? SHARE_DEFAULTS.timeoutSeconds;
        const attempts = d.attempts ?? SHARE_DEFAULTS.attempts;
        if (typeof timeoutSeconds !== "number" || !Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 30) return `${where} (${d.name}): timeoutSeconds must be a whole number from 1 to 30`;
        if (typeof attempts !== "number" || !Number.isInteger(attempts) || attempts < 1 || attempts > 10) return `${where} (${d.name}): attempts must be a whole number from 1 to 10`;
        out.push({ name: d.name, url: String(d.url), timeoutSeconds, attempts });
    }
    return out;
}
