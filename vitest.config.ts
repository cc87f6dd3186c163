import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Lets memory-bound tests (detector contract) collect garbage before measuring retained heap.
    execArgv: ["--expose-gc"],
    reporters: ["default", "./test/count-reporter.ts"],
  },
});
