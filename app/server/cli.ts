#!/usr/bin/env node
// `instagram-app serve|work [options]`: the gunicorn-style server, for HTTP workers or Gearman workers.
// Bad arguments print the usage and exit 2.
import { Arbiter } from "./arbiter";
import { parseServeArgs, parseWorkArgs, SERVE_USAGE, UsageError, WORK_USAGE } from "./options";

const COMMANDS = { serve: { parse: parseServeArgs, usage: SERVE_USAGE }, work: { parse: parseWorkArgs, usage: WORK_USAGE } } as const;
const USAGE = `${SERVE_USAGE}\n\n${WORK_USAGE}`;

async function main(argv: string[]): Promise<number> {
    const [command, ...rest] = argv;
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
