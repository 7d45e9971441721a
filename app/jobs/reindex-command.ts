/**
 * `instagram-app reindex`: rebuild the search index from the shards (app/jobs/reindex.ts) with the host's own
 * environment and credentials, the ones the app server runs with; searches go on meanwhile. Run on one app or
 * job-worker host: on AWS by `npm run ops -- search reindex`, on one machine by `npm run local -- search
 * reindex`. Prints progress and a last line with the counts; exit 1 (saying why) when the host cannot reach
 * what it needs.
 */
import { loadApiConfig } from "../api/config";
import { shardRouting } from "../api/directory-source";
import { SearchIndex } from "../api/search";
import { reindexFromShards } from "./reindex";
import { APP_ENV } from "../../core/app-contract";

/** The reindex's sweep deletes what was not rewritten; on a large index that takes longer than a search may. */
export const REINDEX_STATEMENT_TIMEOUT_MS = 600_000;

export async function runReindex(env: NodeJS.ProcessEnv, out: (line: string) => void, err: (line: string) => void): Promise<number> {
    const config = loadApiConfig(env);
    if (!config.search) {
        err(`reindex: ${APP_ENV.search} is not set: this stack has no search tier (instagram:searchServers is 0)`);
        return 1;
    }
    if (!config.logicalShards || !config.directory || config.shards.length === 0 || !config.dbPassword) {
        err(`reindex: the shards are not configured on this host: ${config.problems.join("; ") || "no shard map, pgbouncer hosts or password"}`);
        return 1;
    }
    const { shards, directory } = shardRouting(config, config.logicalShards, config.directory);
    await directory?.start();
    const index = new SearchIndex({ ...config.search, password: config.searchPassword }, REINDEX_STATEMENT_TIMEOUT_MS);
    try {
        out(`reindex: rebuilding the search index at ${config.search.host}:${config.search.port} from ${config.logicalShards} logical shards`);
        const r = await reindexFromShards(shards, index, out);
        out(`reindex: done in ${r.seconds.toFixed(1)} s: ${r.indexed} photos written from ${r.logicalShards} logical shards, ${r.removed} stale entries removed`);
        return 0;
    } catch (e) {
        err(`reindex: failed (searches keep the index as it was; run it again): ${(e as Error).message}`);
        return 1;
    } finally {
        directory?.stop();
        await Promise.all([index.close(), shards.close()]);
    }
}
