/**
 * `npm run plan -- [--stack NAME]`: an offline `pulumi preview`. Runs the real program under the Pulumi
 * mocks runtime with the stack's config (Pulumi.yaml defaults merged with Pulumi.<stack>.yaml, as the CLI
 * does), prints the resource tree and a count by type. Exits 2 on a bad flag, 1 on invalid config.
 */
import { ConfigError } from "../core/config";
import { runProgram } from "./offline/runtime";
import { countByType, renderTree } from "./offline/tree";

const USAGE = "usage: npm run plan -- [--stack NAME] [--quiet]   (NAME defaults to dev; the stacks are the Pulumi.NAME.yaml files)";

interface PlanArgs {
    stack: string;
    quiet: boolean;
}

function parsePlanArgs(argv: readonly string[]): PlanArgs {
    const args: PlanArgs = { stack: "dev", quiet: false };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--stack" || arg === "-s") {
            const value = argv[++i];
            if (!value || value.startsWith("-")) throw new UsageError(`${arg} needs a stack name`);
            args.stack = value;
        } else if (arg.startsWith("--stack=")) {
            args.stack = arg.slice("--stack=".length);
        } else if (arg === "--quiet" || arg === "-q") {
            args.quiet = true;
        } else if (arg === "--help" || arg === "-h") {
            throw new UsageError("");
        } else {
            throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
        }
    }
    return args;
}

class UsageError extends Error {}

async function main(): Promise<number> {
    // Stack traces the SDK captures are not shown by the plan; mapping them through tsx's source maps is
    // slow (see runProgram). PLAN_STACK_TRACES=1 keeps both for debugging the program.
    if (!process.env.PLAN_STACK_TRACES) process.setSourceMapsEnabled(false);
    let args: PlanArgs;
    try {
        args = parsePlanArgs(process.argv.slice(2));
    } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        if (e.message) console.error(`plan: ${e.message}`);
        console.error(USAGE);
        return e.message ? 2 : 0;
    }
    const started = process.hrtime.bigint();
    try {
        const run = await runProgram(args.stack);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        console.log(`Offline plan of stack "${args.stack}" (project instagram, region ${run.config["aws:region"]})`);
        console.log("No cloud was contacted: the program ran under the Pulumi mocks runtime. IDs, ARNs, IPs and other");
        console.log("provider-computed values below are placeholders; `pulumi preview` against AWS shows the real plan.\n");
        if (!args.quiet) {
            for (const line of renderTree(`instagram-${args.stack}`, run.resources)) console.log(line);
            console.log("");
        }
        console.log("Resources by type:");
        const counts = countByType(run.resources);
        const width = Math.max(...counts.map(([t]) => t.length));
        for (const [type, n] of counts) console.log(`  ${type.padEnd(width)}  ${String(n).padStart(4)}`);
        console.log(`\n  ${run.resources.length + 1} to create (including the stack), evaluated in ${ms.toFixed(0)} ms\n`);
        console.log("Outputs:");
        for (const [key, value] of Object.entries(run.outputs)) console.log(`  ${key}: ${JSON.stringify(value)}`);
        return 0;
    } catch (e) {
        if (e instanceof ConfigError) {
            console.error(`plan: stack "${args.stack}" has an invalid configuration:`);
            for (const p of e.problems) console.error(`  - ${p}`);
            return 1;
        }
        console.error(`plan: ${(e as Error).message}`);
        return 1;
    }
}

if (require.main === module) {
    main().then((code) => process.exit(code), (e) => {
        console.error(`plan: ${(e as Error).stack ?? e}`);
        process.exit(1);
    });
}
