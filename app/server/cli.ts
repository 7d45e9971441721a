#!/usr/bin/env node
// `instagram-app serve|work [options]`: the gunicorn-style server, for HTTP workers or Gearman workers;
// `instagram-app reindex`: rebuild the search index from the shards, once. Bad arguments print the usage and exit 2.
import { Arbiter } from "./arbiter";
import { parseServeArgs, parseWorkArgs, SERVE_USAGE, UsageError, WORK_USAGE } from "./options";

const COMMANDS = { serve: { parse: parseServeArgs, usage: SERVE_USAGE }, work: { parse: parseWorkArgs, usage: WORK_USAGE } } as const;
const REINDEX_USAGE = "usage: instagram-app reindex   (the search index rebuilt from the shards, with this host's environment)";
const USAGE = `${SERVE_USAGE}\n\n${WORK_USAGE}\n\n${REINDEX_USAGE}`;

async function main(argv: string[]): Promise<number> {
    const [command, ...rest] = argv;
    if (command === "reindex") {
        if (rest.length > 0) {
            console.error(`instagram-app reindex: takes no arguments (got ${rest.join(" ")})\n${REINDEX_USAGE}`);
            return 2;
        }
        // Loaded only here: the server's processes never load the reindex.
        const { runReindex } = await import("../jobs/reindex-command");
        return runReindex(process.env, (l) => console.log(l), (l) => console.error(l));
    }
    if (command !== "serve" && command !== "work") {
        console.error(command === undefined || command === "--help" ? USAGE : `instagram-app: unknown command ${JSON.stringify(command)}\n${USAGE}`);
        return command === "--help" ? 0 : 2;
    }
    const { parse, usage } = COMMANDS[command];
    try {
        const options = parse(rest);
        return await new Arbiter(options).run();
    } catch (e) {
        if (e instanceof UsageError) {
            console.error(`instagram-app ${command}: ${e.message}\n${usage}`);
            return 2;
        }
        console.error(`instagram-app ${command}: ${(e as Error).message}`);
        return 1;
    }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
