/**
 * What every local service needs: where its files go under the state directory (.local/ by default), the
 * accounts daemons run as, the stack's secrets (generated once, kept in .local/secrets like a host's
 * /etc/instagram/secrets), and the progress line printer.
 */
import * as crypto from "crypto";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { GeneratedSecretName, SECRET_NAMES } from "../core/secrets";
import { LocalHost, LocalPlan } from "./plan";
import { Account } from "./processes";

export interface LocalContext {
    readonly dir: string;
    readonly plan: LocalPlan;
    readonly projectRoot: string;
    /** Prints one progress line: "[  1.2s] shard-0-primary  postgres  started". */
    progress(host: string, daemon: string, message: string): void;
}

export const hostDir = (ctx: LocalContext, host: LocalHost | string, ...rest: string[]) =>
    path.join(ctx.dir, "hosts", typeof host === "string" ? host : host.name, ...rest);
export const logFile = (ctx: LocalContext, host: LocalHost | string, daemon: string) =>
    path.join(ctx.dir, "logs", typeof host === "string" ? host : host.name, `${daemon}.log`);
export const pidFile = (ctx: LocalContext, host: LocalHost | string, daemon: string) =>
    path.join(ctx.dir, "run", typeof host === "string" ? host : host.name, `${daemon}.pid`);
export const secretsDir = (ctx: LocalContext) => path.join(ctx.dir, "secrets");
export const mediaDir = (ctx: LocalContext) => path.join(ctx.dir, "media");

/** A system account when we are root (each daemon as its package's user, as on a host); ourselves otherwise. */
export function account(name: string): Account {
    if (process.getuid?.() !== 0) return { name: process.env.USER ?? "self" };
    const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim());
    return { name, uid, gid };
}

export function chownTo(target: string, owner: Account): void {
    if (owner.uid !== undefined) fs.chownSync(target, owner.uid, owner.gid!);
}

/** mkdir -p, then owned by `owner`. */
export function ownedDir(dir: string, owner?: Account, mode = 0o755): string {
    // Parents get the default mode (a recursive mkdir would give them this one, which may shut out others).
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, mode);
    if (owner) chownTo(dir, owner);
    return dir;
}

/** Write a file atomically (temp + rename) with its mode and owner. */
export function writeFileAs(file: string, content: string, mode = 0o644, owner?: Account): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, content, { mode });
    fs.chmodSync(tmp, mode);
    if (owner) chownTo(tmp, owner);
    fs.renameSync(tmp, file);
}

/** Generated like the cloud's RandomPasswords (letters and digits, 40), created once and kept. */
export function ensureSecrets(ctx: LocalContext): Record<GeneratedSecretName, string> {
    const dir = ownedDir(secretsDir(ctx), undefined, 0o700);
    const out = {} as Record<GeneratedSecretName, string>;
    for (const name of SECRET_NAMES) {
        const file = path.join(dir, name);
        if (!fs.existsSync(file)) {
            const value = crypto.randomBytes(60).toString("base64").replace(/[^A-Za-z0-9]/g, "").slice(0, 40);
            writeFileAs(file, value, 0o600);
        }
        out[name] = fs.readFileSync(file, "utf8").trim();
    }
    return out;
}
