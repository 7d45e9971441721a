/**
 * The programs the local stack runs, and the Debian/Ubuntu packages that provide them. `up` checks them all
 * before it starts anything; `install-deps` installs the missing ones with apt-get (as root), without letting
 * the packages start their own copies of the daemons (they would hold the ports the local hosts need).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";

export interface Requirement {
    readonly program: string;
    readonly pkg: string;
    readonly found: () => boolean;
}

const onPath = (program: string) => () => spawnSync("sh", ["-c", `command -v ${program}`]).status === 0;
/** The PostgreSQL servers installed here, by major version, the newest first. */
export function installedPostgresMajors(): string[] {
    const base = "/usr/lib/postgresql";
    const majors = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => /^\d+$/.test(v) && fs.existsSync(`${base}/${v}/bin/postgres`)) : [];
    return majors.sort((a, b) => Number(b) - Number(a));
}
const postgresServer = () => installedPostgresMajors().length > 0;
/** The PostgreSQL major the local hosts run: the newest installed, else the one the `postgresql` package would bring. */
function postgresMajor(): string {
    const installed = installedPostgresMajors()[0];
    if (installed) return installed;
    const depends = spawnSync("apt-cache", ["depends", "postgresql"], { encoding: "utf8" }).stdout ?? "";
    return /Depends: postgresql-(\d+)\b/.exec(depends)?.[1] ?? "15";
}

export const REQUIREMENTS: readonly Requirement[] = [
    { program: "postgres", pkg: "postgresql", found: postgresServer },
    { program: "pg_ctlcluster", pkg: "postgresql-common", found: onPath("pg_ctlcluster") },
    { program: "psql", pkg: "postgresql-client", found: onPath("psql") },
    // The search host's PostGIS, built for the server's major version (Debian and Ubuntu name it so).
    { program: "PostGIS", get pkg() { return `postgresql-${postgresMajor()}-postgis-3`; }, found: () => fs.existsSync(`/usr/share/postgresql/${postgresMajor()}/extension/postgis.control`) },
    { program: "pgbouncer", pkg: "pgbouncer", found: onPath("pgbouncer") },
    { program: "pgbackrest", pkg: "pgbackrest", found: onPath("pgbackrest") },
    { program: "redis-server", pkg: "redis-server", found: onPath("redis-server") },
    { program: "redis-cli", pkg: "redis-tools", found: onPath("redis-cli") },
    { program: "memcached", pkg: "memcached", found: onPath("memcached") },
    { program: "gearmand", pkg: "gearman-job-server", found: onPath("gearmand") },
    { program: "gearadmin", pkg: "gearman-tools", found: onPath("gearadmin") },
    { program: "nginx", pkg: "nginx", found: onPath("nginx") },
    { program: "munin-node", pkg: "munin-node", found: onPath("munin-node") },
    { program: "munin-update", pkg: "munin", found: () => fs.existsSync("/usr/share/munin/munin-update") },
    { program: "openssl", pkg: "openssl", found: onPath("openssl") },
    { program: "vmtouch", pkg: "vmtouch", found: onPath("vmtouch") },
    { program: "unshare", pkg: "util-linux", found: onPath("unshare") },
];

/** Not needed to run the stack, installed with it: the load generator of `npm run bench:local`. */
export const BENCH_REQUIREMENTS: readonly Requirement[] = [
    { program: "wrk", pkg: "wrk", found: onPath("wrk") },
];

export function missingRequirements(of: readonly Requirement[] = REQUIREMENTS): Requirement[] {
    return of.filter((r) => !r.found());
}

export function missingMessage(missing: readonly Requirement[]): string {
    const pkgs = [...new Set(missing.map((m) => m.pkg))];
    return `missing ${missing.map((m) => m.program).join(", ")}: install the packages ${pkgs.join(" ")}\n` +
        `  (as root: npm run local -- install-deps, or apt-get install -y ${pkgs.join(" ")}; as a user, put sudo in front)`;
}

/** apt-get install the missing packages; returns apt-get's exit status. */
export function installDeps(): number {
    if (process.getuid?.() !== 0) throw new Error("install-deps runs apt-get and must run as root (as a user: sudo npm run local -- install-deps)");
    const pkgs = [...new Set(missingRequirements([...REQUIREMENTS, ...BENCH_REQUIREMENTS]).map((m) => m.pkg))];
    if (pkgs.length === 0) {
        console.log("install-deps: every program the local stack needs is installed");
        return 0;
    }
    // policy-rc.d exiting 101 is Debian's switch for "do not start services while installing".
    const policy = "/usr/sbin/policy-rc.d";
    const added = !fs.existsSync(policy);
    if (added) fs.writeFileSync(policy, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
    try {
        const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
        console.log(`install-deps: apt-get install -y ${pkgs.join(" ")}`);
        const update = spawnSync("apt-get", ["update"], { stdio: "inherit", env });
        if (update.status !== 0) return update.status ?? 1;
        return spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...pkgs], { stdio: "inherit", env }).status ?? 1;
    } finally {
        if (added) fs.rmSync(policy, { force: true });
    }
}
