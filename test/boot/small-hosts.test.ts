/**
 * The app, Redis, memcached, gearman and Munin hosts boot together from the program's user data, on a private
 * segment with the addresses the program gave them (the VPC, as far as they can tell), each with its own
 * instance metadata and nothing else but the SSM and S3 stand-ins:
 *   - the app host downloads the release (the real bundle, built here) from "S3", verifies and installs
 *     it, and nginx answers /healthz from the app server's workers, also from another host;
 *   - Redis and memcached listen on loopback and their private address with the generated settings, and
 *     Redis wants the stack's password;
 *   - gearmand listens on its private address only, keeps a background job across a restart in its SQLite
 *     queue, and the app host's job workers (the dev stack has no worker hosts) register with it;
 *   - the search host (the dev stack's primary alone) builds its RAID 0 from its two volumes, runs PostgreSQL
 *     with PostGIS on it and pgbouncer in front, and the app host logs in there as the app does;
 *   - munin-node answers the Munin host's fetch and nobody else's, and the master's munin-update collects.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { HostUnderTest, stackUnderTest, writtenFile } from "./harness/hosts";
import { AwsStandIns, publishedMetrics } from "./harness/aws";
import { BootSession, expectBootDone, sh, tcpFromVm } from "./harness/session";
import { makeDisk, Vm } from "./harness/vm";
import { APP_CURRENT, APP_ENV_FILE, APP_HOME, APP_SHARD_DIRECTORY_FILE, SHARD_DIRECTORY_SYNC_SERVICE } from "../../core/app-contract";
import { shardDirectoryParameterName } from "../../core/shard-directory";

const HOSTS = ["app-0", "redis-primary", "memcached-0", "gearman-0", "search-primary", "munin"] as const;
type HostName = (typeof HOSTS)[number];

let session: BootSession;
const hosts = {} as Record<HostName, HostUnderTest>;
const vms = {} as Record<HostName, Vm>;
/** Each VM's IMDS/SSM/S3 stand-ins (what it asked them). */
const standIns = {} as Record<HostName, AwsStandIns>;
let release: { sha256: string; url: string };
let redisPassword: string;
let shardDirectory: string;
let searchPassword: string;

