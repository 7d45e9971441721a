/**
 * The web client in a real browser: Debian's Chromium driven by playwright-core (headless; no browser is
 * downloaded), through the one-machine stack's HTTPS edge (127.0.27.0/24), the edge's own certificate pinned
 * by its public key. Two people sign up; one follows the other, who uploads a photo; the follower sees it
 * in the feed, likes it and comments; the owner sees the like, the comment and all three in the activity
 * feed. No page error, no CSP violation; screenshots are kept in test-artifacts/web-client/; and no log the
 * stack writes holds a password or a session token.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { Browser, BrowserContext, chromium, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { contextFor } from "../../local/session";
import { readState } from "../../local/state";
import { edgeCertificate } from "../../local/services/edge";
import { PROJECT_ROOT } from "../../delivery/sources";
import { SESSION_COOKIE } from "../../app/api/auth";
import { runLocal } from "../harness/local-cli";
import { gradientPng } from "../harness/png";

const NET = "127.0.27";
const SITE = "https://dev.example.com";
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = path.join(PROJECT_ROOT, "test-artifacts", "web-client");
const PASSWORDS = { alice: "alice's long password 1", bob: "bob's long password 22" };
let dir: string;
let browser: Browser;
const contexts: BrowserContext[] = [];
const problems: string[] = [];

const local = (...args: string[]) => runLocal(dir, args);

/** base64(SHA-256(SubjectPublicKeyInfo)): what Chromium's --ignore-certificate-errors-spki-list pins. */
function spkiHash(certFile: string): string {
    const der = new crypto.X509Certificate(fs.readFileSync(certFile)).publicKey.export({ type: "spki", format: "der" });
    return crypto.createHash("sha256").update(der).digest("base64");
}

async function person(name: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on("pageerror", (e) => problems.push(`${name}: page error: ${e.message}`));
    // The page asks whether it has a session (401 when signed out): that one failed load is expected.
    page.on("console", (m) => { if (m.type() === "error" && !/status of 401/.test(m.text())) problems.push(`${name}: console: ${m.text()}`); });
    await page.goto(`${SITE}/`);
    return page;
}

