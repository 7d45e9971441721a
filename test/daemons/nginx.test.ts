/**
 * The app host's generated nginx site, run by nginx in front of a stand-in app server on a unix socket:
 * proxying, the client's real IP only from trusted proxies, the upload limit, gzip, and a dead upstream.
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import * as zlib from "zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Daemons, requireCommand, tempDir } from "../harness/daemons";
import { nginxAppSite } from "../../cloud-init/configs/nginx-app";
import { nginxMuninSite } from "../../cloud-init/configs/munin-master";
import { SCRIPTS_DIR } from "../../cloud-init/scripts";

const TRUSTING = "127.0.4.1"; // trusts loopback as the load balancer
const DISTRUSTING = "127.0.4.2"; // trusts only 10.0.0.0/8, so loopback clients cannot spoof
const MUNIN = "127.0.4.3";
const MUNIN_PASSWORD = "Mn7wQ2kLp9Zx4Vb8Nc1Md3Fg6Hj0Ty5U";
const daemons = new Daemons();
let dir: string;
let upstream: http.Server;
let lastHeaders: http.IncomingHttpHeaders = {};

function mainConf(name: string, site: string): string {
    const d = path.join(dir, name);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, "site.conf"), site);
    const conf = path.join(d, "nginx.conf");
    fs.writeFileSync(conf, `worker_processes 1;
daemon off;
pid ${d}/nginx.pid;
error_log ${d}/error.log;
events {}
http {
    include /etc/nginx/mime.types;
    access_log ${d}/access.log;
    client_body_temp_path ${d}/body;
    proxy_temp_path ${d}/proxy;
    fastcgi_temp_path ${d}/fastcgi;
    uwsgi_temp_path ${d}/uwsgi;
    scgi_temp_path ${d}/scgi;
    include ${d}/site.conf;
}
`);
    return conf;
}

function request(host: string, options: { port?: number; path?: string; method?: string; headers?: Record<string, string>; body?: Buffer }): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host, port: options.port ?? 80, path: options.path ?? "/", method: options.method ?? "GET", headers: options.headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on("error", reject);
        req.end(options.body);
    });
}

beforeAll(async () => {
    requireCommand("nginx", "nginx");
    dir = daemons.track(tempDir("nginx-test"));
    const socket = path.join(dir, "app.sock");
    upstream = http.createServer((req, res) => {
        lastHeaders = req.headers;
        req.resume();
        req.on("end", () => {
            res.setHeader("Content-Type", "application/json");
            res.end(JSON.stringify({ path: req.url, padding: "x".repeat(4000) }));
        });
    });
    await new Promise<void>((resolve) => upstream.listen(socket, resolve));
    fs.chmodSync(socket, 0o666);
    for (const [name, listen, trusted] of [["trusting", TRUSTING, ["127.0.0.0/8"]], ["distrusting", DISTRUSTING, ["10.0.0.0/8"]]] as const) {
        const conf = mainConf(name, nginxAppSite({ listen: `${listen}:80`, upstreamSocket: socket, trustedProxyCidrs: trusted, maxUploadMiB: 1 }));
        daemons.run("nginx", ["-t", "-c", conf]);
        daemons.start(name, "nginx", ["-c", conf]);
        await daemons.waitFor(name, listen, 80);
    }

    // The Munin master's site: basic auth from the htpasswd the real munin-htpasswd script writes.
    const www = path.join(dir, "munin-www");
    fs.mkdirSync(www);
    fs.writeFileSync(path.join(www, "index.html"), "<h1>Munin</h1>");
    fs.writeFileSync(path.join(dir, "munin-web"), MUNIN_PASSWORD, { mode: 0o600 });
    const htpasswd = path.join(dir, "munin.htpasswd");
    daemons.run("sh", [path.join(SCRIPTS_DIR, "munin-htpasswd.sh"), path.join(dir, "munin-web"), htpasswd]);
    fs.chmodSync(htpasswd, 0o644); // the test's nginx workers run as nobody, not www-data
    const muninConf = mainConf("munin", nginxMuninSite({ htpasswdFile: htpasswd, listen: `${MUNIN}:8080`, root: www }));
    daemons.run("nginx", ["-t", "-c", muninConf]);
    daemons.start("munin", "nginx", ["-c", muninConf]);
    await daemons.waitFor("munin", MUNIN, 8080);
}, 30_000);

afterAll(async () => {
    await daemons.cleanup();
    upstream.close();
});

describe("nginx on an app host, with the generated site", () => {
    test("proxies to the app server's socket with a request id", async () => {
        const res = await request(TRUSTING, { path: "/api/v1/feed" });
        expect(res.status).toBe(200);
        expect(JSON.parse(res.body.toString()).path).toBe("/api/v1/feed");
        expect(lastHeaders["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
    });

    test("takes the client's IP from X-Forwarded-For only when the load balancer sent it", async () => {
        await request(TRUSTING, { headers: { "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https" } });
        expect(lastHeaders["x-real-ip"]).toBe("203.0.113.9");
        expect(lastHeaders["x-forwarded-proto"]).toBe("https");
        await request(DISTRUSTING, { headers: { "X-Forwarded-For": "203.0.113.9" } });
        expect(lastHeaders["x-real-ip"]).toBe("127.0.0.1");
    });

    test("refuses uploads over the limit before they reach the app", async () => {
        lastHeaders = {};
        const res = await request(TRUSTING, { method: "POST", path: "/api/v1/media", body: Buffer.alloc(2 * 1024 * 1024), headers: { "Content-Type": "image/jpeg" } });
        expect(res.status).toBe(413);
        expect(lastHeaders).toEqual({});
        // nginx's own error page and header name no version (server_tokens off).
        expect(res.headers.server).toBe("nginx");
        expect(res.body.toString()).not.toMatch(/nginx\/\d/);
        expect((await request(TRUSTING, { method: "POST", path: "/api/v1/media", body: Buffer.alloc(512 * 1024) })).status).toBe(200);
    });

    test("gzips JSON for clients that accept it", async () => {
        const res = await request(TRUSTING, { headers: { "Accept-Encoding": "gzip" } });
        expect(res.headers["content-encoding"]).toBe("gzip");
        expect(JSON.parse(zlib.gunzipSync(res.body).toString()).padding).toHaveLength(4000);
    });

    test("answers its own health check, and 502 when the app server is down", async () => {
        const health = await request(TRUSTING, { path: "/nginx-health" });
        expect(health.status).toBe(200);
        expect(health.body.toString()).toBe("ok\n");
        await new Promise<void>((resolve) => upstream.close(() => resolve()));
        expect((await request(TRUSTING, { path: "/" })).status).toBe(502);
    });
});

describe("nginx on the Munin host", () => {
    test("serves Munin's pages only with the stack's password", async () => {
        expect((await request(MUNIN, { port: 8080 })).status).toBe(401);
        const wrong = Buffer.from("munin:nope").toString("base64");
        expect((await request(MUNIN, { port: 8080, headers: { Authorization: `Basic ${wrong}` } })).status).toBe(401);
        const right = Buffer.from(`munin:${MUNIN_PASSWORD}`).toString("base64");
        const ok = await request(MUNIN, { port: 8080, headers: { Authorization: `Basic ${right}` } });
        expect(ok.status).toBe(200);
        expect(ok.body.toString()).toContain("Munin");
        expect(fs.readFileSync(path.join(dir, "munin.htpasswd"), "utf8")).toMatch(/^munin:\$apr1\$/);
        expect(fs.readFileSync(path.join(dir, "munin.htpasswd"), "utf8")).not.toContain(MUNIN_PASSWORD);
    });
});
