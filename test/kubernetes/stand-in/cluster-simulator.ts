/**
 * What the control plane and the nodes do while the driver waits: the deployment controller (one implicit
 * ReplicaSet per pod-template hash, rolling updates within maxSurge / maxUnavailable, status counts and the
 * Available / Progressing conditions with their reasons and messages, [DCTL] §4), the kubelet (pods start,
 * pass their readiness probe after a delay, never pass it, or crash-loop; Ready computed from the
 * containers and every readiness gate, [GEN] §6) and the HPA (below min → min, above max → max, current 0
 * with min ≠ 0 → no scaling, [HPA] §7; no metrics, so no other scaling). ReplicaSets are not served as API
 * objects: the driver never reads them. Time runs fast: termination takes `terminationMs`, the HPA syncs
 * every `hpaSyncMs` (15 s in a real cluster).
 *
 * The kubelet here plays pods (their readiness follows `behaviour`); with a `kubelet` in the options
 * (process mode, process-kubelet.ts) that one runs every pod as a real process instead. Either way each pod
 * gets its IP from the shared pod network (pod-network.ts).
 */
import { randomBytes } from "node:crypto";
import type { StandInApiServer } from "./api-server.js";
import { clone, isObject, type JsonObject, num, str } from "./json.js";
import { meta, nameOf, seconds } from "./object-store.js";
import { cond, findCondition, isReady, podConditions } from "./pod-conditions.js";
import { containerName, imageOf } from "./pod-fields.js";
import { PodNetwork } from "./pod-network.js";
import type { ProcessKubelet } from "./process-kubelet.js";
import { selects } from "./selectors.js";

/** Kept here for the code that imported it from the simulator. */
export { isReady } from "./pod-conditions.js";

export interface PodBehaviour {
  /** Milliseconds from start until the readiness probe passes; null: it never passes. */
  readonly readyAfterMs: number | null;
  /** The container exits again and again (CrashLoopBackOff). */
  readonly crash?: boolean;
  /** Its /health answers 503 (through a Service). */
  readonly failHealth?: boolean;
}

/** A pod's behaviour, chosen by its image and version (the `cutover.dev/version` annotation). */
export type BehaviourOf = (pod: { readonly image: string; readonly version: string }) => PodBehaviour;

export interface SimulatorOptions {
  readonly behaviour: BehaviourOf;
  readonly tickMs?: number;
  readonly hpaSyncMs?: number;
  readonly terminationMs?: number;
  /** Process mode: the kubelet that runs pods as processes (the simulated one plays them otherwise). */
  readonly kubelet?: ProcessKubelet;
  /** Where pod IPs come from; shared with the API server's pod proxy and kube-proxy. */
  readonly network?: PodNetwork;
}

interface RolloutMemory {
  readonly hashes: Set<string>;
  hash: string;
  progressAt: number;
  /** A reason set by a new or found ReplicaSet this round, kept until the next progress check. */
  pendingReason: { reason: string; message: string } | null;
  last: { updated: number; ready: number; available: number; old: number };
}

const CONTROLLER = "kube-controller-manager";

export class ClusterSimulator {
  readonly #server: StandInApiServer;
  readonly #o: SimulatorOptions;
  readonly #rollouts = new Map<string, RolloutMemory>();
  readonly #network: PodNetwork;
  /** When each pod was created, by name: the kubelet's clock for its probes. */
  readonly #startedAt = new Map<string, number>();
  #timers: NodeJS.Timeout[] = [];

  constructor(server: StandInApiServer, options: SimulatorOptions) {
    this.#server = server;
    this.#o = options;
    this.#network = options.network ?? new PodNetwork();
  }

  start(): void {
    this.#timers.push(setInterval(() => this.#safely(() => this.#tick()), this.#o.tickMs ?? 20));
    this.#timers.push(
      setInterval(() => this.#safely(() => this.#syncAutoscalers()), this.#o.hpaSyncMs ?? 100),
    );
  }

  stop(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
  }

