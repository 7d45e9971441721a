/**
 * The app's runtime contract: where the app lives on a host, and the environment the host hands the app
 * server. The host side (cloud-init/roles/app.ts, local/services/app.ts, app/deploy/unit.ts) writes it;
 * the app side (app/api/config.ts, app/server/options.ts) reads it. One definition for both.
 */
import { PORTS } from "./ports";
import { ShardRange } from "./shard-map";
import { ShareDestination } from "./share-destinations";
import { PushSettings } from "./push";

/** Releases are unpacked under APP_HOME/releases/<sha256>; APP_HOME/current links to the running one. */
export const APP_HOME = "/opt/instagram";
export const APP_CURRENT = `${APP_HOME}/current`;
/** The unit's runtime directory (0750, group www-data): the socket nginx proxies to and the stats file. */
export const APP_RUNTIME_DIR = "/run/instagram-app";
export const APP_SOCKET = `${APP_RUNTIME_DIR}/app.sock`;
export const APP_STATS_FILE = `${APP_RUNTIME_DIR}/stats`;
export const APP_PID_FILE = `${APP_RUNTIME_DIR}/master.pid`;
export const APP_ENV_FILE = "/etc/instagram/app.env";
export const APP_UNIT_NAME = "instagram-app.service";
/** The job workers (`instagram-app work`): their own unit, runtime directory and stats file. */
export const WORK_UNIT_NAME = "instagram-work.service";
export const WORK_RUNTIME_DIR = "/run/instagram-work";
export const WORK_STATS_FILE = `${WORK_RUNTIME_DIR}/stats`;
export const WORK_PID_FILE = `${WORK_RUNTIME_DIR}/master.pid`;
/** The job workers' --timeout: a job running longer gets its worker aborted and runs again elsewhere. */
export const JOB_TIMEOUT_SECONDS = 120;
/** On an app host: the copy of the shard directory that instagram-shard-directory-sync keeps from SSM. */
export const APP_SHARD_DIRECTORY_FILE = "/var/lib/instagram/shard-directory.json";
/** The service that keeps it (cloud-init/roles/app.ts). */
export const SHARD_DIRECTORY_SYNC_SERVICE = "instagram-shard-directory";
/** How often an app host's sync service reads the directory's SSM parameter (one reader per host). */
export const SHARD_DIRECTORY_SYNC_INTERVAL_S = 5;
/** How often each worker re-reads its host's directory file, unless its environment says otherwise. */
export const SHARD_DIRECTORY_REFRESH_MS = 1000;
/**
 * How long after a directory write every app worker routes by it, at most: on AWS the sync service's interval
 * plus a worker's refresh; on one machine (the file is the directory) a refresh; each with a margin. A move
 * keeps the new copy frozen this long after its flip, so no host writes it while another still reads the old.
 */
export const DIRECTORY_ROUTING_BOUND_MS = {
    aws: SHARD_DIRECTORY_SYNC_INTERVAL_S * 1000 + SHARD_DIRECTORY_REFRESH_MS + 2000,
    local: SHARD_DIRECTORY_REFRESH_MS + 500,
} as const;

/** Largest photo upload nginx and the app accept. */
export const MAX_UPLOAD_MIB = 10;

/** A photo never changes under its key: CloudFront (from the S3 object) and the local edge serve it with this. */
export const PHOTO_CACHE_CONTROL = "public, max-age=31536000, immutable";

/** Counters the app writes to its stats file and Munin's instagram_* plugins graph. */
export const APP_COUNTERS = ["requests", "uploads", "signups", "logins", "login_failures", "likes", "comments"] as const;
export type AppCounter = (typeof APP_COUNTERS)[number];
/** Counters the job workers' master writes to WORK_STATS_FILE (per function: jobs_<fn>_done, _retried, _failed). */
export const WORK_COUNTERS = [
    "jobs", "jobs_fanout_done", "jobs_fanout_retried", "jobs_fanout_failed", "jobs_share_done", "jobs_share_retried", "jobs_share_failed",
    "jobs_push_done", "jobs_push_retried", "jobs_push_failed",
    // Per notification to one device (app/jobs/push-job.ts); Munin's instagram_push graphs them per minute.
    "push_sent", "push_failed", "push_tokens_removed",
] as const;

