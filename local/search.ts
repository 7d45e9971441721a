/**
 * `npm run local -- search reindex`: the release's own `instagram-app reindex` on the first app host, with
 * that host's environment and credentials and as the app's user, as `npm run ops -- search reindex` runs it on
 * AWS. Its progress prints here; searches go on meanwhile.
 */
import { spawn } from "child_process";
import * as path from "path";
import { account, LocalContext } from "./context";
import { hostsOf, searchPrimary } from "./plan";
import { appPaths, localAppEnv } from "./services/app";

export async function reindexSearch(ctx: LocalContext): Promise<number> {
    if (!searchPrimary(ctx.plan)) throw new Error("this stack has no search tier (instagram:searchServers is 0): up --set instagram:searchServers=1 adds one");
    const host = hostsOf(ctx.plan, "app")[0];
    const www = account("www-data");
    const bin = path.join(appPaths(ctx, host).home, "current", "bin", "instagram-app");
    ctx.progress(host.name, "reindex", `${bin} reindex`);
    const child = spawn(bin, ["reindex"], {
        stdio: ["ignore", "inherit", "inherit"],
        env: { PATH: process.env.PATH!, NODE_ENV: "production", ...localAppEnv(ctx, host) },
        uid: www.uid,
        gid: www.gid,
        cwd: "/",
    });
    return new Promise((resolve, reject) => {
        child.on("error", reject);
        child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
}
