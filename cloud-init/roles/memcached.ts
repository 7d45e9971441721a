/** A memcached node of the pool the app hashes over. */
import { RoleSpec } from "../role";
import { memcachedConf } from "../configs/memcached";
import { MemcachedSizing } from "../../components/sizing";

export function memcachedRole(sizing: MemcachedSizing): RoleSpec {
    return {
        roles: ["memcached"],
        packages: ["memcached"],
        files: [{ path: "/etc/memcached.conf", content: memcachedConf({ sizing, listenAddress: "0.0.0.0" }), permissions: "0644", defer: true }],
        commands: [],
        services: ["memcached"],
    };
}
