import { defineConfig } from "vitest/config";

/**
 * Files that put the machine under load for a minute or more (thousands of requests, many daemons at
 * once). They run one at a time, after everything else: on 2 cores, a test that checks a deadline or
 * counts answers must not share the machine with them.
 */
const LOAD = [
  "test/reliability/**/*.test.ts",
  "test/verify/faults.test.ts",
  "test/verify/verify-cli.test.ts",
  "test/engine/no-false-rollback.test.ts",
  "test/demo.test.ts",
  "test/kubernetes/verify.test.ts",
];

const shared = { testTimeout: 60_000, hookTimeout: 60_000, pool: "forks" } as const;

export default defineConfig({
  test: {
    reporters: ["default", "json"],
    outputFile: { json: "test-artifacts/vitest.json" },
    projects: [
      {
        test: {
          ...shared,
          name: "main",
          include: ["test/**/*.test.ts"],
          exclude: LOAD,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: "load",
          include: LOAD,
          maxWorkers: 1,
          // A file's describe.concurrent tests all at once (test/verify/faults.test.ts has eight drills): the
          // default of 5 left three waiting for the first ones to end.
          maxConcurrency: 8,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
