/** The Ubuntu releases the stack runs on, and what each ships where the roles depend on it. */

export const UBUNTU_RELEASES = ["22.04", "24.04"] as const;
export type UbuntuRelease = (typeof UBUNTU_RELEASES)[number];

export interface ReleaseFacts {
    readonly postgresVersion: number;
    readonly redisMajor: number;
}

export const RELEASE_FACTS: Record<UbuntuRelease, ReleaseFacts> = {
    "22.04": { postgresVersion: 14, redisMajor: 6 },
    "24.04": { postgresVersion: 16, redisMajor: 7 },
};
