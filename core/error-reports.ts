/**
 * Error reports (the Sentry role): what a DSN is. Pure: the stack config checks the user's DSN with it before
 * anything is stored, and the app checks the credential it is handed with the same rule.
 */

export interface SentryDsn {
    readonly protocol: "https" | "http";
    readonly publicKey: string;
    readonly host: string;
    readonly port?: number;
    readonly projectId: string;
}

/** A hostname of loopback: plain http is allowed there only (the stand-ins of the tests and of one machine). */
const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])$/;

/**
 * `https://PUBLIC_KEY@HOST[:PORT]/PROJECT_ID`, as Sentry's project settings show it (Client Keys). The public
 * key is 32 hex digits; the old secret key (`KEY:SECRET@`) is refused, since no current SDK needs it and it
 * would be a credential written into every event's auth header. A string: what is wrong.
 */
export function parseSentryDsn(raw: string): SentryDsn | string {
    const shape = "a Sentry DSN, https://PUBLIC_KEY@HOST/PROJECT_ID, as the project's Client Keys (DSN) page shows it";
    let url: URL;
    try {
        url = new URL(raw.trim());
    } catch {
        return `${shape}: not a URL`;
    }
    const protocol = url.protocol.replace(/:$/, "");
    if (protocol !== "https" && !(protocol === "http" && LOOPBACK_HOST.test(url.hostname))) return `${shape}: https only (plain http is for a loopback stand-in)`;
    if (!/^[0-9a-f]{32}$/i.test(url.username)) return `${shape}: the public key before the @ must be 32 hex digits`;
    if (url.password) return `${shape}: without the deprecated secret key after the public key (KEY:SECRET@)`;
    if (url.search || url.hash) return `${shape}: without a query or fragment`;
    const project = /^\/(\d{1,20})$/.exec(url.pathname);
    if (!project) return `${shape}: the path must be the numeric project ID alone`;
    return { protocol, publicKey: url.username.toLowerCase(), host: url.hostname, ...(url.port ? { port: Number(url.port) } : {}), projectId: project[1] };
}

/** The app's release as Sentry is told it: the SHA-256 of its bundle, from the directory it was installed into. */
export const RELEASE_DIR = /\/releases\/([0-9a-f]{64})(?:\/|$)/;
