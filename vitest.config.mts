import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        // Each file that runs the Pulumi program gets its own process: the runtime is global state.
        pool: "forks",
        isolate: true,
        testTimeout: 60_000,
        hookTimeout: 60_000,
    },
});
