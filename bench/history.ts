/**
 * What recording one finished deploy costs the daemon's event loop (which the built-in router shares) as
 * the local history grows: cutover's append to history.ndjson, beside rewriting the whole history as one
 * JSON list with write, fsync and rename (how cutover kept it before), at the same sizes, in the same run.
 * Prints one JSON object and writes it to bench/results/history.json.
 *
 *   npm run build && node dist/bench/history.js [--sizes 100,1000,5000,20000] [--rounds 7]
 */
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../src/engine/atomic-write.js";
import { HistoryLog } from "../src/engine/history-log.js";
import { DEPLOY_STEPS, type DeployRecord, newRecord, setPhase } from "../src/engine/lifecycle.js";
import { machineInfo } from "./machine-info.js";

/** A finished deploy as the engine records it, with analysis details in its steps. */
function record(n: number): DeployRecord {
  const r = newRecord(
    `d${n}`,
    "deploy",
    `1.${n}.0`,
    { colour: "blue", version: "1.0.0" },
    { colour: "green", version: `1.${n}.0` },
  );
  for (const step of r.steps) {
    step.state = "succeeded";
    step.startedAt = new Date().toISOString();
    step.endedAt = step.startedAt;
    step.durationMs = 1234;
    step.detail = `Pass: score 100 (errorRate Pass, p99 Pass, p50 Pass); 6/6 measurements; green 170 req 0.0% errors p50 7.7ms p99 23.2ms (${DEPLOY_STEPS.length} steps)`;
  }
  r.switchedAt = new Date().toISOString();
  setPhase(r, "Healthy");
  return r;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.floor(sorted.length / 2)] ?? 0) * 100) / 100;
};

function syncFile(path: string): void {
  const fd = openSync(path, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function main(): void {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string", default: "100,1000,5000,20000" },
      rounds: { type: "string", default: "7" },
    },
  });
  const sizes = values.sizes.split(",").map(Number);
  const rounds = Number(values.rounds);
  const folder = mkdtempSync(join(tmpdir(), "cutover-bench-history-"));
  const rows: { records: number; appendMs: number; rewriteMs: number; ratio: number; fileMiB: number }[] = [];
  try {
    for (const size of sizes) {
      const records = Array.from({ length: size }, (_, i) => record(i + 1));
      const lines = records.map((r) => `${JSON.stringify(r)}\n`).join("");
      const append: number[] = [];
      const rewrite: number[] = [];
      for (let round = 0; round < rounds; round++) {
        // Side by side in each round: the same history, then one more record.
        const next = record(size + 1 + round);
        const log = join(folder, `history-${size}.ndjson`);
        writeFileSync(log, lines);
        syncFile(log); // the history on disk already, as it is in use: only the new line is timed
        const history = new HistoryLog(log, join(folder, "absent.json"));
        let started = performance.now();
        history.append(next);
        append.push(performance.now() - started);

        const list = join(folder, `history-${size}.json`);
        started = performance.now();
        writeFileAtomic(list, `${JSON.stringify([...records, next], null, 2)}\n`);
        rewrite.push(performance.now() - started);
      }
      const appendMs = median(append);
      const rewriteMs = median(rewrite);
      rows.push({
        records: size,
        appendMs,
        rewriteMs,
        ratio: Math.round((rewriteMs / Math.max(appendMs, 0.01)) * 10) / 10,
        fileMiB: Math.round((Buffer.byteLength(lines) / 1024 / 1024) * 10) / 10,
      });
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  const result = {
    rounds,
    note: "median ms of one record added; rewriteMs is the whole-list rewrite cutover did before (the loaded history's JSON.stringify included, its parse not)",
    rows,
    machine: machineInfo({}),
  };
  const out = resolve(import.meta.dirname, "../../bench/results");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "history.json"), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main();
