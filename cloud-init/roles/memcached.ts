/** A memcached node of the pool the app hashes over, listening on loopback and its private address only. */
import { RoleSpec } from "../role";
import { memcachedConf } from "../configs/memcached";
import { scriptFile, scriptPath } from "../scripts";
import { MemcachedSizing } from "../../core/sizing";

const TEMPLATE = "/etc/instagram/memcached.conf.in";

export function memcachedRole(sizing: MemcachedSizing): RoleSpec {
    return {
        roles: ["memcached"],
        packages: ["memcached"],
        files: [
            { path: TEMPLATE, content: memcachedConf({ sizing, listenAddress: "127.0.0.1,@PRIVATE_IP@" }), permissions: "0644" },
            scriptFile("privateAddress"),
        ],
        commands: [[scriptPath("privateAddress"), TEMPLATE, "/etc/memcached.conf"]],
        services: ["memcached"],
        secrets: [],
    };
}
