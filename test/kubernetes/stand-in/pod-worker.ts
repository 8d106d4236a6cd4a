/**
 * The kubelet's work for one pod in process mode (pkg/kubelet pod workers, kuberuntime, status manager;
 * [GEN] §6): the pod gets its IP at once (the sandbox), then its first container runs as a local process
 * (container-process.ts) with the environment of container-env.ts, and PORT set to a free loopback port
 * that stands for the container's port in the pod (PORT from the spec, else the demo app's 3000).
 *
 * - A missing Secret or ConfigMap: the container waits with CreateContainerConfigError; the next sync
 *   tries again. The pod stays Pending until its container first runs, then Running.
 * - Probes (prober.ts) decide `started` and `ready`; Ready is computed from the container and every
 *   readiness gate (pod-conditions.ts).
 * - A process that exits is restarted with the kubelet's back-off (crash-backoff.ts), restartCount bumped,
 *   lastState.terminated kept; during the back-off it waits with CrashLoopBackOff.
 * - Deletion (a deletionTimestamp): SIGTERM, SIGKILL after deletionGracePeriodSeconds or
 *   terminationGracePeriodSeconds (default 30, one second lasting `secondMs`); once the process has
 *   exited, the pod object is removed, as the kubelet's final delete does.
 *
 * Only the first container runs; the image is not looked at (every container is the demo app).
 */
import { freePort } from "../../../src/process/free-port.js";
import type { StandInApiServer } from "./api-server.js";
import { ContainerConfigError, containerEnv } from "./container-env.js";
import { type ContainerExit, ContainerProcess } from "./container-process.js";
import { CrashBackoff, goDuration } from "./crash-backoff.js";
import { isObject, type Json, type JsonObject, num, str } from "./json.js";
import { meta, nameOf, seconds } from "./object-store.js";
import { podConditions } from "./pod-conditions.js";
import { containerName, firstContainer, imageOf, namedPort } from "./pod-fields.js";
import type { LoopbackAddress, PodNetwork } from "./pod-network.js";
import { ContainerProbes } from "./prober.js";

/** The node's address: every pod runs on this machine. */
export const HOST_IP = "127.0.0.1";
const DEMO_DEFAULT_PORT = 3000;

export interface PodWorkerOptions {
  readonly server: StandInApiServer;
  readonly network: PodNetwork;
  readonly secondMs: number;
  /** Environment added over the pod spec's, e.g. ERROR_RATIO for one version. */
  readonly extraEnv: (pod: JsonObject) => Readonly<Record<string, string>>;
  /** The script a pod's image stands for; undefined: the demo app. */
  readonly program: (pod: JsonObject) => string | undefined;
  /** The pod object is gone (deleted after its process exited). */
  readonly onGone: () => void;
}

interface Waiting {
  readonly reason: string;
  readonly message?: string;
}

export class PodWorker {
  readonly #o: PodWorkerOptions;
  readonly #namespace: string;
  readonly #name: string;
  readonly #ip: string;
  #pod: JsonObject;
  #process: ContainerProcess | null = null;
  #probes: ContainerProbes | null = null;
  #podPort = DEMO_DEFAULT_PORT;
  #starting = false;
  #starts = 0;
  #waiting: Waiting | null = { reason: "ContainerCreating" };
  #lastTerminated: JsonObject | null = null;
  #lastLog = "";
  readonly #backoff = new CrashBackoff();
  #restartAt = 0;
  #stopping: Promise<void> | null = null;

  constructor(pod: JsonObject, options: PodWorkerOptions) {
    this.#o = options;
    this.#pod = pod;
    this.#namespace = String(meta(pod).namespace);
    this.#name = nameOf(pod);
    this.#ip = options.network.ipOf(this.#namespace, this.#name);
  }

  get pid(): number | null {
    return this.#process?.pid ?? null;
  }

  /** What the last run that exited wrote, then what the running one has written so far. */
  get log(): string {
    return this.#lastLog + (this.#process?.log ?? "");
  }

