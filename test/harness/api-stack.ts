/**
 * The API against the real data tier on loopback, for the API tests: two physical shards (PostgreSQL +
 * pgbouncer from the generated configs, 8 logical shards), Redis with AUTH, two memcached nodes and a media
 * directory, the app served in-process on `${net}.100`. Clients sign up and log in like any API client and
 * send their bearer token.
 */
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { AddressInfo } from "net";
import { redisConf } from "../../cloud-init/configs/redis";
import { Daemons, eventually, requireCommand } from "./daemons";
import { ShardHost, startShardHost } from "./postgres";
import { createApp } from "../../app/api/app";
import { shardMap } from "../../core/shard-map";

export const API_PASSWORDS = { app: "AppPassw0rdForTests00000000000001", pgbouncer: "BouncerPassw0rdForTests000000001", redis: "RedisPassw0rdForTests00000000001" };
export const LOGICAL = 8;
/** Every test account's password (the app's default scrypt cost, as in production). */
export const USER_PASSWORD = "correct horse battery staple";

export interface Reply {
    readonly status: number;
    readonly json: any;
    readonly headers: Headers;
}

export interface Account {
    readonly id: string;
    readonly username: string;
    readonly token: string;
}

export class ApiStack {
    readonly daemons = new Daemons();
    shards: ShardHost[] = [];
    mediaDir = "";
    server?: http.Server;
    base = "";
    readonly redis: string;
    readonly memcached: string[];

    constructor(readonly net: string, private readonly extraEnv: NodeJS.ProcessEnv = {}) {
        this.redis = `${net}.5`;
        this.memcached = [`${net}.6:11211`, `${net}.7:11211`];
    }

    env(): NodeJS.ProcessEnv {
        return {
            INSTAGRAM_LOGICAL_SHARDS: String(LOGICAL),
            INSTAGRAM_SHARD_MAP: JSON.stringify(shardMap(LOGICAL, 2)),
            INSTAGRAM_PGBOUNCER_HOSTS: `${this.net}.1:6432,${this.net}.2:6432`,
            INSTAGRAM_DB_PASSWORD: API_PASSWORDS.app,
            INSTAGRAM_REDIS: `${this.redis}:6379`,
            INSTAGRAM_REDIS_PASSWORD: API_PASSWORDS.redis,
            INSTAGRAM_MEMCACHED: this.memcached.join(","),
            INSTAGRAM_MEDIA_DIR: this.mediaDir,
            INSTAGRAM_MEDIA_BASE_URL: "https://media.example.com",
            INSTAGRAM_MAX_UPLOAD_BYTES: String(64 * 1024),
            // Every request of these tests comes from one address.
            INSTAGRAM_AUTH_LIMIT_PER_ADDRESS: "100000/60",
            INSTAGRAM_LOGIN_FAILURES_PER_ADDRESS: "100000/60",
            ...this.extraEnv,
        };
    }

    async startRedis(): Promise<void> {
        const dir = this.daemons.track(fs.mkdtempSync(path.join(os.tmpdir(), "api-redis-")));
        fs.writeFileSync(path.join(dir, "auth.conf"), `requirepass ${API_PASSWORDS.redis}\n`);
        fs.writeFileSync(path.join(dir, "redis.conf"), redisConf({ bind: this.redis, maxMemoryMiB: 64, dataDir: dir, persistent: false, secretsInclude: path.join(dir, "auth.conf"), redisMajor: 7 }));
        this.daemons.start("redis", "redis-server", [path.join(dir, "redis.conf")]);
        await this.daemons.waitFor("redis", this.redis, 6379);
    }

    async serve(environment: NodeJS.ProcessEnv): Promise<{ server: http.Server; url: string }> {
        const s = http.createServer(await createApp({ workerId: 1, count: () => undefined }, environment));
        await new Promise<void>((resolve) => s.listen(0, `${this.net}.100`, resolve));
        return { server: s, url: `http://${this.net}.100:${(s.address() as AddressInfo).port}` };
    }

    /** Another app instance on the same data tier, once /readyz says its connections are up. */
    async serveReady(overrides: NodeJS.ProcessEnv): Promise<{ server: http.Server; url: string }> {
        const served = await this.serve({ ...this.env(), ...overrides });
        await eventually(async () => ((await fetch(`${served.url}/readyz`)).status === 200 ? true : undefined), 10_000, "the second app instance to be ready");
        return served;
    }

    async start(): Promise<void> {
        requireCommand("pgbouncer", "pgbouncer");
        const map = shardMap(LOGICAL, 2);
        this.shards = [
            await startShardHost(this.daemons, `${this.net}-shard-0`, `${this.net}.1`, map[0].firstLogicalShard, map[0].lastLogicalShard, API_PASSWORDS),
            await startShardHost(this.daemons, `${this.net}-shard-1`, `${this.net}.2`, map[1].firstLogicalShard, map[1].lastLogicalShard, API_PASSWORDS),
        ];
        await this.startRedis();
        for (const [i, node] of this.memcached.entries()) {
            this.daemons.start(`memcached-${i}`, "memcached", ["-l", node.split(":")[0], "-p", "11211", "-U", "0", "-m", "16", "-u", "memcache"]);
            await this.daemons.waitFor(`memcached-${i}`, node.split(":")[0], 11211);
        }
        this.mediaDir = this.daemons.track(fs.mkdtempSync(path.join(os.tmpdir(), "api-media-")));
        ({ server: this.server, url: this.base } = await this.serve(this.env()));
        await eventually(async () => ((await this.call("GET", "/readyz")).status === 200 ? true : undefined), 10_000, "the API to be ready");
    }

    async stop(): Promise<void> {
        this.server?.close();
        await this.daemons.cleanup();
    }

    /** A JSON request; `as` sends that account's bearer token. */
    async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, as?: Account): Promise<Reply> {
        const res = await fetch(`${this.base}${path}`, {
            method,
            headers: { ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...(as ? { Authorization: `Bearer ${as.token}` } : {}), ...headers },
            body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
        });
        const text = await res.text();
        let json: unknown = text;
        try {
            json = text ? JSON.parse(text) : undefined;
        } catch {
            // not JSON (the web client's page): the text itself
        }
        return { status: res.status, json, headers: res.headers };
    }

    async upload(as: Account | undefined, owner: string, body: Buffer, type: string, caption: string): Promise<Reply> {
        const res = await fetch(`${this.base}/api/v1/users/${owner}/media?caption=${encodeURIComponent(caption)}`, {
            method: "POST", headers: { "Content-Type": type, ...(as ? { Authorization: `Bearer ${as.token}` } : {}) }, body,
        });
        return { status: res.status, json: await res.json(), headers: res.headers };
    }

    async login(username: string, password = USER_PASSWORD): Promise<Account> {
        const r = await this.call("POST", "/api/v1/sessions", { username, password });
        if (r.status !== 201) throw new Error(`login ${username}: ${r.status} ${JSON.stringify(r.json)}`);
        return { id: r.json.user.id, username, token: r.json.token };
    }

    /** Sign up and log in. */
    async signup(username: string, password = USER_PASSWORD): Promise<Account> {
        const r = await this.call("POST", "/api/v1/users", { username, password });
        if (r.status !== 201) throw new Error(`signup ${username}: ${r.status} ${JSON.stringify(r.json)}`);
        return this.login(username, password);
    }
}