beforeAll(async () => {
    // The release the app host installs: this checkout's bundle, uploaded (to the stand-in) and pinned.
    const build = spawnSync("npm", ["run", "--silent", "build:app", "--", "--json"], { encoding: "utf8", cwd: path.resolve(__dirname, "../..") });
    if (build.status !== 0) throw new Error(`npm run build:app failed: ${build.stderr}`);
    const manifest = JSON.parse(build.stdout.trim().split("\n").pop()!) as { sha256: string; path: string };
    const stack = await stackUnderTest({ "instagram:appRelease": manifest.sha256 });
    release = { sha256: manifest.sha256, url: stack.outputs.appReleaseUrl as string };
    redisPassword = stack.parameters["/instagram/dev/redis-auth"];
    shardDirectory = stack.parameters[shardDirectoryParameterName("dev")];
    searchPassword = stack.parameters["/instagram/dev/search-app"];
    for (const name of HOSTS) hosts[name] = stack.host(name);
    session = new BootSession(stack, "127.0.16", "boot-hosts-");
    const objects = { [release.url.replace(/^s3:\//, "")]: fs.readFileSync(manifest.path) };
    // This machine has two cores. The app host boots first with both (its instance type has two vCPUs, and
    // on one emulated CPU its workers starved munin-node's start past systemd's timeout); then the other
    // others together with one each. Booted VMs sit idle while the next ones boot.
    const disks = (name: HostName) => hosts[name].volumeIds.map((volumeId, i) => ({ volumeId, file: makeDisk(path.join(session.dir, `${name}-vol${i}.img`), 1) }));
    for (const [names, cpus] of [[["app-0"], 2], [["redis-primary", "memcached-0", "gearman-0", "search-primary", "munin"], 1]] as const) {
        const launched = await Promise.all(names.map((name) => session.launch(hosts[name], { privateNet: true, cpus, objects, disks: disks(name) })));
        await Promise.all(launched.map(({ vm }) => session.ready(vm)));
        names.forEach((name, i) => {
            vms[name] = launched[i].vm;
            standIns[name] = launched[i].aws;
        });
    }
    // Six emulated hosts on two cores: about 20 minutes alone, past the config's 30 when the machine is shared
    // (a CI run beside other work saw the five small hosts take 1,100-1,260 s and the search host more).
}, 45 * 60_000);

afterAll(async () => {
    await session?.close();
});

describe.each(HOSTS)("%s", (name) => {
    test("cloud-init is done without an error and the role's marker is there", async () => {
        const role = { "app-0": "app-release app", "redis-primary": "redis-primary", "memcached-0": "memcached", "gearman-0": "gearman", "search-primary": "search-primary", munin: "monitoring" }[name];
        await expectBootDone(vms[name], `common ${role}`);
    });
});

describe("the app host", () => {
    test("installed the release it was given, after checking its SHA-256", async () => {
        const vm = vms["app-0"];
        expect(await sh(vm, `readlink -f ${APP_CURRENT}`)).toBe(`${APP_HOME}/releases/${release.sha256}`);
        expect(vm.consoleText()).toMatch(new RegExp(`downloaded ${release.url.replace(/[.]/g, "\\.")}`));
    });

    test("nginx, the app server and its workers are up, and /healthz answers through nginx, also from another host", async () => {
        const vm = vms["app-0"];
        expect(await sh(vm, "systemctl is-active nginx instagram-app munin-node")).toBe("active\nactive\nactive");
        const workers = Number(/WEB_CONCURRENCY='(\d+)'/.exec(writtenFile(hosts["app-0"], APP_ENV_FILE))![1]);
        const main = await sh(vm, "systemctl show -p MainPID --value instagram-app");
        expect(Number(await sh(vm, `pgrep -c -P ${main}`))).toBe(workers);
        expect(JSON.parse(await sh(vm, "curl -sf http://127.0.0.1/healthz")).status).toBe("ok");
        const fromMunin = await tcpFromVm(vms.munin, hosts["app-0"].privateIp, 80, `GET /healthz HTTP/1.0\r\nHost: ${hosts["app-0"].privateIp}\r\n\r\n`);
        expect(fromMunin).toMatch(/^HTTP\/1\.1 200/m);
        expect(fromMunin).toMatch(/"status":"ok"/);
    });

    test("keeps a copy of the shard directory from SSM, which the app's environment names", async () => {
        const vm = vms["app-0"];
        expect(await sh(vm, `systemctl is-active ${SHARD_DIRECTORY_SYNC_SERVICE}`)).toBe("active");
        expect(await sh(vm, `cat ${APP_SHARD_DIRECTORY_FILE}`)).toBe(shardDirectory);
        expect(writtenFile(hosts["app-0"], APP_ENV_FILE)).toContain(`INSTAGRAM_SHARD_DIRECTORY='${APP_SHARD_DIRECTORY_FILE}'`);
        expect(standIns["app-0"].ssmReads).toContain(shardDirectoryParameterName("dev"));
    });
});

describe("the Redis host", () => {
    const cli = (args: string) => `redis-cli -h ${hosts["redis-primary"].privateIp} ${args}`;

    test("listens on loopback and its private address with the generated settings, and wants the password", async () => {
        const vm = vms["redis-primary"];
        const conf = writtenFile(hosts["redis-primary"], "/etc/instagram/redis.conf.in");
        const maxMiB = Number(/^maxmemory (\d+)mb$/m.exec(conf)![1]);
        expect(await sh(vm, cli("ping"))).toMatch(/NOAUTH/);
        const auth = `REDISCLI_AUTH='${redisPassword}' `;
        expect(await sh(vm, auth + cli("ping"))).toBe("PONG");
        expect(await sh(vm, auth + cli("config get maxmemory"))).toBe(`maxmemory\n${maxMiB * 1024 * 1024}`);
        expect(await sh(vm, auth + cli("config get bind"))).toBe(`bind\n127.0.0.1 ${hosts["redis-primary"].privateIp}`);
        // No snapshots on the primary: `save` is empty (and sh() trims the empty line away).
        expect(await sh(vm, auth + cli("config get save"))).toBe("save");
    });

    test("the app host reaches it over the private network", async () => {
        const reply = await tcpFromVm(vms["app-0"], hosts["redis-primary"].privateIp, 6379, `AUTH ${redisPassword}\r\nPING\r\nQUIT\r\n`);
        expect(reply).toMatch(/\+OK\r\n\+PONG\r\n/);
    });
});

describe("the memcached host", () => {
    test("answers on its private address with the generated memory and connection limits", async () => {
        const conf = writtenFile(hosts["memcached-0"], "/etc/instagram/memcached.conf.in");
        const memoryMiB = Number(/^-m (\d+)$/m.exec(conf)![1]);
        const connections = Number(/^-c (\d+)$/m.exec(conf)![1]);
        const stats = await tcpFromVm(vms["app-0"], hosts["memcached-0"].privateIp, 11211, "stats settings\r\nquit\r\n");
        expect(stats).toMatch(new RegExp(`STAT maxbytes ${memoryMiB * 1024 * 1024}\\r`));
        expect(stats).toMatch(new RegExp(`STAT maxconns ${connections}\\r`));
        expect(await sh(vms["memcached-0"], "ss -ltnH 'sport = :11211' | awk '{print $4}' | sort")).toBe(`${hosts["memcached-0"].privateIp}:11211\n127.0.0.1:11211`);
    });

    test("instagram-start-units under real systemd: a unit slower than the deadline is retried once, then degrades the boot if optional and fails it if required", async () => {
        const vm = vms["memcached-0"];
        // A daemon that never says it is ready (Type=notify without the notification): what a munin-node
        // still running its plugins' `config` looks like to systemd on a CPU too slow for the deadline.
        await sh(vm, "printf '[Service]\\nType=notify\\nExecStart=/bin/sleep 600\\n' > /run/systemd/system/never-ready.service");
        const run = (args: string) => vm.exec(`DEGRADED_FILE=/run/degraded-test START_UNITS_DROPIN_DIR=/run/systemd/system /usr/local/sbin/instagram-start-units --deadline 4 ${args}; echo "exit=$?"`, 120_000);
        // (Alone: each daemon-reload and restart costs tens of seconds under emulation; the script reloads.)
        const optional = await run("--optional never-ready");
        expect(optional.out).toMatch(/exit=0/);
        expect(optional.err).toMatch(/not active within 4 s: never-ready\.service; restarting once more/);
        expect(optional.err).toMatch(/DEGRADED: never-ready\.service \(optional\)/);
        expect(await sh(vm, "cat /run/degraded-test")).toBe("never-ready.service");
        // The deadline is systemd's start timeout too, not only the script's wait.
        expect(await sh(vm, "systemctl show -p TimeoutStartUSec --value never-ready")).toBe("4s");
        expect(await sh(vm, "systemctl is-active memcached")).toBe("active");
        const required = await run("never-ready");
        expect(required.out).toMatch(/exit=1/);
        expect(required.err).toMatch(/never-ready\.service is not active after two starts of 4 s/);
        await sh(vm, "systemctl stop never-ready; rm -rf /run/systemd/system/never-ready.service*; systemctl reset-failed never-ready");
    });
});

describe("the gearman host", () => {
    const admin = (args: string) => `gearadmin -h ${hosts["gearman-0"].privateIp} ${args}`;

    test("gearmand listens on its private address only, with the SQLite queue the role names", async () => {
        const vm = vms["gearman-0"];
        expect(await sh(vm, "systemctl is-active gearman-job-server munin-node")).toBe("active\nactive");
        expect(await sh(vm, "ss -ltnH 'sport = :4730' | awk '{print $4}'")).toBe(`${hosts["gearman-0"].privateIp}:4730`);
        expect(await sh(vm, "ps -o args= -C gearmand")).toMatch(/--queue-type=libsqlite3 --libsqlite3-db=\/var\/lib\/gearman\/queue\.sqlite3/);
        expect(await sh(vm, "stat -c '%U %a' /var/lib/gearman")).toBe("gearman 750");
    });

    test("the app host's job workers register with it over the private network", async () => {
        expect(await sh(vms["app-0"], "systemctl is-active instagram-work")).toBe("active");
        const jobWorkers = Number(/INSTAGRAM_JOB_WORKERS='(\d+)'/.exec(writtenFile(hosts["app-0"], APP_ENV_FILE))![1]);
        const status = await sh(vms["gearman-0"], `until ${admin("--status")} | grep -q '^fanout'; do sleep 1; done; ${admin("--status")}`, 120_000);
        expect(status).toMatch(new RegExp(`^fanout\t\\d+\t\\d+\t${jobWorkers}$`, "m"));
    });

    test("a queued background job survives a restart of gearmand; Munin graphs the queue", async () => {
        const vm = vms["gearman-0"];
        await sh(vm, `echo probe | gearman -h ${hosts["gearman-0"].privateIp} -b -f boot_probe -u boot-probe-1`);
        await sh(vm, "systemctl restart gearman-job-server");
        expect(await sh(vm, `until ${admin("--status")} >/dev/null 2>&1; do sleep 1; done; ${admin("--status")} | grep '^boot_probe'`, 60_000)).toMatch(/^boot_probe\t1\t0\t0$/);
        expect(await sh(vm, "munin-run gearman_queue")).toMatch(/^boot_probe\.value 1$/m);
        expect(await sh(vm, "munin-run gearman_workers")).toMatch(/^fanout\.value \d+$/m);
    });
});

describe("the search host", () => {
    test("its two volumes are a RAID 0 array mounted on /data, with PostgreSQL's data there and PostGIS in the search database", async () => {
        const vm = vms["search-primary"];
        expect(hosts["search-primary"].volumeIds).toHaveLength(2);
        expect(await sh(vm, "cat /sys/block/md*/md/level /sys/block/md*/md/raid_disks")).toBe("raid0\n2");
        expect(await sh(vm, "findmnt -no FSTYPE /data")).toBe("xfs");
        expect(await sh(vm, "runuser -u postgres -- psql -tAc 'show data_directory'")).toMatch(/^\/data\/postgresql\/\d+\/main$/);
        expect(await sh(vm, "runuser -u postgres -- psql -d search -tAc \"SELECT extname FROM pg_extension WHERE extname = 'postgis'\"")).toBe("postgis");
        expect(await sh(vm, "systemctl is-active pgbouncer munin-node")).toBe("active\nactive");
        // No backups here: the index is rebuilt from the shards (no pgBackRest stanza, no archive_command).
        expect(await sh(vm, "runuser -u postgres -- psql -tAc 'show archive_mode'")).toBe("off");
        expect(await sh(vm, "munin-run postgres_size_search")).toMatch(/^search\.value \d+$/m);
    });

    test("the app host logs in through its pgbouncer as the app does, with the search bound on the role", async () => {
        const ip = hosts["search-primary"].privateIp;
        const psql = (sql: string) => `PGPASSWORD='${searchPassword}' psql -X -tA -h ${ip} -p 6432 -U search -d search -c "${sql}"`;
        expect(await sh(vms["app-0"], psql("SHOW statement_timeout"))).toBe("1s");
        expect(await sh(vms["app-0"], psql("SELECT count(*) FROM media_locations"))).toBe("0");
        // PostgreSQL itself is not for the app: only pgbouncer on this host and the replication of a standby.
        const direct = await vms["app-0"].exec(`PGPASSWORD='${searchPassword}' psql -X -tA -h ${ip} -p 5432 -U search -d search -c 'SELECT 1'`, 60_000);
        expect(direct.code).not.toBe(0);
        expect(direct.err).toMatch(/pg_hba\.conf rejects connection|no pg_hba\.conf entry/);
        // The app's own connection has a 2 s bound (app/api/search.ts). In this emulated VM, with the batch's other
        // hosts beside it on two cores, pgbouncer's first SCRAM logins can take longer than that (CI saw "connection
        // timeout" once), so /readyz is asked until it says up, for at most 90 s; the last answer is what fails.
        let ready: { search?: string } = {};
        for (const deadline = Date.now() + 90_000; ready.search !== "up" && Date.now() < deadline;) {
            ready = JSON.parse(await sh(vms["app-0"], "curl -s http://127.0.0.1/readyz"));
            if (ready.search !== "up") await new Promise((r) => setTimeout(r, 2000));
        }
        expect(ready.search).toBe("up");
    });
});

describe("the host metrics publisher", () => {
    test("Redis, Gearman and the search host publish their own figures to CloudWatch once a minute, signed, under the stack's namespace", async () => {
        const want: [HostName, string[]][] = [
            ["redis-primary", ["RedisMemoryUsedPercent"]],
            ["gearman-0", ["GearmanQueuedJobs"]],
            // A search primary does not archive: its data volume only (the array's device gives the IO figure).
            ["search-primary", ["DataVolumeIoBusyPercent", "DataVolumeUsedPercent"]],
        ];
        for (const [host, names] of want) {
            const deadline = Date.now() + 180_000;
            while (publishedMetrics(standIns[host], host).join() !== names.join() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2000));
            const journal = publishedMetrics(standIns[host], host).join() === names.join() ? "" : await sh(vms[host], "journalctl -u instagram-host-metrics.service -u instagram-host-metrics.timer --no-pager | tail -n 20; systemctl list-timers --all --no-pager | grep host-metrics || true");
            expect(publishedMetrics(standIns[host], host), `${host}: ${journal}`).toEqual(names);
            expect(standIns[host].metricPuts[0].get("Namespace")).toBe("Instagram/dev");
            expect(await sh(vms[host], "systemctl is-active instagram-host-metrics.timer")).toBe("active");
        }
    });
});

describe("Munin", () => {
    test("munin-node answers the Munin host's fetch, and refuses another host's", async () => {
        for (const name of ["app-0", "redis-primary", "memcached-0", "gearman-0", "search-primary"] as const) {
            const fetched = await tcpFromVm(vms.munin, hosts[name].privateIp, 4949, "fetch load\nquit\n");
            expect(fetched, name).toMatch(new RegExp(`^# munin node at ${name}\\n`, "m"));
            expect(fetched, name).toMatch(/^load\.value [0-9.]+$/m);
        }
        const refused = await tcpFromVm(vms["app-0"], hosts["redis-primary"].privateIp, 4949, "fetch load\nquit\n");
        expect(refused).not.toMatch(/munin node|load\.value/);
    });

    test("the master's munin-update collects from the hosts it lists, and cron runs it every 5 minutes", async () => {
        const vm = vms.munin;
        expect(await sh(vm, "systemctl is-active cron")).toBe("active");
        expect(await sh(vm, "grep -v '^#' /etc/cron.d/munin")).toMatch(/^\*\/5 \* \* \* \* +munin .*munin-cron/m);
        // cron's munin-cron may be running munin-update right now (every 5 minutes); it then holds the lock and
        // ours dies: wait for that run to end, and update again.
        for (let attempt = 1; ; attempt++) {
            const run = await vm.exec("runuser -u munin -- /usr/share/munin/munin-update", 600_000);
            if (run.code === 0) break;
            if (!/Lock already exists/.test(run.err + run.out) || attempt === 3) throw new Error(`munin-update exited ${run.code}: ${run.err}${run.out}`);
            await sh(vm, "while [ -e /var/run/munin/munin-update.lock ]; do sleep 2; done", 600_000);
        }
        for (const name of ["app-0", "redis-primary", "memcached-0", "gearman-0", "search-primary"]) {
            expect(await sh(vm, `ls /var/lib/munin/*/${name}-load-load-g.rrd`), name).toMatch(/\.rrd$/);
        }
    });
});

describe("the IAM policies", () => {
    test("every AWS call each host made (SSM, S3, CloudWatch) is allowed by its role's rendered IAM policy", async () => {
        const { calls, denied } = await session.deniedAwsCalls();
        expect(denied).toEqual([]);
        // At least the secrets, the release and the shard directory were read, and metrics published.
        expect(calls).toBeGreaterThan(0);
    });
});