  /** One round of the kubelet for this pod: start or stop what the pod object asks for, write status. */
  sync(pod: JsonObject): void {
    this.#pod = pod;
    if (meta(pod).deletionTimestamp) this.#terminate();
    else if (!this.#process && !this.#starting && Date.now() >= this.#restartAt) void this.#start();
    this.#writeStatus();
  }

  /** SIGKILL now (the stand-in closes, or the pod was removed without a grace period). */
  async kill(): Promise<void> {
    this.#stopping ??= Promise.resolve();
    this.#probes?.stop();
    await this.#process?.kill();
  }

  async #start(): Promise<void> {
    this.#starting = true;
    try {
      const env = { ...containerEnv(this.#envContext()), ...this.#o.extraEnv(this.#pod) };
      const port = await freePort("127.0.0.1");
      if (this.#stopping) return;
      this.#run(env, port);
    } catch (error) {
      const config = error instanceof ContainerConfigError;
      this.#waiting = {
        reason: config ? "CreateContainerConfigError" : "RunContainerError",
        message: (error as Error).message,
      };
    } finally {
      this.#starting = false;
    }
  }

  #run(env: Record<string, string>, port: number): void {
    const run = ContainerProcess.start(
      { ...env, HOSTNAME: this.#name, PORT: String(port) },
      this.#o.program(this.#pod),
    );
    this.#starts += 1;
    this.#process = run;
    this.#waiting = null;
    this.#podPort = Number(env.PORT) || DEMO_DEFAULT_PORT;
    this.#o.network.listen(this.#ip, this.#podPort, port);
    this.#probes = new ContainerProbes({
      container: firstContainer(this.#pod),
      target: (p) => this.#target(p),
      secondMs: this.#o.secondMs,
      onFailed: () => void run.stop(this.#graceMs()),
    });
    void run.exited.then((exit) => this.#exited(run, exit));
  }

  #exited(run: ContainerProcess, exit: ContainerExit): void {
    if (this.#process !== run) return;
    this.#process = null;
    this.#probes?.stop();
    this.#probes = null;
    this.#lastLog = run.log;
    this.#o.network.unlisten(this.#ip, this.#podPort);
    this.#lastTerminated = terminatedState(exit, run.startedAt);
    if (this.#stopping) return;
    const wait = this.#backoff.afterExit(Date.now() / this.#o.secondMs);
    this.#restartAt = Date.now() + wait * this.#o.secondMs;
    const container = containerName(this.#pod);
    const pod = `${this.#name}_${this.#namespace}(${String(meta(this.#pod).uid)})`;
    this.#waiting =
      wait > 0
        ? {
            reason: "CrashLoopBackOff",
            message: `back-off ${goDuration(wait)} restarting failed container=${container} pod=${pod}`,
          }
        : null;
  }

  #terminate(): void {
    if (this.#stopping) return;
    this.#probes?.podTerminating();
    const graceMs = this.#graceMs();
    this.#stopping = (async () => {
      await this.#process?.stop(graceMs);
      this.#o.network.release(this.#namespace, this.#name);
      this.#o.server.deleteNow("pods", this.#namespace, this.#name);
      this.#o.onGone();
    })();
  }

  #graceMs(): number {
    const spec = isObject(this.#pod.spec) ? this.#pod.spec : {};
    const seconds =
      num(meta(this.#pod).deletionGracePeriodSeconds) ?? num(spec.terminationGracePeriodSeconds) ?? 30;
    return seconds * this.#o.secondMs;
  }

  /** A probe's port (a number or a container port's name) on the pod's IP. */
  #target(port: number | string): LoopbackAddress | null {
    const number = typeof port === "number" ? port : namedPort(this.#pod, port);
    return number === null ? null : this.#o.network.addressOf(this.#ip, number);
  }

  #envContext() {
    return {
      server: this.#o.server,
      pod: this.#pod,
      container: firstContainer(this.#pod),
      podIP: this.#ip,
      hostIP: HOST_IP,
    };
  }

  #writeStatus(): void {
    const status = this.#status();
    this.#o.server.write(
      "pods",
      this.#namespace,
      this.#name,
      "kubelet",
      (p) => {
        p.status = status;
      },
      "status",
    );
  }

  #status(): JsonObject {
    const ready = this.#process !== null && this.#probes?.ready === true;
    return {
      phase: this.#starts > 0 ? "Running" : "Pending",
      hostIP: HOST_IP,
      hostIPs: [{ ip: HOST_IP }],
      podIP: this.#ip,
      podIPs: [{ ip: this.#ip }],
      startTime: str(meta(this.#pod).creationTimestamp) ?? null,
      conditions: podConditions(this.#pod, ready, containerName(this.#pod)),
      containerStatuses: [this.#containerStatus(ready)],
    };
  }

  #containerStatus(ready: boolean): JsonObject {
    const running = this.#process;
    const state: JsonObject = running
      ? { running: { startedAt: seconds(running.startedAt) } }
      : this.#waiting
        ? { waiting: { ...this.#waiting } }
        : { terminated: this.#lastTerminated ?? {} };
    const showLast = this.#lastTerminated !== null && state.terminated === undefined;
    return {
      name: containerName(this.#pod),
      image: imageOf(this.#pod),
      ready,
      started: running !== null && this.#probes?.started === true,
      restartCount: Math.max(0, this.#starts - 1),
      state,
      lastState: showLast ? { terminated: this.#lastTerminated as Json } : {},
    };
  }
}

function terminatedState(exit: ContainerExit, startedAt: Date): JsonObject {
  return {
    exitCode: exit.exitCode,
    reason: exit.exitCode === 0 ? "Completed" : "Error",
    startedAt: seconds(startedAt),
    finishedAt: seconds(exit.finishedAt),
  };
}
