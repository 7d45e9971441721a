import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        // VM boots take minutes each under emulation: `npm run test:boot` (vitest.boot.config.mts).
        exclude: ["test/boot/**", "**/node_modules/**"],
        // Each file that runs the Pulumi program gets its own process: the runtime is global state.
        pool: "forks",
        isolate: true,
        testTimeout: 60_000,
        hookTimeout: 60_000,
    },
});
