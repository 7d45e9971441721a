/** The Munin master: polls every host's munin-node and renders HTML, served on loopback only. */
import { RoleSpec } from "../role";
import { MuninNode, muninMasterConf, nginxMuninSite } from "../configs/munin-master";

export function monitoringRole(nodes: readonly MuninNode[]): RoleSpec {
    return {
        roles: ["monitoring"],
        packages: ["munin", "nginx"],
        files: [
            { path: "/etc/munin/munin-conf.d/instagram.conf", content: muninMasterConf(nodes), permissions: "0644", defer: true },
            { path: "/etc/nginx/sites-available/munin", content: nginxMuninSite(), permissions: "0644", defer: true },
        ],
        commands: [
            ["ln", "-sfn", "/etc/nginx/sites-available/munin", "/etc/nginx/sites-enabled/munin"],
            ["rm", "-f", "/etc/nginx/sites-enabled/default"],
        ],
        services: ["nginx"],
    };
}