/** A GET through the edge (its certificate verified) with a given Cookie header; the status. */
function statusWithCookie(urlPath: string, cookie: string): Promise<number> {
    return new Promise((resolve, reject) => {
        https.get({ host: `${NET}.1`, port: 443, path: urlPath, servername: "dev.example.com", ca: fs.readFileSync(path.join(dir, "tls", "edge.crt")), headers: { Host: "dev.example.com", Cookie: cookie } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        }).on("error", reject);
    });
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

async function signUp(page: Page, username: string, password: string): Promise<void> {
    await page.getByTestId("signup-username").fill(username);
    await page.getByTestId("signup-password").fill(password);
    await page.getByTestId("signup-submit").click();
    await expectText(page, "whoami", `@${username}`);
}

async function expectText(page: Page, testId: string, text: string): Promise<void> {
    await page.getByTestId(testId).filter({ hasText: text }).first().waitFor({ timeout: 10_000 });
}

beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("the local stack runs daemons as their own users and binds ports 80/443: run as root (as CI does)");
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-web-"));
    fs.chmodSync(dir, 0o755);
    const r = await local("up", "--stack", "dev", "--net", NET, "--workers", "1");
    if (r.status !== 0) throw new Error(`local up failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    const ctx = contextFor(dir, readState(dir)!, () => undefined);
    fs.rmSync(ARTIFACTS, { recursive: true, force: true });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ["--no-sandbox", `--host-resolver-rules=MAP dev.example.com ${NET}.1`, `--ignore-certificate-errors-spki-list=${spkiHash(edgeCertificate(ctx))}`],
    });
}, 240_000);

afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    if (dir) {
        const r = await local("down");
        if (r.status !== 0) console.error(r.stdout, r.stderr);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}, 120_000);

describe("the web client through the HTTPS edge", () => {
    test("sign up, follow, upload, see it in the feed, like and comment; the owner sees it all", async () => {
        const alice = await person("alice");
        await alice.getByTestId("signup-username").waitFor();
        await shot(alice, "01-signed-out");
        await signUp(alice, "alice_web", PASSWORDS.alice);
        const bob = await person("bob");
        await signUp(bob, "bob_web", PASSWORDS.bob);

        // The session is an HttpOnly, Secure cookie the page's script cannot read.
        const cookies = await contexts[0].cookies(SITE);
        const session = cookies.find((c) => c.name === SESSION_COOKIE)!;
        expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: "Lax", path: "/" });
        expect(await alice.evaluate("document.cookie")).toBe("");

        await alice.getByTestId("follow-username").fill("bob_web");
        await alice.getByTestId("follow-submit").click();
        await expectText(alice, "message", "Following @bob_web.");

        await bob.getByTestId("photo").setInputFiles({ name: "sunset.png", mimeType: "image/png", buffer: gradientPng(320, 200, 40) });
        await bob.getByTestId("caption-input").fill("sunset over the bay");
        await bob.getByTestId("upload-submit").click();
        await expectText(bob, "caption", "sunset over the bay");
        await shot(bob, "02-owner-uploaded");

        await alice.getByTestId("refresh").click();
        const card = alice.getByTestId("media").filter({ hasText: "sunset over the bay" });
        await card.waitFor();
        expect(await card.getByTestId("owner").textContent()).toBe("@bob_web");
        // The photo itself loaded and decoded (from the media origin, allowed by the CSP).
        await expect.poll(() => card.locator("img").evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).complete && (img as unknown as { naturalWidth: number }).naturalWidth), { timeout: 10_000 }).toBe(320);
        await card.getByTestId("like").click();
        await card.getByTestId("likes").filter({ hasText: "1" }).waitFor();
        expect(await card.getByTestId("like").getAttribute("aria-pressed")).toBe("true");
        await card.getByTestId("comment-text").fill("what a view!");
        await card.getByTestId("comment-submit").click();
        await card.getByTestId("comment").filter({ hasText: "what a view!" }).waitFor();
        await expectText(alice, "comment-count", "1");
        await shot(alice, "03-follower-liked-and-commented");

        // After a reload the page still knows the session (the cookie), and the like and comment are there.
        await alice.reload();
        const again = alice.getByTestId("media").filter({ hasText: "sunset over the bay" });
        await again.getByTestId("likes").filter({ hasText: "1" }).waitFor();
        expect(await again.getByTestId("like").getAttribute("aria-pressed")).toBe("true");
        await again.getByTestId("comment").filter({ hasText: "@alice_web what a view!" }).waitFor();

        await bob.getByTestId("refresh").click();
        const own = bob.getByTestId("media").filter({ hasText: "sunset over the bay" });
        await own.getByTestId("likes").filter({ hasText: "1" }).waitFor();
        await own.getByTestId("comment").filter({ hasText: "what a view!" }).waitFor();
        const activity = await bob.getByTestId("activity").allTextContents();
        expect(activity).toEqual(["@alice_web commented: what a view!", "@alice_web liked your photo", "@alice_web started following you"]);
        await shot(bob, "04-owner-activity");

        // Logging out ends the session: the page shows the sign-in forms, and the old cookie no longer works.
        await alice.getByRole("button", { name: "Log out" }).click();
        await alice.getByTestId("login-username").waitFor();
        expect(await statusWithCookie("/api/v1/sessions/current", `${SESSION_COOKIE}=${session.value}`)).toBe(401);
        await alice.getByTestId("login-username").fill("alice_web");
        await alice.getByTestId("login-password").fill(PASSWORDS.alice);
        await alice.getByTestId("login-submit").click();
        await expectText(alice, "whoami", "@alice_web");
        await shot(alice, "05-logged-in-again");

        expect(problems).toEqual([]);
        // Nothing the stack logged holds a password or the session token.
        const logs = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && /\.log$|log$/.test(e.name)).map((e) => path.join(e.parentPath, e.name));
        expect(logs.length).toBeGreaterThan(5);
        for (const file of logs) {
            const text = fs.readFileSync(file, "latin1");
            for (const secret of [PASSWORDS.alice, PASSWORDS.bob, encodeURIComponent(PASSWORDS.alice), session.value]) expect(text.includes(secret), `${file} holds a secret`).toBe(false);
        }
    }, 180_000);
});
