import { Worker } from "node:worker_threads";
import { compiledWorker } from "../worker-path.js";
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

function reportWorker(): Worker {
  if (worker) return worker;
  const started = new Worker(compiledWorker(import.meta.url, "report/report-worker.js"));
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
