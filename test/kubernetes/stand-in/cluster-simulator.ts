/**
 * What the control plane and the nodes do while the driver waits: the deployment controller (one implicit
 * ReplicaSet per pod-template hash, rolling updates within maxSurge / maxUnavailable, status counts and the
 * Available / Progressing conditions with their reasons and messages, [DCTL] §4), the kubelet (pods start,
 * pass their readiness probe after a delay, never pass it, or crash-loop; Ready computed from the
 * containers and every readiness gate, [GEN] §6) and the HPA (below min → min, above max → max, current 0
 * with min ≠ 0 → no scaling, [HPA] §7; no metrics, so no other scaling). ReplicaSets are not served as API
 * objects: the driver never reads them. Time runs fast: termination takes `terminationMs`, the HPA syncs
 * every `hpaSyncMs` (15 s in a real cluster).
 */
import { randomBytes } from "node:crypto";
import type { StandInApiServer } from "./api-server.js";
import { clone, isObject, type JsonObject, num, str } from "./json.js";
import { meta, nameOf, seconds } from "./object-store.js";
import { selects } from "./selectors.js";

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
  readonly #podIps = new Map<string, string>();
  /** When each pod was created, by name: the kubelet's clock for its probes. */
  readonly #startedAt = new Map<string, number>();
  #timers: NodeJS.Timeout[] = [];
  #ipCounter = 10;

  constructor(server: StandInApiServer, options: SimulatorOptions) {
    this.#server = server;
    this.#o = options;
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
    for (const pod of this.#server.store.listAll("pods")) this.#kubelet(pod);
    for (const deployment of this.#server.store.listAll("deployments")) this.#reconcile(deployment);
  }

  // --- kubelet -------------------------------------------------------------------------------------

  #kubelet(pod: JsonObject): void {
    const m = meta(pod);
    const namespace = String(m.namespace);
    const name = nameOf(pod);
    const deletedAt = str(m.deletionTimestamp);
    if (deletedAt) {
      if (Date.now() - Date.parse(deletedAt) >= (this.#o.terminationMs ?? 30))
        this.#server.deleteNow("pods", namespace, name);
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
    const container = containerName(pod);
    if (elapsed < 10)
      return { ...previous, phase: "Pending", conditions: [cond(previous, "PodScheduled", "True")] };
    const ready = behaviour.readyAfterMs !== null && elapsed >= behaviour.readyAfterMs && !behaviour.crash;
    const unready = {
      reason: "ContainersNotReady",
      message: `containers with unready status: [${container}]`,
    };
    const containersReady = cond(
      previous,
      "ContainersReady",
      ready ? "True" : "False",
      ready ? undefined : unready,
    );
    const gates = readinessGates(pod);
    const gateProblem = ready ? gates.map((g) => gateMessage(previous, g)).find((m) => m !== null) : null;
    const podReady = ready && !gateProblem;
    const readyCondition = cond(
      previous,
      "Ready",
      podReady ? "True" : "False",
      podReady
        ? undefined
        : ready
          ? { reason: "ReadinessGatesNotReady", message: gateProblem ?? "" }
          : unready,
    );
    const own = new Set(["PodScheduled", "Initialized", "ContainersReady", "Ready"]);
    const others = (Array.isArray(previous.conditions) ? previous.conditions : []).filter(
      (c) => isObject(c) && !own.has(String(c.type)),
    );
    return {
      phase: "Running",
      podIP: this.#ip(pod),
      startTime: str(meta(pod).creationTimestamp) ?? null,
      conditions: [
        cond(previous, "PodScheduled", "True"),
        cond(previous, "Initialized", "True"),
        containersReady,
        readyCondition,
        ...others,
      ],
      containerStatuses: [containerStatus(container, imageOf(pod), ready, behaviour, elapsed)],
    };
  }

  #ip(pod: JsonObject): string {
    const key = nameOf(pod);
    let ip = this.#podIps.get(key);
    if (!ip) {
      this.#ipCounter += 1;
      ip = `10.244.${Math.floor(this.#ipCounter / 250)}.${this.#ipCounter % 250}`;
      this.#podIps.set(key, ip);
    }
    return ip;
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

  /** Graceful deletion: deletionTimestamp now; the kubelet removes the pod after `terminationMs`. */
  #terminate(pod: JsonObject): void {
    this.#server.write("pods", String(meta(pod).namespace), nameOf(pod), CONTROLLER, (p) => {
      meta(p).deletionTimestamp = new Date().toISOString();
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
const firstContainer = (pod: JsonObject): JsonObject => {
  const containers = isObject(pod.spec) && Array.isArray(pod.spec.containers) ? pod.spec.containers : [];
  return isObject(containers[0]) ? containers[0] : {};
};
const imageOf = (pod: JsonObject) => str(firstContainer(pod).image) ?? "";
const containerName = (pod: JsonObject) => str(firstContainer(pod).name) ?? "app";

export function isReady(pod: JsonObject): boolean {
  const conditions =
    isObject(pod.status) && Array.isArray(pod.status.conditions) ? pod.status.conditions : [];
  return conditions.some((c) => isObject(c) && c.type === "Ready" && c.status === "True");
}

function findCondition(status: JsonObject, type: string): JsonObject | undefined {
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  return conditions.find((c): c is JsonObject => isObject(c) && c.type === type);
}

/** A pod condition; lastTransitionTime only moves when the status does. */
function cond(
  previous: JsonObject,
  type: string,
  status: string,
  why?: { reason: string; message: string },
): JsonObject {
  const before = findCondition(previous, type);
  const since = before && before.status === status ? before.lastTransitionTime : seconds(new Date());
  return { type, status, lastProbeTime: null, lastTransitionTime: since ?? null, ...(why ?? {}) };
}

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

function readinessGates(pod: JsonObject): string[] {
  const gates = isObject(pod.spec) && Array.isArray(pod.spec.readinessGates) ? pod.spec.readinessGates : [];
  return gates.flatMap((g) => (isObject(g) && typeof g.conditionType === "string" ? [g.conditionType] : []));
}

/** [GEN]: the two messages of a gate that holds Ready back; null when the gate is open. */
function gateMessage(status: JsonObject, gate: string): string | null {
  const c = findCondition(status, gate);
  if (!c) return `corresponding condition of pod readiness gate "${gate}" does not exist.`;
  if (c.status !== "True")
    return `the status of pod readiness gate "${gate}" is not "True", but ${String(c.status)}`;
  return null;
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
