/**
 * Push notifications (Instagram sent them through pyapns and node2dm): what a device token looks like per
 * platform, the settings of Apple's APNs (HTTP/2, provider-token auth) and Firebase Cloud Messaging (HTTP v1,
 * OAuth2), and the limits both services set. Pure: the stack's validation, the app's environment and the
 * workers read them from here.
 */
import { createPrivateKey } from "crypto";

export const PUSH_PLATFORMS = ["ios", "android"] as const;
export type PushPlatform = (typeof PUSH_PLATFORMS)[number];

/** Devices a user may have registered; registering one more forgets the one registered longest ago. */
export const MAX_DEVICES_PER_USER = 10;

/**
 * An APNs device token is 32 bytes, sent as hex; Apple warns it may grow, so up to 100 bytes are taken. An FCM
 * registration token is opaque URL-safe text (about 150-180 characters today).
 */
const TOKEN_FORMAT: Record<PushPlatform, { pattern: RegExp; says: string }> = {
    ios: { pattern: /^(?:[0-9a-f]{2}){32,100}$/, says: "an APNs device token: 64 to 200 lower-case hex digits" },
    android: { pattern: /^[A-Za-z0-9_:-]{32,4096}$/, says: "an FCM registration token: 32 to 4096 letters, digits, '_', ':' or '-'" },
};

/** The problem with a token for a platform, or undefined when it has the platform's form. */
export function deviceTokenProblem(platform: PushPlatform, token: string): string | undefined {
    const f = TOKEN_FORMAT[platform];
    return f.pattern.test(token) ? undefined : `token must be ${f.says}`;
}

export const APNS_ENVIRONMENTS = ["production", "sandbox"] as const;
export type ApnsEnvironment = (typeof APNS_ENVIRONMENTS)[number];
export const APNS_ENDPOINTS: Record<ApnsEnvironment, string> = {
    production: "https://api.push.apple.com",
    sandbox: "https://api.sandbox.push.apple.com",
};
/** APNs refuses a payload over 4 KB (alert notifications). */
export const APNS_MAX_PAYLOAD_BYTES = 4096;
/** apns-collapse-id is at most 64 bytes. */
export const APNS_MAX_COLLAPSE_ID_BYTES = 64;
/**
 * Apple rejects a provider token older than an hour (ExpiredProviderToken) and one refreshed more often than
 * every 20 minutes (TooManyProviderTokenUpdates): a worker signs one and reuses it for 50 minutes.
 */
export const APNS_TOKEN_REFRESH_SECONDS = 50 * 60;
/** How long APNs keeps trying a device that is offline (apns-expiration): a day, then the notification is stale. */
export const PUSH_EXPIRATION_SECONDS = 24 * 3600;

export const FCM_ENDPOINT = "https://fcm.googleapis.com";
export const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
/** An OAuth2 access token is used until this long before it expires, then a new one is fetched. */
export const FCM_TOKEN_MARGIN_SECONDS = 300;

/**
 * Events for one recipient, kind and photo that arrive within this window of the first are sent as one
 * notification ("alice and 4 others liked your photo").
 */
export const PUSH_COALESCE_MS = 2000;
/** Tries of one notification to one device on 429/5xx/connection errors, with back-off between. */
export const PUSH_ATTEMPTS = 3;
export const PUSH_BACKOFF_BASE_MS = 250;

/** APNs provider-token settings from the stack config (the .p8 key itself is a secret, not here). */
export interface ApnsSettings {
    /** The Apple developer team ID (the JWT's iss). */
    readonly teamId: string;
    /** The ID of the .p8 signing key (the JWT's kid). */
    readonly keyId: string;
    /** The app's bundle ID (apns-topic). */
    readonly topic: string;
    readonly environment: ApnsEnvironment;
}

export interface FcmSettings {
    /** The Firebase project (projects/<id>/messages:send). */
    readonly projectId: string;
}

export interface PushSettings {
    readonly apns?: ApnsSettings;
    readonly fcm?: FcmSettings;
}

/** Apple's team and key IDs: 10 upper-case letters or digits. */
export const APPLE_ID = /^[A-Z0-9]{10}$/;
/** A bundle ID: reverse-DNS, letters, digits, '-' and '.'. */
export const BUNDLE_ID = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
/** A Google Cloud project ID: 6-30 characters, lower-case letters, digits and dashes, starting with a letter. */
export const GCP_PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/** The problem with an APNs .p8 key (PEM text), or undefined when it is an EC P-256 private key, as Apple issues. */
export function apnsKeyProblem(pem: string): string | undefined {
    if (!/-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----/.test(pem)) return "the .p8 file Apple issued (PEM text between BEGIN and END PRIVATE KEY)";
    try {
        const key = createPrivateKey(pem);
        if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") return "an EC P-256 private key (Apple's .p8 signing key); this is another kind of key";
    } catch {
        return "a readable PEM private key (the .p8 file as Apple issued it)";
    }
    return undefined;
}

/** A Google service account key (the JSON file the console downloads), as the FCM sender needs it. */
export interface ServiceAccount {
    readonly clientEmail: string;
    readonly privateKey: string;
    readonly tokenUri: string;
    readonly projectId?: string;
}

/** A service account from its JSON text, or a sentence saying what is wrong (never quoting the key). */
export function parseServiceAccount(text: string): ServiceAccount | string {
    let value: Record<string, unknown>;
    try {
        value = JSON.parse(text);
    } catch {
        return "not JSON (expected the service account key file Google's console downloads)";
    }
    if (value?.type !== "service_account") return 'a service account key file ("type": "service_account")';
    const { client_email, private_key, token_uri, project_id } = value;
    if (typeof client_email !== "string" || !/^[^@\s]+@[^@\s]+$/.test(client_email)) return "client_email must be the service account's address";
    if (typeof private_key !== "string") return "private_key is missing";
    try {
        const key = createPrivateKey(private_key);
        if (key.asymmetricKeyType !== "rsa") return "private_key must be an RSA key (as Google issues them)";
    } catch {
        return "private_key is not a readable PEM private key";
    }
    let uri: URL;
    try {
        uri = new URL(String(token_uri));
    } catch {
        return "token_uri must be an https:// URL (Google's is https://oauth2.googleapis.com/token)";
    }
    if (uri.protocol !== "https:") return "token_uri must be an https:// URL";
    return { clientEmail: client_email, privateKey: private_key, tokenUri: uri.toString(), projectId: typeof project_id === "string" ? project_id : undefined };
}
