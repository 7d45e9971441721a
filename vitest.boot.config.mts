import { defineConfig } from "vitest/config";

// `npm run test:boot`: VMs under qemu, one file at a time (each boot takes the machine's two cores).
export default defineConfig({
    test: {
        include: ["test/boot/**/*.test.ts"],
        pool: "forks",
        fileParallelism: false,
        testTimeout: 20 * 60_000,
        hookTimeout: 30 * 60_000,
    },
});