  behaviourOf(pod: JsonObject): PodBehaviour {
    return this.#o.behaviour({
      image: imageOf(pod),
      version: str(annotationsOf(pod)["cutover.dev/version"]) ?? "",
    });
  }

  #safely(work: () => void): void {
    try {
      work();
    } catch (error) {
      // A controller that meets a conflict or a validation error tries again next round, as real ones do.
      if (process.env.STAND_IN_DEBUG) console.error(error);
    }
  }

  #tick(): void {
    const pods = this.#server.store.listAll("pods");
    if (this.#o.kubelet) this.#o.kubelet.sync(pods);
    else for (const pod of pods) this.#kubelet(pod);
    for (const deployment of this.#server.store.listAll("deployments")) this.#reconcile(deployment);
  }

  // --- kubelet -------------------------------------------------------------------------------------

  #kubelet(pod: JsonObject): void {
    const m = meta(pod);
    const namespace = String(m.namespace);
    const name = nameOf(pod);
    const deletedAt = str(m.deletionTimestamp);
    if (deletedAt) {
      if (Date.now() - Date.parse(deletedAt) < (this.#o.terminationMs ?? 30)) return;
      this.#server.deleteNow("pods", namespace, name);
      this.#network.release(namespace, name);
      return;
    }
    const status = this.#podStatus(pod);
    this.#server.write(
      "pods",
      namespace,
      name,
      "kubelet",
      (p) => {
        p.status = status;
      },
      "status",
    );
  }

  #podStatus(pod: JsonObject): JsonObject {
    const behaviour = this.behaviourOf(pod);
    const elapsed = Date.now() - (this.#startedAt.get(nameOf(pod)) ?? Date.now());
    const previous = isObject(pod.status) ? pod.status : {};
    if (elapsed < 10)
      return { ...previous, phase: "Pending", conditions: [cond(previous, "PodScheduled", "True")] };
    const ready = behaviour.readyAfterMs !== null && elapsed >= behaviour.readyAfterMs && !behaviour.crash;
    return {
      phase: "Running",
      podIP: this.#network.ipOf(String(meta(pod).namespace), nameOf(pod)),
      startTime: str(meta(pod).creationTimestamp) ?? null,
      conditions: podConditions(pod, ready, containerName(pod)),
      containerStatuses: [containerStatus(containerName(pod), imageOf(pod), ready, behaviour, elapsed)],
    };
  }

  // --- deployment controller --------------------------------------------------------------------------

  #reconcile(deployment: JsonObject): void {
    const m = meta(deployment);
    const namespace = String(m.namespace);
    const name = nameOf(deployment);
    const spec = deployment.spec as JsonObject;
    const template = spec.template as JsonObject;
    const desired = num(spec.replicas) ?? 1;
    const hash = templateHash(template);
    const memory = this.#memory(`${namespace}/${name}`, hash);
    const rs = `${name}-${hash}`;
    if (memory.hash !== hash) {
      const found = memory.hashes.has(hash);
      memory.pendingReason = found
        ? { reason: "FoundNewReplicaSet", message: `Found new replica set "${rs}"` }
        : { reason: "NewReplicaSetCreated", message: `Created new replica set "${rs}"` };
      memory.hashes.add(hash);
      memory.hash = hash;
      memory.progressAt = Date.now();
    }
    const { surge, unavailable } = rollingLimits(spec, desired);
    const ownPods = () =>
      this.#server.store
        .list("pods", namespace)
        .filter((p) => !meta(p).deletionTimestamp && selects(matchLabels(spec), p));
    let pods = ownPods();
    let fresh = pods.filter((p) => labelsOf(p)["pod-template-hash"] === hash);
    const create = Math.min(desired - fresh.length, desired + surge - pods.length);
    for (let i = 0; i < create; i++) this.#createPod(namespace, name, template, hash);
    if (fresh.length > desired) for (const pod of pick(fresh, fresh.length - desired)) this.#terminate(pod);
    pods = ownPods();
    fresh = pods.filter((p) => labelsOf(p)["pod-template-hash"] === hash);
    const old = pods.filter((p) => labelsOf(p)["pod-template-hash"] !== hash);
    let available = pods.filter(isReady).length;
    for (const pod of old.filter((p) => !isReady(p))) this.#terminate(pod);
    for (const pod of old.filter(isReady)) {
      if (desired > 0 && available - 1 < desired - unavailable) break;
      this.#terminate(pod);
      available -= 1;
    }
    pods = ownPods();
    this.#writeStatus(deployment, pods, hash, desired, unavailable, memory, rs);
  }

  #writeStatus(
    deployment: JsonObject,
    pods: JsonObject[],
    hash: string,
    desired: number,
    unavailable: number,
    memory: RolloutMemory,
    rs: string,
  ): void {
    const updated = pods.filter((p) => labelsOf(p)["pod-template-hash"] === hash).length;
    const ready = pods.filter(isReady).length;
    const available = ready;
    const counts = { updated, ready, available, old: pods.length - updated };
    const previous = isObject(deployment.status) ? deployment.status : {};
    const complete = updated === desired && pods.length === desired && available === desired;
    const progressed =
      counts.updated > memory.last.updated ||
      counts.ready > memory.last.ready ||
      counts.available > memory.last.available ||
      counts.old < memory.last.old;
    memory.last = counts;
    const current = findCondition(previous, "Progressing");
    let progressing: { status: string; reason: string; message: string };
    if (complete)
      progressing = {
        status: "True",
        reason: "NewReplicaSetAvailable",
        message: `ReplicaSet "${rs}" has successfully progressed.`,
      };
    else if (memory.pendingReason) progressing = { status: "True", ...memory.pendingReason };
    else if (progressed) {
      memory.progressAt = Date.now();
      progressing = {
        status: "True",
        reason: "ReplicaSetUpdated",
        message: `ReplicaSet "${rs}" is progressing.`,
      };
    } else if (
      current &&
      current.reason !== "NewReplicaSetAvailable" &&
      Date.now() - memory.progressAt > deadlineMs(deployment)
    ) {
      progressing = {
        status: "False",
        reason: "ProgressDeadlineExceeded",
        message: `ReplicaSet "${rs}" has timed out progressing.`,
      };
    } else
      progressing = current
        ? { status: String(current.status), reason: String(current.reason), message: String(current.message) }
        : { status: "True", reason: "ReplicaSetUpdated", message: `ReplicaSet "${rs}" is progressing.` };
    memory.pendingReason = null;
    const availableOk = available >= desired - unavailable;
    const availableCondition = availableOk
      ? {
          status: "True",
          reason: "MinimumReplicasAvailable",
          message: "Deployment has minimum availability.",
        }
      : {
          status: "False",
          reason: "MinimumReplicasUnavailable",
          message: "Deployment does not have minimum availability.",
        };
    const status: JsonObject = {
      observedGeneration: num(meta(deployment).generation) ?? 1,
      replicas: pods.length,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, pods.length - available),
      conditions: [
        condition(previous, "Available", availableCondition, null),
        condition(previous, "Progressing", progressing, seconds(new Date(memory.progressAt))),
      ],
    };
    for (const key of [
      "readyReplicas",
      "availableReplicas",
      "updatedReplicas",
      "replicas",
      "unavailableReplicas",
    ]) {
      if (status[key] === 0) delete status[key];
    }
    this.#server.write(
      "deployments",
      String(meta(deployment).namespace),
      nameOf(deployment),
      CONTROLLER,
      (d) => {
        d.status = status;
      },
      "status",
    );
  }

  #memory(key: string, hash: string): RolloutMemory {
    let memory = this.#rollouts.get(key);
    if (!memory) {
      memory = {
        hashes: new Set(),
        hash: "",
        progressAt: Date.now(),
        pendingReason: null,
        last: { updated: 0, ready: 0, available: 0, old: 0 },
      };
      this.#rollouts.set(key, memory);
    }
    void hash;
    return memory;
  }

  #createPod(namespace: string, deployment: string, template: JsonObject, hash: string): void {
    const templateMeta = isObject(template.metadata) ? template.metadata : {};
    const pod: JsonObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: `${deployment}-${hash}-${randomBytes(3).toString("hex").slice(0, 5)}`,
        labels: { ...(isObject(templateMeta.labels) ? templateMeta.labels : {}), "pod-template-hash": hash },
        annotations: { ...(isObject(templateMeta.annotations) ? templateMeta.annotations : {}) },
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "ReplicaSet",
            name: `${deployment}-${hash}`,
            uid: hash,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: clone(template.spec ?? {}),
      status: { phase: "Pending" },
    };
    this.#startedAt.set(String((pod.metadata as JsonObject).name), Date.now());
    this.#server.createAs("pods", namespace, pod, CONTROLLER);
  }

  /**
   * Graceful deletion: deletionTimestamp now and deletionGracePeriodSeconds from the pod spec (default 30);
   * the kubelet removes the pod when its containers have stopped (the simulated one after `terminationMs`).
   */
  #terminate(pod: JsonObject): void {
    const spec = isObject(pod.spec) ? pod.spec : {};
    this.#server.write("pods", String(meta(pod).namespace), nameOf(pod), CONTROLLER, (p) => {
      meta(p).deletionTimestamp = new Date().toISOString();
      meta(p).deletionGracePeriodSeconds = num(spec.terminationGracePeriodSeconds) ?? 30;
    });
  }

  // --- HPA ----------------------------------------------------------------------------------------

  #syncAutoscalers(): void {
    for (const hpa of this.#server.store.listAll("horizontalpodautoscalers")) {
      const namespace = String(meta(hpa).namespace);
      const spec = hpa.spec as JsonObject;
      const ref = spec.scaleTargetRef as JsonObject;
      const target = this.#server.store.get("deployments", namespace, String(ref.name));
      if (!target) continue;
      const current = num((target.spec as JsonObject).replicas) ?? 1;
      const min = num(spec.minReplicas) ?? 1;
      const max = num(spec.maxReplicas) ?? min;
      let desired = current;
      let active = {
        status: "True",
        reason: "ValidMetricFound",
        message: "the HPA was able to successfully calculate a replica count",
      };
      if (current === 0 && min !== 0) {
        active = {
          status: "False",
          reason: "ScalingDisabled",
          message: "scaling is disabled since the replica count of the target is zero",
        };
      } else if (current > max) desired = max;
      else if (current < min) desired = min;
      if (desired !== current) {
        this.#server.write("deployments", namespace, String(ref.name), CONTROLLER, (d) => {
          (d.spec as JsonObject).replicas = desired;
        });
      }
      const previous = isObject(hpa.status) ? hpa.status : {};
      const status: JsonObject = {
        currentReplicas: current,
        desiredReplicas: desired,
        conditions: [condition(previous, "ScalingActive", active, null)],
      };
      this.#server.write(
        "horizontalpodautoscalers",
        namespace,
        nameOf(hpa),
        CONTROLLER,
        (h) => {
          h.status = status;
        },
        "status",
      );
    }
  }
}

