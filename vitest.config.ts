import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Two cores here: process-level e2e tests (real CLI, real PostgreSQL, Pyodide) fight for CPU when too many run at once.
    maxWorkers: 2,
  },
});
