/** What each supported Ubuntu release ships, where the roles depend on it. */
import { UbuntuRelease } from "../components/config";

export interface ReleaseFacts {
    readonly postgresVersion: number;
    readonly redisMajor: number;
}

export const RELEASE_FACTS: Record<UbuntuRelease, ReleaseFacts> = {
    "22.04": { postgresVersion: 14, redisMajor: 6 },
    "24.04": { postgresVersion: 16, redisMajor: 7 },
};
