/**
 * Push notifications' settings from the app's environment and credentials (core/push.ts): each platform is
 * on only when all of its settings and its credential are there and valid; otherwise it is off, and `off`
 * says why (/readyz shows it; the server is ready either way, since push is optional).
 */
import { APP_CREDENTIALS, APP_ENV } from "../../core/app-contract";
import {
    APNS_ENDPOINTS, APNS_ENVIRONMENTS, ApnsEnvironment, ApnsSettings, apnsKeyProblem, APPLE_ID, BUNDLE_ID, FCM_ENDPOINT, GCP_PROJECT_ID, parseServiceAccount, ServiceAccount,
} from "../../core/push";

export interface PushConfig {
    readonly apns?: { readonly settings: ApnsSettings; readonly key: string; readonly endpoint: string };
    readonly fcm?: { readonly projectId: string; readonly account: ServiceAccount; readonly endpoint: string };
    /** Per platform that is off: why. */
    readonly off: readonly string[];
    /** Settings that are present but wrong (these also make /readyz name them as problems). */
    readonly problems: readonly string[];
}

/** An https://HOST[:PORT] stand-in endpoint, or a sentence saying what is wrong. */
function endpoint(text: string): string | undefined {
    try {
        const u = new URL(text);
        return u.protocol === "https:" && (u.pathname === "/" || u.pathname === "") && !u.search ? u.origin : undefined;
    } catch {
        return undefined;
    }
}

export function loadPushConfig(env: NodeJS.ProcessEnv, credential: (name: string, variable: string) => string | undefined): PushConfig {
    const E = APP_ENV;
    const off: string[] = [];
    const problems: string[] = [];
    let apns: PushConfig["apns"];
    const teamId = env[E.apnsTeamId];
    const keyId = env[E.apnsKeyId];
    const topic = env[E.apnsTopic];
    const key = credential(APP_CREDENTIALS.apnsKey, E.apnsKey);
    if (!teamId && !keyId && !topic) {
        off.push(`apns: off (${E.apnsTeamId}, ${E.apnsKeyId} and ${E.apnsTopic} are not set)`);
    } else {
        const environment = (env[E.apnsEnvironment] ?? "production") as ApnsEnvironment;
        const wrong = [
            ...(!teamId || !APPLE_ID.test(teamId) ? [`${E.apnsTeamId}: expected Apple's 10-character team ID`] : []),
            ...(!keyId || !APPLE_ID.test(keyId) ? [`${E.apnsKeyId}: expected the 10-character ID of the .p8 key`] : []),
            ...(!topic || !BUNDLE_ID.test(topic) ? [`${E.apnsTopic}: expected the app's bundle ID, such as com.example.photos`] : []),
            ...(!APNS_ENVIRONMENTS.includes(environment) ? [`${E.apnsEnvironment}: expected ${APNS_ENVIRONMENTS.join(" or ")}`] : []),
        ];
        const standIn = env[E.apnsEndpoint] ? endpoint(env[E.apnsEndpoint]!) : undefined;
        if (env[E.apnsEndpoint] && !standIn) wrong.push(`${E.apnsEndpoint}: expected https://HOST[:PORT]`);
        const keyProblem = key ? apnsKeyProblem(key) : undefined;
        if (keyProblem) wrong.push(`APNs key (credential ${APP_CREDENTIALS.apnsKey}): must be ${keyProblem}`);
        if (wrong.length > 0) {
            problems.push(...wrong.map((w) => `push: ${w}`));
            off.push("apns: off (its settings are wrong; see the problems)");
        } else if (!key) {
            off.push(`apns: off (no key: credential ${APP_CREDENTIALS.apnsKey} is empty and ${E.apnsKey} is not set)`);
        } else {
            apns = { settings: { teamId: teamId!, keyId: keyId!, topic: topic!, environment }, key, endpoint: standIn ?? APNS_ENDPOINTS[environment] };
        }
    }
    let fcm: PushConfig["fcm"];
    const projectId = env[E.fcmProjectId];
    const accountText = credential(APP_CREDENTIALS.fcmServiceAccount, E.fcmServiceAccount);
    if (!projectId) {
        off.push(`fcm: off (${E.fcmProjectId} is not set)`);
    } else {
        const wrong: string[] = [];
        if (!GCP_PROJECT_ID.test(projectId)) wrong.push(`${E.fcmProjectId}: expected a Firebase project ID (6-30 lower-case letters, digits, dashes)`);
        const standIn = env[E.fcmEndpoint] ? endpoint(env[E.fcmEndpoint]!) : undefined;
        if (env[E.fcmEndpoint] && !standIn) wrong.push(`${E.fcmEndpoint}: expected https://HOST[:PORT]`);
        const account = accountText ? parseServiceAccount(accountText) : undefined;
        if (typeof account === "string") wrong.push(`FCM service account (credential ${APP_CREDENTIALS.fcmServiceAccount}): ${account}`);
        if (wrong.length > 0) {
            problems.push(...wrong.map((w) => `push: ${w}`));
            off.push("fcm: off (its settings are wrong; see the problems)");
        } else if (!account) {
            off.push(`fcm: off (no service account: credential ${APP_CREDENTIALS.fcmServiceAccount} is empty and ${E.fcmServiceAccount} is not set)`);
        } else {
            fcm = { projectId, account: account as ServiceAccount, endpoint: standIn ?? FCM_ENDPOINT };
        }
    }
    return { apns, fcm, off, problems };
}
