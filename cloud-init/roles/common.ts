/** What every host runs, whatever its tier: monitoring agent, time sync, security updates, identity. */
import { RoleSpec } from "../role";
import { muninNodeConf } from "../configs/munin-node";

export interface CommonParams {
    readonly stack: string;
    readonly role: string;
    readonly hostname: string;
    readonly muninMasterIp: string;
}

export function commonRole(p: CommonParams): RoleSpec {
    return {
        roles: ["common"],
        packages: ["munin-node", "chrony", "unattended-upgrades", "curl"],
        files: [
            {
                path: "/etc/instagram/host.json",
                content: `${JSON.stringify({ stack: p.stack, role: p.role, hostname: p.hostname }, null, 2)}\n`,
                permissions: "0644",
            },
            { path: "/etc/munin/munin-node.conf", content: muninNodeConf({ hostname: p.hostname, masterIp: p.muninMasterIp }), permissions: "0644", defer: true },
            {
                // Amazon Time Sync answers on a link-local address in every region, with no internet route needed.
                path: "/etc/chrony/sources.d/amazon-time-sync.sources",
                content: "server 169.254.169.123 prefer iburst minpoll 4 maxpoll 4\n",
                permissions: "0644",
                defer: true,
            },
            {
                path: "/etc/apt/apt.conf.d/20auto-upgrades",
                content: 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n',
                permissions: "0644",
            },
        ],
        commands: [],
        services: ["chrony"],
        // Munin graphs the host; the host serves without it (start-units.sh reports it as degraded).
        optionalServices: ["munin-node"],
        secrets: [],
    };
}
