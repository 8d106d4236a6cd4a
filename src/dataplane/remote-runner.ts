import type { ProcessExit } from "../process/guarded-process.js";
import type { ProcessRun, ProcessRunner, RunRequest } from "../process/process-runner.js";
import type { DataPlaneClient } from "./dataplane-client.js";
import { M, type RunInfo, type RunStart } from "./protocol.js";

/** One run in the data plane process, as the daemon sees it. */
class RemoteRun implements ProcessRun {
  readonly key: string;
  readonly exited: Promise<ProcessExit>;
  #pid: number | null;
  #resolve!: (exit: ProcessExit) => void;
  readonly #client: DataPlaneClient;
  onPid: (pid: number) => void = () => {};

  constructor(client: DataPlaneClient, key: string, pid: number | null) {
    this.#client = client;
    this.key = key;
    this.#pid = pid;
    this.exited = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get pid(): number | null {
    return this.#pid;
  }

  spawned(pid: number): void {
    this.#pid = pid;
    this.onPid(pid);
  }

  ended(exit: ProcessExit): void {
    this.#resolve(exit);
    this.#client.notify(M.runForget, { key: this.key });
  }

  async terminate(): Promise<ProcessExit> {
    try {
      const exit = await this.#client.request<ProcessExit>(M.runTerminate, { key: this.key });
      this.ended(exit);
    } catch (error) {
      // The data plane process is gone: so is the run (its guard dies with it).
      this.ended({ code: null, signal: null, error: (error as Error).message });
    }
    return this.exited;
  }
}

/**
 * Runs replicas in the data plane process, so that they go on while the daemon is away. Pids and exits
 * come back as notifications.
 */
export class RemoteRunner implements ProcessRunner {
  readonly #client: DataPlaneClient;
  readonly #runs = new Map<string, RemoteRun>();

  constructor(client: DataPlaneClient) {
    this.#client = client;
    client.on<{ key: string; pid: number }>(M.runPid, ({ key, pid }) => this.#runs.get(key)?.spawned(pid));
    client.on<{ key: string; exit: ProcessExit }>(M.runExit, ({ key, exit }) => {
      this.#runs.get(key)?.ended(exit);
      this.#runs.delete(key);
    });
  }

  run(request: RunRequest): ProcessRun {
    const run = new RemoteRun(this.#client, request.key, null);
    run.onPid = request.onPid;
    this.#runs.set(request.key, run);
    const { onPid: _, ...start } = request;
    this.#client.request(M.runStart, start satisfies RunStart).catch((error: Error) => {
      this.#runs.delete(request.key);
      run.ended({ code: null, signal: null, error: error.message });
    });
    return run;
  }

  /** The runs the data plane process holds now (those an earlier daemon started), as runs of this runner. */
  async found(): Promise<{ info: RunInfo; run: ProcessRun }[]> {
    const infos = await this.#client.request<RunInfo[]>(M.runList);
    return infos.map((info) => {
      const run = new RemoteRun(this.#client, info.key, info.pid);
      if (info.exit) run.ended(info.exit);
      else this.#runs.set(info.key, run);
      return { info, run };
    });
  }
}