/** How long a session lasts from login: 30 days. */
export const SESSION_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Limits as `<count>/<seconds>`. Attempts: signups per username (probing which names are taken), and an
 * address's logins and signups together (the guard on scrypt's CPU, and mass signups). Failed logins
 * (app/api/rate-limit.ts, LoginThrottle): the free failures of one address at one username before it is slowed
 * down (2^n s), forgotten that long after the last; and the failures one address may make in all (a spray).
 */
export const AUTH_LIMITS = { signupPerUsername: "10/300", authPerAddress: "100/300", loginThrottle: "5/900", loginFailuresPerAddress: "100/900" } as const;

/** The environment variables the app server reads, by meaning. */
export const APP_ENV = {
    /** Worker processes (gunicorn's name). */
    workers: "WEB_CONCURRENCY",
    region: "AWS_REGION",
    logicalShards: "INSTAGRAM_LOGICAL_SHARDS",
    /** JSON list of ShardRange. */
    shardMap: "INSTAGRAM_SHARD_MAP",
    /** host:port of each physical shard's pgbouncer, by physical shard index, comma-separated. */
    pgbouncerHosts: "INSTAGRAM_PGBOUNCER_HOSTS",
    /** host:port */
    redis: "INSTAGRAM_REDIS",
    /** host:port of each memcached node, comma-separated. */
    memcached: "INSTAGRAM_MEMCACHED",
    mediaBucket: "INSTAGRAM_MEDIA_BUCKET",
    /** A local directory instead of the bucket (tests, the one-machine stack). */
    mediaDir: "INSTAGRAM_MEDIA_DIR",
    mediaBaseUrl: "INSTAGRAM_MEDIA_BASE_URL",
    /** An S3-compatible endpoint instead of AWS's (tests). */
    s3Endpoint: "INSTAGRAM_S3_ENDPOINT",
    /** The file the app re-reads the live shard directory from (absolute path). */
    shardDirectory: "INSTAGRAM_SHARD_DIRECTORY",
    /** How often it re-reads it, in ms (default 5000). */
    shardDirectoryRefreshMs: "INSTAGRAM_SHARD_DIRECTORY_REFRESH_MS",
    maxUploadBytes: "INSTAGRAM_MAX_UPLOAD_BYTES",
    statsFile: "INSTAGRAM_STATS_FILE",
    /** host:port of each gearmand, comma-separated: uploads queue their fan-out there; unset: fan out inline. */
    gearmanServers: "INSTAGRAM_GEARMAN_SERVERS",
    /** Job worker processes of `instagram-app work` on this host (its unit's -w). */
    jobWorkers: "INSTAGRAM_JOB_WORKERS",
    /** JSON list of ShareDestination (core/share-destinations.ts): where uploads may be shared to. */
    shareDestinations: "INSTAGRAM_SHARE_DESTINATIONS",
    /** Push notifications (core/push.ts): APNs provider-token settings; the .p8 key comes as a credential. */
    apnsTeamId: "INSTAGRAM_APNS_TEAM_ID",
    apnsKeyId: "INSTAGRAM_APNS_KEY_ID",
    apnsTopic: "INSTAGRAM_APNS_TOPIC",
    /** production or sandbox. */
    apnsEnvironment: "INSTAGRAM_APNS_ENVIRONMENT",
    /** https://HOST:PORT of an APNs stand-in instead of Apple's (tests, the one-machine stack). */
    apnsEndpoint: "INSTAGRAM_APNS_ENDPOINT",
    /** The Firebase project; the service account key comes as a credential. */
    fcmProjectId: "INSTAGRAM_FCM_PROJECT_ID",
    /** https://HOST:PORT of an FCM stand-in instead of Google's (tests, the one-machine stack). */
    fcmEndpoint: "INSTAGRAM_FCM_ENDPOINT",
    /** host:port of the search tier's primary (its pgbouncer, or PostgreSQL in tests); unset: no search, photos' locations are kept only. */
    search: "INSTAGRAM_SEARCH",
    /** host:port of the search standby's pgbouncer: searches are read there while the primary is away. */
    searchStandby: "INSTAGRAM_SEARCH_STANDBY",
    /** The request handler's module (the server's --app). */
    appModule: "INSTAGRAM_APP_MODULE",
    /** Seconds a session lasts from login (default SESSION_TTL_SECONDS). */
    sessionTtlSeconds: "INSTAGRAM_SESSION_TTL_SECONDS",
    /** The scrypt cost new password hashes use, `N=…,r=…,p=…` (default: app/api/passwords.ts). */
    passwordScrypt: "INSTAGRAM_PASSWORD_SCRYPT",
    /** Signup attempts per username, `<attempts>/<seconds>` (default AUTH_LIMITS.signupPerUsername). */
    signupLimitPerUsername: "INSTAGRAM_SIGNUP_LIMIT_PER_USERNAME",
    /** Free failed logins per (address, username) and how long they are remembered, `<failures>/<seconds>` (default AUTH_LIMITS.loginThrottle). */
    loginThrottle: "INSTAGRAM_LOGIN_THROTTLE",
    /** Failed logins per address, any username, `<failures>/<seconds>` (default AUTH_LIMITS.loginFailuresPerAddress). */
    loginFailuresPerAddress: "INSTAGRAM_LOGIN_FAILURES_PER_ADDRESS",
    /** Login and signup attempts per client address, `<attempts>/<seconds>` (default AUTH_LIMITS.authPerAddress). */
    authLimitPerAddress: "INSTAGRAM_AUTH_LIMIT_PER_ADDRESS",
    /** Passwords where systemd credentials are not available (local, tests). */
    dbPassword: "INSTAGRAM_DB_PASSWORD",
    redisPassword: "INSTAGRAM_REDIS_PASSWORD",
    searchPassword: "INSTAGRAM_SEARCH_PASSWORD",
    /** The APNs .p8 key (PEM) and the FCM service account (JSON) where credentials are not available. */
    apnsKey: "INSTAGRAM_APNS_KEY",
    fcmServiceAccount: "INSTAGRAM_FCM_SERVICE_ACCOUNT",
    /** The Sentry DSN where credentials are not available; empty or unset: error reports off. */
    sentryDsn: "INSTAGRAM_SENTRY_DSN",
    /** The environment error reports are filed under (the stack's name). */
    sentryEnvironment: "INSTAGRAM_SENTRY_ENVIRONMENT",
    /** The release error reports name, where the app does not run from an installed release (tests, development). */
    release: "INSTAGRAM_RELEASE",
} as const;

