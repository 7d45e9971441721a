import { defineConfig } from "vitest/config";

/**
 * Two groups, run one after the other. The one-machine stack's end-to-end tests and the browser test put
 * load on both cores for minutes (moves under load, reloads under load, chromium); while they ran beside the
 * daemon tests, a test whose API signs users up met a 2 s PostgreSQL connect deadline it could not make (CI
 * failed twice on social.test.ts's beforeAll that way). Each group still runs its files in parallel.
 */
const HEAVY = ["test/local/**/*.test.ts", "test/browser/**/*.test.ts"];

const shared = {
    // Each file that runs the Pulumi program gets its own process: the runtime is global state.
    pool: "forks" as const,
    isolate: true,
    testTimeout: 60_000,
    hookTimeout: 60_000,
};

export default defineConfig({
    test: {
        projects: [
            {
                test: {
                    ...shared,
                    name: "unit-and-daemons",
                    include: ["test/**/*.test.ts"],
                    // VM boots take minutes each under emulation: `npm run test:boot` (vitest.boot.config.mts).
                    exclude: ["test/boot/**", "**/node_modules/**", ...HEAVY],
                    sequence: { groupOrder: 0 },
                },
            },
            {
                test: {
                    ...shared,
                    name: "one-machine-stack",
                    include: HEAVY,
                    sequence: { groupOrder: 1 },
                },
            },
        ],
    },
});
