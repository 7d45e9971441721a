/**
 * An app host: nginx in front of the gunicorn-style app server. The server arrives as a release of the app
 * bundle (tools/build-app.ts), downloaded from the artifacts bucket, verified and installed by
 * instagram-app-install; Node.js comes from NodeSource's signed repository at the configured version.
 */
import { AptSource, RoleSpec } from "../role";
import { nginxAppSite } from "../configs/nginx-app";
import { scriptFile, scriptPath } from "../scripts";
import { APP_COUNTERS, APP_ENV_FILE, APP_HOME, APP_SOCKET, APP_STATS_FILE, appEnvironmentVariables, AppRuntimeSettings } from "../../core/app-contract";

/** NodeSource's repository signing key (https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key). */
export const NODESOURCE_KEY_FINGERPRINT = "6F71F525282841EEDAF851B42F59B5F99B1BE0B4";

export function nodesourceApt(nodeVersion: string): { source: AptSource; pkg: string } {
    const major = nodeVersion.split(".")[0];
    return {
        source: {
            file: "nodesource.list",
            source: `deb [signed-by=$KEY_FILE] https://deb.nodesource.com/node_${major}.x nodistro main`,
            keyid: NODESOURCE_KEY_FINGERPRINT,
        },
        // NodeSource's package version for Node X.Y.Z; naming it exactly keeps Ubuntu's own nodejs out.
        pkg: `nodejs=${nodeVersion}-1nodesource1`,
    };
}

/** One release of the app bundle: where it is and what its SHA-256 must be. */
export interface AppReleaseRef {
    /** s3://BUCKET/KEY */
    readonly url: string;
    readonly sha256: string;
}

/** What an app host is told: the app's runtime settings (its photos in S3), plus what the host itself needs. */
export interface AppParams extends Omit<AppRuntimeSettings, "statsFile" | "mediaDir"> {
    readonly mediaBucket: string;
    /** Proxies nginx trusts for the client address (the load balancer's subnets). */
    readonly vpcCidr: string;
    readonly release: AppReleaseRef;
    /** Node.js from NodeSource, exactly this version. */
    readonly nodeVersion: string;
}

/** The app server's environment file (core/app-contract.ts); no secrets here (systemd hands them over as credentials). */
export function appEnvironment(p: AppParams): string {
    const env = appEnvironmentVariables({ ...p, statsFile: APP_STATS_FILE });
    // systemd EnvironmentFile: single-quoted values are taken literally, so none may hold a quote.
    for (const [k, v] of Object.entries(env)) if (v.includes("'")) throw new Error(`app.env value ${k} holds a single quote: ${v}`);
    return `${Object.entries(env).map(([k, v]) => `${k}='${v}'`).join("\n")}\n`;
}

/**
 * The app's Munin plugins read the server's stats file, which lives in the unit's runtime directory (0750,
 * group www-data). Munin runs plugins as nobody; the www-data group lets them in, and nothing more.
 */
export function muninInstagramPluginConf(statsFile: string): string {
    return `[instagram_*]\ngroup www-data\nenv.statsfile ${statsFile}\n`;
}

const MUNIN_PLUGIN = "/usr/local/share/munin/plugins/instagram_";

export function appRole(p: AppParams): RoleSpec {
    const node = nodesourceApt(p.nodeVersion);
    return {
        roles: ["app"],
        packages: ["nginx", node.pkg],
        aptSources: [node.source],
        files: [
            { path: APP_ENV_FILE, content: appEnvironment(p), permissions: "0644" },
            scriptFile("s3Get"),
            scriptFile("appInstall"),
            {
                path: "/etc/nginx/sites-available/instagram",
                content: nginxAppSite({ upstreamSocket: APP_SOCKET, trustedProxyCidrs: [p.vpcCidr], maxUploadMiB: p.maxUploadMiB }),
                permissions: "0644",
                defer: true,
            },
            scriptFile("muninInstagram", MUNIN_PLUGIN),
            { path: "/etc/munin/plugin-conf.d/instagram", content: muninInstagramPluginConf(APP_STATS_FILE), permissions: "0644", defer: true },
        ],
        commands: [
            ["sh", "-c", `id -u instagram >/dev/null 2>&1 || useradd --system --home-dir ${APP_HOME} --shell /usr/sbin/nologin instagram`],
            // Releases stay root-owned: the service's user can read its code but not change it.
            [scriptPath("appInstall"), p.release.url, p.release.sha256],
            ["ln", "-sfn", "/etc/nginx/sites-available/instagram", "/etc/nginx/sites-enabled/instagram"],
            ["rm", "-f", "/etc/nginx/sites-enabled/default"],
            ...APP_COUNTERS.map((c) => ["ln", "-sfn", MUNIN_PLUGIN, `/etc/munin/plugins/instagram_${c}`]),
            ["systemctl", "daemon-reload"],
        ],
        services: ["nginx", "instagram-app", "munin-node"],
        secrets: ["postgres-app", "redis-auth"],
    };
}
