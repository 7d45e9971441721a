/** The shell scripts under cloud-init/scripts/, shipped to hosts as files (shellchecked in the tests), and the apt keys under cloud-init/keys/. */
import * as fs from "fs";
import * as path from "path";
import { RoleFile } from "./role";
import { withoutCommentLines } from "./shipped-text";

export const SCRIPTS = {
    awsLib: "aws-lib.sh",
    fetchSecrets: "fetch-secrets.sh",
    s3Get: "s3-get.sh",
    appInstall: "app-install.sh",
    shardRaid: "shard-raid.sh",
    shardPostgres: "shard-postgres.sh",
    shardPromote: "shard-promote.sh",
    shardMove: "shard-move.sh",
    backupLib: "backup-lib.sh",
    shardBackup: "shard-backup.sh",
    shardRestore: "shard-restore.sh",
    redisAuth: "redis-auth.sh",
    redisDump: "redis-dump.sh",
    redisRestore: "redis-restore.sh",
    privateAddress: "private-address.sh",
    muninInstagram: "munin-instagram.sh",
    muninHtpasswd: "munin-htpasswd.sh",
    muninBackup: "munin-backup.sh",
    muninGearman: "munin-gearman.sh",
    gearmanQueueInit: "gearman-queue-init.sh",
    shardDirectorySync: "shard-directory-sync.sh",
    toolsInstall: "tools-install.sh",
    hostMetrics: "host-metrics.sh",
    startUnits: "start-units.sh",
} as const;
export type ScriptName = keyof typeof SCRIPTS;

/**
 * Scripts a host needs only once it runs (operations, not boot): shipped as the "host tools" tarball in the
 * artifacts bucket (components/host-tools.ts) and installed by instagram-tools-install, not in user data.
 */
export const HOST_TOOLS: readonly ScriptName[] = ["shardMove", "shardPromote", "shardBackup", "shardRestore", "hostMetrics"];

export const SCRIPTS_DIR = path.join(__dirname, "scripts");

/** An apt repository's signing key, ASCII-armored, from cloud-init/keys/ (shipped in user data: see AptSource). */
export function aptKey(file: string): string {
    return fs.readFileSync(path.join(__dirname, "keys", file), "utf8");
}

/** Where a script is installed on a host: /usr/local/sbin/instagram-<name>. */
export function scriptPath(name: ScriptName): string {
    return `/usr/local/sbin/instagram-${SCRIPTS[name].replace(/\.sh$/, "")}`;
}

const contents = new Map<ScriptName, string>();

/**
 * What a host gets of a script: its code without the whole-line comments (their explanation stays in the
 * repository). User data is at most 16 KiB even gzipped, and a shard host ships six scripts. The scripts
 * have no here-documents, so a line starting with # is always a comment.
 */
export function shippedScript(text: string): string {
    return withoutCommentLines(text, "#");
}

/** A script as a RoleFile; each script is read from disk once per process (every host of a tier ships it). */
export function scriptFile(name: ScriptName, installPath = scriptPath(name)): RoleFile {
    if (!contents.has(name)) contents.set(name, shippedScript(fs.readFileSync(path.join(SCRIPTS_DIR, SCRIPTS[name]), "utf8")));
    return { path: installPath, content: contents.get(name)!, permissions: "0755" };
}

/** The host tools as the tarball holds them: each script under its installed name (instagram-...). */
export function hostToolFiles(): { name: string; content: string }[] {
    return HOST_TOOLS.map((tool) => {
        const file = scriptFile(tool);
        return { name: path.basename(file.path), content: file.content };
    });
}
