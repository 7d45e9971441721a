/** The stack's secrets by name, who reads them, and where they live in SSM. Pure: shared by program and roles. */

export const SECRET_NAMES = [
    "postgres-app",
    "postgres-replication",
    "pgbouncer-auth",
    "pgbackrest-cipher",
    "redis-auth",
    "munin-web",
    "search-app",
    "search-replication",
    "search-pgbouncer-auth",
] as const;
export type GeneratedSecretName = (typeof SECRET_NAMES)[number];
/**
 * Secrets the user brings (stack config secrets): the APNs .p8 signing key, the FCM service account and the
 * Sentry DSN. Each is stored and fetched only when set; a host that would read one it lacks gets an empty
 * file, and that feature (a push platform, error reports) is off.
 */
export const PROVIDED_SECRETS = ["apns-key", "fcm-service-account", "sentry-dsn"] as const;
export type ProvidedSecretName = (typeof PROVIDED_SECRETS)[number];
export type SecretName = GeneratedSecretName | ProvidedSecretName;

/** Which tier reads which secret; a tier not listed for a secret cannot read it. */
export const SECRET_READERS: Record<SecretName, readonly string[]> = {
    "postgres-app": ["app", "shard", "worker"],
    "postgres-replication": ["shard"],
    "pgbouncer-auth": ["shard"],
    // The backup repository's encryption passphrase: without it the bucket's contents are noise.
    "pgbackrest-cipher": ["shard"],
    "redis-auth": ["app", "redis", "worker"],
    "munin-web": ["monitoring"],
    // The search tier's own passwords: a leaked shard secret opens no search host, and the reverse.
    "search-app": ["app", "worker", "search"],
    "search-replication": ["search"],
    "search-pgbouncer-auth": ["search"],
    // The job workers send notifications; the app hosts run them too when there is no worker tier.
    "apns-key": ["app", "worker"],
    "fcm-service-account": ["app", "worker"],
    // Both run the app's code, whose errors are reported.
    "sentry-dsn": ["app", "worker"],
};

/** The SSM path of a secret; hosts are told the same path in their manifest. */
export function secretParameterName(stack: string, secret: SecretName): string {
    return `/instagram/${stack}/${secret}`;
}

/** The directory a host keeps its fetched secrets in (root only). */
export const SECRETS_DIR = "/etc/instagram/secrets";

/** Where a host keeps a secret after fetching it at boot (root only; services get it via systemd credentials or their own files). */
export function secretFilePath(secret: SecretName): string {
    return `${SECRETS_DIR}/${secret}`;
}
