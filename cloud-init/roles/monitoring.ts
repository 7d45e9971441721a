/**
 * The Munin master: polls every host's munin-node and renders HTML, served by nginx on loopback behind
 * basic auth (the password is a stack secret). Operators reach it with SSM port forwarding.
 */
import { RoleSpec } from "../role";
import { MuninNode, muninMasterConf, nginxMuninSite } from "../configs/munin-master";
import { scriptFile, scriptPath } from "../scripts";
import { secretFilePath } from "../../core/secrets";

export const MUNIN_HTPASSWD = "/etc/nginx/munin.htpasswd";

export function monitoringRole(nodes: readonly MuninNode[]): RoleSpec {
    return {
        roles: ["monitoring"],
        // Debian's munin depends on "cron | cron-daemon | systemd-sysv" and ships only a cron job: on an image
        // without cron (systemd satisfies the dependency) munin-cron would never run. Named, then.
        packages: ["munin", "cron", "nginx", "openssl"],
        files: [
            { path: "/etc/munin/munin-conf.d/instagram.conf", content: muninMasterConf(nodes), permissions: "0644", defer: true },
            { path: "/etc/nginx/sites-available/munin", content: nginxMuninSite({ htpasswdFile: MUNIN_HTPASSWD }), permissions: "0644", defer: true },
            scriptFile("muninHtpasswd"),
        ],
        commands: [
            [scriptPath("muninHtpasswd"), secretFilePath("munin-web"), MUNIN_HTPASSWD],
            ["ln", "-sfn", "/etc/nginx/sites-available/munin", "/etc/nginx/sites-enabled/munin"],
            ["rm", "-f", "/etc/nginx/sites-enabled/default"],
        ],
        // cron runs munin-cron every 5 minutes: enabled here rather than trusted to the package's defaults.
        services: ["nginx", "cron"],
        secrets: ["munin-web"],
    };
}
