import { defineConfig } from "vitest/config";

/**
 * Files that put the machine under load for a minute or more (thousands of requests, many daemons at
 * once). They run one at a time, after everything else: on 2 cores, a test that checks a deadline or
 * counts answers must not share the machine with them. The admin API's abuse test is not one of them: it
 * holds 10,000 idle connections (file descriptors, not CPU) and checks status codes and a 30 s bound on
 * closing them; it runs with the main project.
 */
const LOAD = [
  "test/reliability/**/!(admin-api).test.ts",
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
          // Three files at a time on 2 cores: most of them wait (on health checks, analysis windows, leases,
          // drain deadlines) far more than they compute; the project used 1.2 of the 2 cores with two.
          maxWorkers: 3,
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
