import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { ReportJob } from "./report-worker.js";
import type { WrittenReport } from "./write-report.js";

interface Answer {
  readonly id: number;
  readonly written?: WrittenReport;
  readonly error?: string;
}

let worker: Worker | null = null;
let nextId = 0;
const waiting = new Map<number, { resolve: (w: WrittenReport) => void; reject: (e: Error) => void }>();

/** Where the compiled worker is: beside this module in dist/, or dist/'s copy when running from sources. */
function workerPath(): string {
  const candidates = [
    fileURLToPath(new URL("./report-worker.js", import.meta.url)),
    fileURLToPath(new URL("../../dist/src/report/report-worker.js", import.meta.url)),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found)
    throw new Error(
      `the report worker is not built (looked for ${candidates.join(", ")}); run \`npm run build\``,
    );
  return found;
}

function reportWorker(): Worker {
  if (worker) return worker;
  const started = new Worker(workerPath());
  started.on("message", (answer: Answer) => {
    const job = waiting.get(answer.id);
    waiting.delete(answer.id);
    if (waiting.size === 0) started.unref(); // idle: never keeps the daemon alive
    if (answer.written) job?.resolve(answer.written);
    else job?.reject(new Error(answer.error ?? "the report worker gave no answer"));
  });
  started.on("error", (error) => {
    for (const job of waiting.values()) job.reject(error);
    waiting.clear();
    worker = null;
  });
  started.on("exit", () => {
    worker = null;
  });
  worker = started;
  return started;
}

/** writeReport in the report worker thread; one report at a time, in order. */
export function writeReportOffThread(journal: string, dir: string): Promise<WrittenReport> {
  return new Promise((resolve, reject) => {
    const job: ReportJob = { id: nextId++, journal, dir };
    waiting.set(job.id, { resolve, reject });
    const thread = reportWorker();
    thread.ref(); // a report on its way keeps the process until it is written
    thread.postMessage(job);
  });
}
