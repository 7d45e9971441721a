/**
 * A RoleSpec says what runs on a host: packages, files, commands and services. `renderCloudConfig` turns one
 * into `#cloud-config` user data with js-yaml (never by gluing YAML strings), so the same spec can later be
 * applied to a local "host" by the one-machine target.
 */
import * as yaml from "js-yaml";
import { SecretName, secretFilePath, secretParameterName } from "../core/secrets";

export interface RoleFile {
    readonly path: string;
    readonly content: string;
    /** Octal mode as a string, e.g. "0644". */
    readonly permissions: string;
    readonly owner?: string;
    /**
     * Write after packages are installed: for files owned by a package's user, and for files inside
     * directories a package creates (writing them first can make the package's own setup refuse to run).
     */
    readonly defer?: boolean;
}

/**
 * A third-party apt repository, trusted through one signing key shipped in the user data. Not fetched from a
 * keyserver: cloud-init hands a bare keyserver name to gpg, which asks it over HKP on port 11371, and the
 * hosts' egress allows 80 and 443 only (the fetch would time out and the whole package install fail).
 */
export interface AptSource {
    /** File name under /etc/apt/sources.list.d/, e.g. "nodesource.list". */
    readonly file: string;
    /** The deb line; cloud-init replaces $KEY_FILE with the keyring it writes, so only that key signs it. */
    readonly source: string;
    /** The signing key, ASCII-armored (cloud-init/keys/). */
    readonly key: string;
    /** Its 40-hex-digit fingerprint, which the tests check the shipped key against. */
    readonly fingerprint: string;
}

export interface RoleSpec {
    /** Names of the roles merged into this spec, in order (common first). */
    readonly roles: readonly string[];
    readonly packages: readonly string[];
    readonly files: readonly RoleFile[];
    /** Commands run once at first boot, after packages and files, each as an argv list (no shell parsing). */
    readonly commands: readonly (readonly string[])[];
    /**
     * systemd units enabled and (re)started after the commands, so they pick up the written config; the boot
     * fails if one is not active within START_DEADLINE_S (twice: see start-units.sh).
     */
    readonly services: readonly string[];
    /** Units started the same way that the host serves without (Munin's node): one that does not start is reported as degraded, and the boot goes on. */
    readonly optionalServices?: readonly string[];
    /** Secrets fetched from SSM at boot, before the commands, into root-only files (secretFilePath). */
    readonly secrets: readonly SecretName[];
    /** Repositories added before packages are installed. */
    readonly aptSources?: readonly AptSource[];
    /** A script of the role calls AWS (aws-lib.sh) though the host fetches no secret (which ships it anyway). */
    readonly awsLib?: boolean;
}

export const ROLE_DONE_MARKER = "/var/lib/instagram/role-done";

export function emptyRole(name: string): RoleSpec {
    return { roles: [name], packages: [], files: [], commands: [], services: [], secrets: [] };
}

/** Merge specs in order; a later file at the same path is a conflict, not an override. */
export function mergeRoles(...specs: RoleSpec[]): RoleSpec {
    const files = specs.flatMap((s) => s.files);
    const seen = new Set<string>();
    for (const f of files) {
        if (seen.has(f.path)) throw new Error(`two roles write ${f.path}: ${specs.map((s) => s.roles.join("+")).join(", ")}`);
        seen.add(f.path);
    }
    const unique = <T>(xs: T[]) => [...new Set(xs)];
    // A unit one role needs is needed, even where another role could do without it.
    const services = unique(specs.flatMap((s) => s.services));
    return {
        roles: specs.flatMap((s) => s.roles),
        packages: unique(specs.flatMap((s) => s.packages)),
        files,
        commands: specs.flatMap((s) => s.commands),
        services,
        optionalServices: unique(specs.flatMap((s) => s.optionalServices ?? [])).filter((u) => !services.includes(u)),
        secrets: unique(specs.flatMap((s) => s.secrets)),
        aptSources: specs.flatMap((s) => s.aptSources ?? []),
        awsLib: specs.some((s) => s.awsLib),
    };
}

export interface RenderOptions {
    readonly hostname: string;
    /** The Pulumi stack, which names the SSM path of the secrets. */
    readonly stack: string;
}