/** systemd credentials (LoadCredential names) the unit hands the app: $CREDENTIALS_DIRECTORY/NAME. */
export const APP_CREDENTIALS = { dbPassword: "postgres-app", redisPassword: "redis-auth", searchPassword: "search-app", apnsKey: "apns-key", fcmServiceAccount: "fcm-service-account", sentryDsn: "sentry-dsn" } as const;
/** The search tier's password, as a credential name: generated for every stack, so the units always load it. */
export const SEARCH_CREDENTIAL = APP_CREDENTIALS.searchPassword;

/** What a host knows about the other tiers, as the app needs it. */
export interface AppRuntimeSettings {
    readonly workers: number;
    readonly region: string;
    readonly logicalShards: number;
    readonly shardMap: readonly ShardRange[];
    /** pgbouncer address of each physical shard's primary, by physical shard index. */
    readonly pgbouncerHosts: readonly string[];
    readonly redisHost: string;
    readonly memcachedHosts: readonly string[];
    /** The S3 bucket, or undefined to keep media in mediaDir. */
    readonly mediaBucket?: string;
    readonly mediaDir?: string;
    readonly mediaBaseUrl: string;
    readonly maxUploadMiB: number;
    readonly statsFile: string;
    /** The file holding the live shard directory; unset: the shard map alone. */
    readonly shardDirectory?: string;
    /** The gearmand hosts (uploads queue their fan-out there); none: uploads fan out themselves. */
    readonly gearmanHosts?: readonly string[];
    /** Job worker processes on this host; 0 or unset: the host runs none. */
    readonly jobWorkers?: number;
    readonly shareDestinations?: readonly ShareDestination[];
    /** Push notifications; a platform left out is off. */
    readonly push?: PushSettings;
    /** The search tier's primary (its pgbouncer); unset: no search tier. */
    readonly searchHost?: string;
    /** Its streaming standby, when it has one. */
    readonly searchStandbyHost?: string;
    /** Error reports: the environment they are filed under (the stack), when the stack has a Sentry DSN. */
    readonly errorReports?: { readonly environment: string };
}

