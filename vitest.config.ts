import { defineConfig } from "vitest/config";
import LongFirstSequencer from "./test/long-first-sequencer.js";

/**
 * Files that put the machine under load for a minute or more (thousands of requests, many daemons at
 * once). They run one at a time, after everything else: on 2 cores, a test that checks a deadline or
 * counts answers must not share the machine with them. Tests that only need to hold on a busy machine
 * (twenty analysed deploys in a row, the model-based tests, the scale-down race) are not here: they must pass with
 * four CPU hogs running (README, Development), so they run with the main project.
 */
const LOAD = [
  "test/reliability/fault-matrix.test.ts",
  "test/reliability/thousand-switches.test.ts",
  "test/verify/faults.test.ts",
  "test/verify/verify-cli.test.ts",
  "test/kubernetes/verify.test.ts",
  "test/demo.test.ts",
];

const shared = {
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: "forks",
  // The main project's files share their workers (isolate: false): each gets process.env back as it found it.
  setupFiles: ["test/setup/restore-env.ts"],
} as const;

export default defineConfig({
  test: {
    reporters: ["default", "json"],
    sequence: { sequencer: LongFirstSequencer },
    outputFile: { json: "test-artifacts/vitest.json" },
    projects: [
      {
        test: {
          ...shared,
          name: "main",
          include: ["test/**/*.test.ts"],
          exclude: LOAD,
          // Three files at a time on 2 cores: most of them wait (on health checks, analysis windows, leases,
          // drain deadlines) as much as they compute. Four made the project slower (525 s against 362 s:
          // module imports alone took twice as long) and two tests miss their deadlines.
          maxWorkers: 3,
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: "load",
          include: LOAD,
          maxWorkers: 1,
          // Four of a file's describe.concurrent tests at once: test/verify/faults.test.ts's eight drills all at
          // once (some 50 node processes) put the machine at a load of 16, and a few requests of a quiet
          // machine's run timed out; four at a time take about as long.
          maxConcurrency: 4,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