export const SECRETS_MANIFEST = "/etc/instagram/secrets.list";
export const FETCH_SECRETS = "/usr/local/sbin/instagram-fetch-secrets";
/** Shell functions the scripts that call AWS source (credentials from IMDSv2, retries). */
export const AWS_LIB = "/usr/local/lib/instagram/aws-lib.sh";
export const START_UNITS = "/usr/local/sbin/instagram-start-units";
/**
 * How long a unit may take to become active at first boot, per try (start-units.sh tries twice). systemd's
 * own 90 s is too short for a slow CPU (a t3 host out of credits; the boot test's emulation): munin-node runs
 * every plugin's `config` before it reports ready.
 */
export const START_DEADLINE_S = 300;

/** The texts of the scripts a host runs at boot (see scripts.ts): those that fetch its secrets, and the one that starts its units. */
export interface BootScripts {
    readonly fetchSecrets: string;
    readonly awsLib: string;
    readonly startUnits: string;
}

/** The fetch-secrets manifest: one line per secret, "PARAMETER DEST OWNER MODE". */
export function secretsManifest(stack: string, secrets: readonly SecretName[]): string {
    return secrets.map((s) => `${secretParameterName(stack, s)} ${secretFilePath(s)} root:root 0600\n`).join("");
}

/**
 * The #cloud-config document for a host. Order at boot: files (deferred ones after packages), packages,
 * then runcmd: fetch the secrets, the roles' commands, enable and start the units (start-units.sh, with a
 * deadline of its own), the finished marker. The fetch scripts are shipped only to hosts that have secrets.
 */
export function renderCloudConfig(spec: RoleSpec, options: RenderOptions, bootScripts?: BootScripts): string {
    const secretFiles: RoleFile[] = [];
    const fetch: string[][] = [];
    if (spec.secrets.length > 0) {
        if (!bootScripts) throw new Error(`role ${spec.roles.join("+")} has secrets but no fetch-secrets script was given`);
        secretFiles.push(
            { path: AWS_LIB, content: bootScripts.awsLib, permissions: "0644" },
            { path: FETCH_SECRETS, content: bootScripts.fetchSecrets, permissions: "0755" },
            { path: SECRETS_MANIFEST, content: secretsManifest(options.stack, spec.secrets), permissions: "0600" },
        );
        fetch.push([FETCH_SECRETS, SECRETS_MANIFEST]);
    } else if (spec.awsLib) {
        if (!bootScripts) throw new Error(`role ${spec.roles.join("+")} calls AWS but no aws-lib.sh was given`);
        secretFiles.push({ path: AWS_LIB, content: bootScripts.awsLib, permissions: "0644" });
    }
    const optional = spec.optionalServices ?? [];
    const units = [...spec.services, ...optional];
    if (units.length > 0) {
        if (!bootScripts) throw new Error(`role ${spec.roles.join("+")} starts units but no start-units script was given`);
        secretFiles.push({ path: START_UNITS, content: bootScripts.startUnits, permissions: "0755" });
    }
    const files = [...secretFiles, ...spec.files];
    const doc = {
        hostname: options.hostname,
        preserve_hostname: false,
        package_update: true,
        package_upgrade: false,
        ...(spec.aptSources && spec.aptSources.length > 0
            ? { apt: { sources: Object.fromEntries(spec.aptSources.map((a) => [a.file, { source: a.source, key: a.key }])) } }
            : {}),
        packages: [...spec.packages],
        write_files: files.map((f) => ({
            path: f.path,
            content: f.content,
            permissions: f.permissions,
            owner: f.owner ?? "root:root",
            ...(f.defer ? { defer: true } : {}),
        })),
        runcmd: [
            // cloud-init runs runcmd as one sh script without -e: without this, a failed step (a RAID that
            // could not assemble) would be followed by the rest and the finished marker, and
            // `cloud-init status` would say done.
            "set -e",
            ...fetch,
            ...spec.commands.map((c) => [...c]),
            ...(units.length > 0
                ? [
                      ["systemctl", "enable", ...units],
                      [START_UNITS, "--deadline", String(START_DEADLINE_S), ...spec.services, ...(optional.length > 0 ? ["--optional", ...optional] : [])],
                  ]
                : []),
            ["install", "-d", "-m", "0755", "/var/lib/instagram"],
            ["sh", "-c", `echo "${spec.roles.join(" ")}" > ${ROLE_DONE_MARKER}`],
        ],
    };
    return `#cloud-config\n${yaml.dump(doc, { lineWidth: -1, noRefs: true, quoteStyle: "double" })}`;
}

/** EC2 takes at most 16 KiB of raw user data; larger documents are gzipped (cloud-init unpacks them). */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;
