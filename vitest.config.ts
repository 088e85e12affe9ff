import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"], exclude: ["**/node_modules/**", "test/heavy/**"],
    testTimeout: 20000,
    hookTimeout: 30000,
    // Spawned servers and file watchers are process-level: keep files isolated.
    pool: "forks",
  },
});
