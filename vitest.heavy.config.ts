import { defineConfig } from "vitest/config";

// The heavy tier (chaos, fuzz, packaging): `npm run test:heavy`, after `npm test` in CI. Suites spawn real
// servers and drive thousands of calls, so files run one at a time with generous caps; every wait
// inside them is an awaited event under its own cap.
export default defineConfig({
  test: {
    include: ["test/heavy/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: false,
  },
});