/** The app server's environment for these settings; no secrets (they come as credentials). */
export function appEnvironmentVariables(s: AppRuntimeSettings): Record<string, string> {
    return {
        NODE_ENV: "production",
        [APP_ENV.workers]: String(s.workers),
        [APP_ENV.region]: s.region,
        [APP_ENV.logicalShards]: String(s.logicalShards),
        [APP_ENV.shardMap]: JSON.stringify(s.shardMap),
        [APP_ENV.pgbouncerHosts]: s.pgbouncerHosts.map((h) => `${h}:${PORTS.pgbouncer}`).join(","),
        [APP_ENV.redis]: `${s.redisHost}:${PORTS.redis}`,
        [APP_ENV.memcached]: s.memcachedHosts.map((h) => `${h}:${PORTS.memcached}`).join(","),
        ...(s.mediaBucket !== undefined ? { [APP_ENV.mediaBucket]: s.mediaBucket } : {}),
        ...(s.mediaDir !== undefined ? { [APP_ENV.mediaDir]: s.mediaDir } : {}),
        [APP_ENV.mediaBaseUrl]: s.mediaBaseUrl,
        [APP_ENV.maxUploadBytes]: String(s.maxUploadMiB * 1024 * 1024),
        [APP_ENV.statsFile]: s.statsFile,
        ...(s.shardDirectory !== undefined ? { [APP_ENV.shardDirectory]: s.shardDirectory } : {}),
        ...(s.gearmanHosts && s.gearmanHosts.length > 0 ? { [APP_ENV.gearmanServers]: s.gearmanHosts.map((h) => `${h}:${PORTS.gearman}`).join(",") } : {}),
        ...(s.jobWorkers ? { [APP_ENV.jobWorkers]: String(s.jobWorkers) } : {}),
        ...(s.shareDestinations && s.shareDestinations.length > 0 ? { [APP_ENV.shareDestinations]: JSON.stringify(s.shareDestinations) } : {}),
        ...(s.push?.apns ? {
            [APP_ENV.apnsTeamId]: s.push.apns.teamId,
            [APP_ENV.apnsKeyId]: s.push.apns.keyId,
            [APP_ENV.apnsTopic]: s.push.apns.topic,
            [APP_ENV.apnsEnvironment]: s.push.apns.environment,
        } : {}),
        ...(s.push?.fcm ? { [APP_ENV.fcmProjectId]: s.push.fcm.projectId } : {}),
        ...(s.searchHost ? { [APP_ENV.search]: `${s.searchHost}:${PORTS.pgbouncer}` } : {}),
        ...(s.searchHost && s.searchStandbyHost ? { [APP_ENV.searchStandby]: `${s.searchStandbyHost}:${PORTS.pgbouncer}` } : {}),
        ...(s.errorReports ? { [APP_ENV.sentryEnvironment]: s.errorReports.environment } : {}),
    };
}
