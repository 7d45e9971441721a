/** A shard host: PostgreSQL (primary or standby) with pgbouncer in front, data on a RAID of EBS volumes. */
import { RoleSpec } from "../role";
import { postgresqlConf } from "../configs/postgresql";
import { pgbouncerIni } from "../configs/pgbouncer";
import { PostgresSizing } from "../../components/sizing";
import { UbuntuRelease } from "../../components/config";

/** The PostgreSQL major version in each supported Ubuntu release's archive. */
export const POSTGRES_VERSION: Record<UbuntuRelease, number> = { "22.04": 14, "24.04": 16 };

export const DATABASE = "instagram";

export interface ShardParams {
    readonly shard: number;
    readonly kind: "primary" | "standby";
    readonly ubuntuRelease: UbuntuRelease;
    readonly sizing: PostgresSizing;
    /** EBS volume IDs; the RAID script finds each by its NVMe serial. */
    readonly volumeIds: readonly string[];
    readonly raidLevel: 0 | 10;
    readonly volumeGiB: number;
    readonly firstLogicalShard: number;
    readonly lastLogicalShard: number;
    /** Address of the primary, for a standby. */
    readonly primaryAddress?: string;
}

/** Usable bytes of the array: RAID 10 mirrors, so half. */
export function raidCapacityGiB(p: Pick<ShardParams, "raidLevel" | "volumeGiB" | "volumeIds">): number {
    const total = p.volumeGiB * p.volumeIds.length;
    return p.raidLevel === 10 ? total / 2 : total;
}

export function shardRole(p: ShardParams): RoleSpec {
    if (p.kind === "standby" && !p.primaryAddress) throw new Error(`shard ${p.shard} standby needs its primary's address`);
    const version = POSTGRES_VERSION[p.ubuntuRelease];
    // A standby may lag by at most a tenth of the array before its slot stops holding WAL for it.
    const maxSlotWalKeepSizeMiB = Math.max(1024, Math.floor((raidCapacityGiB(p) * 1024) / 10));
    const shardInfo = {
        shard: p.shard,
        kind: p.kind,
        volumeIds: p.volumeIds,
        raidLevel: p.raidLevel,
        logicalShards: { first: p.firstLogicalShard, last: p.lastLogicalShard },
        ...(p.primaryAddress ? { primaryAddress: p.primaryAddress } : {}),
    };
    return {
        roles: [`postgres-${p.kind}`],
        packages: ["postgresql", "pgbouncer", "mdadm", "xfsprogs", "nvme-cli", "libdbd-pg-perl"],
        files: [
            { path: "/etc/instagram/shard.json", content: `${JSON.stringify(shardInfo, null, 2)}\n`, permissions: "0644" },
            {
                path: `/etc/postgresql/${version}/main/conf.d/instagram.conf`,
                content: postgresqlConf({ sizing: p.sizing, listenAddresses: "*", maxSlotWalKeepSizeMiB }),
                permissions: "0644",
                owner: "postgres:postgres",
                defer: true,
            },
            {
                path: "/etc/pgbouncer/pgbouncer.ini",
                content: pgbouncerIni({
                    sizing: p.sizing,
                    database: DATABASE,
                    listenAddress: "*",
                    postgresHost: "127.0.0.1",
                    authFile: "/etc/pgbouncer/userlist.txt",
                    authUser: "pgbouncer",
                }),
                permissions: "0640",
                owner: "postgres:postgres",
                defer: true,
            },
        ],
        commands: [],
        services: ["postgresql", "pgbouncer"],
    };
}
