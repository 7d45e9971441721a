/**
 * A Gearman job server: gearmand from the distribution's package on the host's private address, its
 * background jobs in a SQLite queue under /var/lib/gearman (written at submit: a restart or crash loses
 * none; in WAL mode, set before gearmand first opens it), and Munin plugins for queue depth and workers per function from its admin protocol.
 */
import { RoleSpec } from "../role";
import { GEARMAN_QUEUE_DIR, GEARMAN_QUEUE_FILE, gearmanDefaults, muninGearmanPluginConf } from "../configs/gearman";
import { scriptFile, scriptPath } from "../scripts";

const DEFAULTS_TEMPLATE = "/etc/instagram/gearman-job-server.in";
const MUNIN_TEMPLATE = "/etc/instagram/munin-gearman.conf.in";
const MUNIN_PLUGIN = "/usr/local/share/munin/plugins/gearman_";

export function gearmanRole(): RoleSpec {
    return {
        roles: ["gearman"],
        packages: ["gearman-job-server", "gearman-tools"],
        files: [
            { path: DEFAULTS_TEMPLATE, content: gearmanDefaults({ listenAddress: "@PRIVATE_IP@" }), permissions: "0644" },
            { path: MUNIN_TEMPLATE, content: muninGearmanPluginConf("@PRIVATE_IP@"), permissions: "0644" },
            scriptFile("privateAddress"),
            scriptFile("muninGearman", MUNIN_PLUGIN),
            scriptFile("gearmanQueueInit"),
        ],
        commands: [
            ["install", "-d", "-o", "gearman", "-g", "gearman", "-m", "0750", GEARMAN_QUEUE_DIR],
            ["runuser", "-u", "gearman", "--", scriptPath("gearmanQueueInit"), GEARMAN_QUEUE_FILE],
            [scriptPath("privateAddress"), DEFAULTS_TEMPLATE, "/etc/default/gearman-job-server"],
            [scriptPath("privateAddress"), MUNIN_TEMPLATE, "/etc/munin/plugin-conf.d/gearman"],
            ["ln", "-sfn", MUNIN_PLUGIN, "/etc/munin/plugins/gearman_queue"],
            ["ln", "-sfn", MUNIN_PLUGIN, "/etc/munin/plugins/gearman_workers"],
        ],
        services: ["gearman-job-server"],
        optionalServices: ["munin-node"],
        secrets: [],
    };
}
