/**
 * Renders deploy reports in a worker thread: Vega and resvg take 100-300 ms of CPU per report, which on the
 * daemon's own thread would stall the router for that long.
 */
import { parentPort } from "node:worker_threads";
import { writeReport } from "./write-report.js";

export interface ReportJob {
  readonly id: number;
  readonly journal: string;
  readonly dir: string;
}

parentPort?.on("message", (job: ReportJob) => {
  writeReport(job.journal, job.dir).then(
    (written) => parentPort?.postMessage({ id: job.id, written }),
    (error: unknown) => parentPort?.postMessage({ id: job.id, error: (error as Error).message }),
  );
});
