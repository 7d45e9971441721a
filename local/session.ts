/** A LocalContext for a state directory: the recorded stack's config, validated, its shard directory, and its plan. */
import * as fs from "fs";
import { ConfigError, validateConfig } from "../core/config";
import { reconcileShardDirectory } from "../core/shard-directory";
import { readLocalDirectory } from "./shard-directory";
import { loadStackConfig } from "./project-files";
import { PROJECT_ROOT } from "../delivery/sources";
import { LocalContext } from "./context";
import { localPlan } from "./plan";
import { LocalState, readState } from "./state";

/**
 * `--set KEY=@FILE` values read from their files (the push credentials: a .p8 key, a service account JSON),
 * so the state file keeps the path, never the secret.
 */
function withFileValues(overrides: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(overrides).map(([k, v]) => {
        if (typeof v !== "string" || !v.startsWith("@")) return [k, v];
        try {
            return [k, fs.readFileSync(v.slice(1), "utf8")];
        } catch (e) {
            throw new ConfigError([`${k} = ${v}: cannot read ${v.slice(1)}: ${(e as Error).message}`]);
        }
    }));
}

export function contextFor(dir: string, state: LocalState, print: (line: string) => void = console.log): LocalContext {
    const config = validateConfig(loadStackConfig(state.stack, withFileValues(state.overrides)));
    // Refuses (ConfigError) a config that would move or re-bucket the data this directory's stack holds.
    const directory = reconcileShardDirectory(readLocalDirectory(dir), config);
    const started = Date.now();
    return {
        dir,
        projectRoot: PROJECT_ROOT,
        plan: localPlan(config, { net: state.net, workers: state.workers, pushStandIn: state.pushStandIn }, directory),
        progress: (host, daemon, message) => {
            const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
            print(`[${t}s] ${host.padEnd(18)} ${daemon.padEnd(14)} ${message}`);
        },
    };
}

export function requireState(dir: string): LocalState {
    const state = readState(dir);
    if (!state) throw new Error(`no local stack in ${dir}: run \`npm run local -- up\` first`);
    return state;
}
