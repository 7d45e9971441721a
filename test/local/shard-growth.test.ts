/**
 * Growing the one-machine stack as an operator would: the dev stack (one physical shard) with users in it,
 * `down`, then `up --set instagram:physicalShards=2`. The shard directory (DIR/shard-directory.json) keeps
 * every logical shard where it was: every user still answers, a taken username stays taken, and the new
 * shard comes up empty. A change that would re-bucket (logicalShards) is refused before anything starts.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { contextFor } from "../../local/session";
import { readState } from "../../local/state";
import { edgeCertificate } from "../../local/services/edge";
import { SiteClient } from "../../local/site-client";
import { directoryPath } from "../../local/shard-directory";
import { parseShardDirectory } from "../../core/shard-directory";
import { runLocal } from "../harness/local-cli";

const NET = "127.0.23";
let dir: string;
const users: { id: string; username: string }[] = [];

const local = (...args: string[]) => runLocal(dir, args);

async function upOk(...args: string[]): Promise<SiteClient> {
    const r = await local("up", "--stack", "dev", "--net", NET, "--workers", "1", ...args);
    if (r.status !== 0) throw new Error(`local up ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    const ctx = contextFor(dir, readState(dir)!, () => undefined);
    return new SiteClient(`${NET}.1`, edgeCertificate(ctx), "dev.example.com");
}

const directory = () => parseShardDirectory(fs.readFileSync(directoryPath(dir), "utf8"), "test");

beforeAll(() => {
    if (process.getuid?.() !== 0) throw new Error("the local stack runs daemons as their own users and binds ports 80/443: run as root (as CI does)");
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-growth-"));
    fs.chmodSync(dir, 0o755);
});

afterAll(async () => {
    if (!dir) return;
    const r = await local("down");
    if (r.status !== 0) console.error(r.stdout, r.stderr);
    fs.rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe("growing the one-machine stack", () => {
    test("dev with one physical shard: eight users, then down", async () => {
        const site = await upOk();
        for (const name of ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]) users.push({ id: await site.createUser(name), username: name });
        site.close();
        expect(directory().physicalShards.map((p) => p.physicalShard)).toEqual([0]);
        expect((await local("down")).status).toBe(0);
    }, 240_000);

    test("up with physicalShards=2: every user still answers, usernames stay unique, the new shard holds nothing", async () => {
        const site = await upOk("--set", "instagram:physicalShards=2");
        try {
            for (const u of users) {
                const r = await site.request("GET", `/api/v1/users/${u.id}`);
                expect(r.status, `${u.username}: ${r.body}`).toBe(200);
                expect(r.json().username).toBe(u.username);
            }
            expect((await site.signup("alice")).status).toBe(409);
            const d = directory();
            expect(d.physicalShards.map((p) => p.physicalShard)).toEqual([0, 1]);
            expect(d.physicalShards[1].endpoint).toBe(`${NET}.82:6432`);
            expect(d.ranges).toEqual([{ first: 0, last: 63, physicalShard: 0, state: "serving" }]);
            const status = await local("shards", "status");
            expect(status.status, status.stderr).toBe(0);
            expect(status.stdout).toContain("64 logical shards on 2 physical shards");
            expect(status.stdout).toMatch(new RegExp(`physical 0  ${NET}\\.80:6432 +0-63 \\(64, serving\\)`));
            expect(status.stdout).toMatch(new RegExp(`physical 1  ${NET}\\.82:6432 +\\(no logical shard\\)`));
            // A new user still lands on physical shard 0: nothing routes to the empty shard until a move.
            const ivan = await site.createUser("ivan");
            expect((await site.request("GET", `/api/v1/users/${ivan}`)).status).toBe(200);
        } finally {
            site.close();
        }
    }, 240_000);

    test("changing logicalShards is refused before anything starts, naming the key; the stack keeps running as it was", async () => {
        const r = await local("up", "--stack", "dev", "--net", NET, "--workers", "1", "--set", "instagram:physicalShards=2", "--set", "instagram:logicalShards=128");
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/instagram:logicalShards = 128: the deployed shard directory has 64 logical shards/);
        expect(r.stderr).toContain(`the one-machine stack's shard directory is ${directoryPath(dir)}: pass the deployed counts with --set`);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect(directory().logicalShards).toBe(64);
    }, 120_000);
});