// --- helpers -----------------------------------------------------------------------------------------

const labelsOf = (o: JsonObject): JsonObject =>
  isObject(meta(o).labels) ? (meta(o).labels as JsonObject) : {};
const annotationsOf = (o: JsonObject): JsonObject =>
  isObject(meta(o).annotations) ? (meta(o).annotations as JsonObject) : {};
const matchLabels = (spec: JsonObject): JsonObject =>
  ((spec.selector as JsonObject)?.matchLabels as JsonObject) ?? {};

/** A Deployment or HPA condition with lastUpdateTime (progress time for Progressing) and lastTransitionTime. */
function condition(
  previous: JsonObject,
  type: string,
  value: { status: string; reason: string; message: string },
  updatedAt: string | null,
): JsonObject {
  const before = findCondition(previous, type);
  const changed = !before || before.status !== value.status || before.reason !== value.reason;
  const now = seconds(new Date());
  return {
    type,
    ...value,
    lastUpdateTime: updatedAt ?? (changed ? now : (before?.lastUpdateTime ?? now)),
    lastTransitionTime: before && before.status === value.status ? (before.lastTransitionTime ?? now) : now,
  };
}

function containerStatus(
  name: string,
  image: string,
  ready: boolean,
  behaviour: PodBehaviour,
  elapsed: number,
): JsonObject {
  if (behaviour.crash) {
    return {
      name,
      image,
      ready: false,
      started: false,
      restartCount: Math.floor(elapsed / 100),
      state: {
        waiting: { reason: "CrashLoopBackOff", message: `back-off 10s restarting failed container=${name}` },
      },
      lastState: { terminated: { exitCode: 1, reason: "Error" } },
    };
  }
  return { name, image, ready, started: true, restartCount: 0, state: { running: {} } };
}

