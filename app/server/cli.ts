#!/usr/bin/env node
// `instagram-app serve [options]`: the gunicorn-style server. Bad arguments print the usage and exit 2.
import { Arbiter } from "./arbiter";
import { parseServeArgs, SERVE_USAGE, UsageError } from "./options";

async function main(argv: string[]): Promise<number> {
    const [command, ...rest] = argv;
    if (command !== "serve") {
        console.error(command === undefined || command === "--help" ? SERVE_USAGE : `instagram-app: unknown command ${JSON.stringify(command)}\n${SERVE_USAGE}`);
        return command === "--help" ? 0 : 2;
    }
    try {
        const options = parseServeArgs(rest);
        return await new Arbiter(options).run();
    } catch (e) {
        if (e instanceof UsageError) {
            console.error(`instagram-app serve: ${e.message}\n${SERVE_USAGE}`);
            return 2;
        }
        console.error(`instagram-app serve: ${(e as Error).message}`);
        return 1;
    }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
