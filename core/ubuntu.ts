/** The Ubuntu releases the stack runs on, and what each ships where the roles depend on it. */

export const UBUNTU_RELEASES = ["22.04", "24.04"] as const;
export type UbuntuRelease = (typeof UBUNTU_RELEASES)[number];

export interface ReleaseFacts {
    readonly postgresVersion: number;
    readonly redisMajor: number;
    /** The release's pgbackrest package (universe): jammy 2.37-1, noble 2.50-1build2. */
    readonly pgbackrestVersion: string;
}

export const RELEASE_FACTS: Record<UbuntuRelease, ReleaseFacts> = {
    "22.04": { postgresVersion: 14, redisMajor: 6, pgbackrestVersion: "2.37" },
    "24.04": { postgresVersion: 16, redisMajor: 7, pgbackrestVersion: "2.50" },
};

/**
 * pgBackRest asks IMDS for a session token before it reads the instance's credentials only since 2.39
 * ("Add AWS IMDSv2 support", release notes of 2022-05-16); before, it sends token-less GETs. Every host
 * requires IMDSv2 (components/host.ts: httpTokens "required"), where such a GET answers 401.
 */
export const PGBACKREST_IMDSV2_SINCE = "2.39";

const versionAtLeast = (version: string, since: string): boolean => {
    const [a, b] = [version, since].map((v) => v.split(".").map(Number));
    for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
    return true;
};

/** Why the stack cannot run on `release`, or undefined when it can. */
export function releaseRefusal(release: UbuntuRelease): string | undefined {
    const { pgbackrestVersion } = RELEASE_FACTS[release];
    if (versionAtLeast(pgbackrestVersion, PGBACKREST_IMDSV2_SINCE)) return undefined;
    const usable = UBUNTU_RELEASES.filter((r) => versionAtLeast(RELEASE_FACTS[r].pgbackrestVersion, PGBACKREST_IMDSV2_SINCE));
    return `${usable.join(" or ")}: Ubuntu ${release} ships pgBackRest ${pgbackrestVersion}, which cannot use the IMDSv2 tokens every host requires (support came in ${PGBACKREST_IMDSV2_SINCE}), so the shards' WAL archiving and backups would fail with HTTP 401 from the instance metadata service`;
}