function templateHash(template: JsonObject): string {
  let h = 0x811c9dc5;
  for (const c of JSON.stringify(template)) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(36).padStart(7, "0").slice(0, 10);
}

/** maxSurge rounds up, maxUnavailable rounds down; both 0 is not allowed, so surge becomes 1 ([APPS]). */
function rollingLimits(spec: JsonObject, desired: number): { surge: number; unavailable: number } {
  const rolling =
    isObject(spec.strategy) && isObject(spec.strategy.rollingUpdate) ? spec.strategy.rollingUpdate : {};
  const resolve = (value: unknown, up: boolean) => {
    if (typeof value === "number") return value;
    const percent = typeof value === "string" ? Number(value.replace("%", "")) : 25;
    const exact = (desired * percent) / 100;
    return up ? Math.ceil(exact) : Math.floor(exact);
  };
  const surge = resolve(rolling.maxSurge, true);
  const unavailable = resolve(rolling.maxUnavailable, false);
  return { surge: surge === 0 && unavailable === 0 ? 1 : surge, unavailable };
}

function deadlineMs(deployment: JsonObject): number {
  return (num((deployment.spec as JsonObject).progressDeadlineSeconds) ?? 600) * 1000;
}

/** `count` pods to remove, unready ones first, then the newest. */
function pick(pods: JsonObject[], count: number): JsonObject[] {
  return [...pods]
    .sort((a, b) => Number(isReady(a)) - Number(isReady(b)) || nameOf(b).localeCompare(nameOf(a)))
    .slice(0, count);
}
