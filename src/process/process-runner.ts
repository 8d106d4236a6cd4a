import { GuardedProcess, type GuardedProcessOptions, type ProcessExit } from "./guarded-process.js";

/** One run of a service: its pid once known, how it ended, and a way to stop it. */
export interface ProcessRun {
  /** The service's pid (and process group id); null until it is known. */
  readonly pid: number | null;
  readonly exited: Promise<ProcessExit>;
  /** SIGTERM to the service's group, SIGKILL after the stop grace; resolves when it has exited. */
  terminate(): Promise<ProcessExit>;
}

/** What a run is started with, and the replica it belongs to (kept with the run, for a later daemon to adopt it). */
export interface RunRequest extends GuardedProcessOptions {
  /** A name unique among the runs of one runner (`blue-0#3`: replica and run). */
  readonly key: string;
  readonly labels: Readonly<Record<string, string | number>>;
}

/**
 * Where replicas run: in this process's guards (`guardedRunner`), or in the data plane process, which keeps
 * them running while the daemon is away (src/dataplane).
 */
export interface ProcessRunner {
  run(request: RunRequest): ProcessRun;
}

/** Runs each replica through a guard that is a child of this process: it dies with this process. */
export const guardedRunner: ProcessRunner = {
  run: (request) => new GuardedProcess(request),
};
