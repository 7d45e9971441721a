/** The shell scripts under cloud-init/scripts/, shipped to hosts as files (shellchecked in the tests). */
import * as fs from "fs";
import * as path from "path";
import { RoleFile } from "./role";

export const SCRIPTS = {
    fetchSecrets: "fetch-secrets.sh",
    shardRaid: "shard-raid.sh",
    shardPostgres: "shard-postgres.sh",
    shardPromote: "shard-promote.sh",
    redisAuth: "redis-auth.sh",
    privateAddress: "private-address.sh",
    muninInstagram: "munin-instagram.sh",
    muninHtpasswd: "munin-htpasswd.sh",
} as const;
export type ScriptName = keyof typeof SCRIPTS;

export const SCRIPTS_DIR = path.join(__dirname, "scripts");

/** Where a script is installed on a host: /usr/local/sbin/instagram-<name>. */
export function scriptPath(name: ScriptName): string {
    return `/usr/local/sbin/instagram-${SCRIPTS[name].replace(/\.sh$/, "")}`;
}

export function scriptFile(name: ScriptName, installPath = scriptPath(name)): RoleFile {
    return { path: installPath, content: fs.readFileSync(path.join(SCRIPTS_DIR, SCRIPTS[name]), "utf8"), permissions: "0755" };
}
