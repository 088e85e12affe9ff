import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"], exclude: ["**/node_modules/**", "test/heavy/**"],
    testTimeout: 20000,
    hookTimeout: 30000,
    // Spawned servers and file watchers are process-level: keep files isolated.
    pool: "forks",
    // Most files wait on spawned servers, sockets and timers rather than compute: two workers on a
    // 2-core machine (vitest's default there is one) halve the suite's wall time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
