import { setTimeout as sleep } from "node:timers/promises";
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { type Logger, pino } from "pino";
import { COLOURS, type Colour, isColour, otherColour } from "../../colour.js";
import type { KubernetesConfig } from "../../config/kubernetes-schema.js";
import type { Config } from "../../config/schema.js";
import { formatDuration } from "../../duration.js";
import type { ColourStatus, Endpoint, Platform, WaitReadyOptions } from "../../engine/ports/platform.js";
import { CutoverError } from "../../errors.js";
import { autoscalerManifest, idleMinimum, liveMinimum } from "./autoscaler-manifest.js";
import type { ColourSpec } from "./colour-spec.js";
import { containerEnv } from "./container-env.js";
import { databaseSecretManifest, databaseSecretName } from "./database-secret-manifest.js";
import { deploymentManifest } from "./deployment-manifest.js";
import { disruptionBudgetManifest } from "./disruption-budget-manifest.js";
import { RolloutFailedError } from "./errors.js";
import { callApi, isNotFound, type KubeClients, patchAs } from "./kube-clients.js";
import { ANNOTATIONS, FIELD_MANAGER, MANAGED_BY, names } from "./manifest-names.js";
import { nextDeploymentChange } from "./next-change.js";
import { replicaStatus } from "./pod-status.js";
import { previewServes } from "./preview-probe.js";
import { openGates } from "./readiness-gate.js";
import { gatedRolloutVerdict, type RolloutVerdict, rolloutVerdict } from "./rollout-status.js";

export interface KubernetesPlatformOptions {
  readonly config: Config;
  readonly kube: KubernetesConfig;
  readonly clients: KubeClients;
  readonly logger?: Logger;
  /** How often pods are re-read while waiting on them (readiness gate); default 500 ms. */
  readonly pollMs?: number;
  /**
   * Where this machine reaches the preview Service (kubernetes.preview): with a switchProbe, waitReady
   * waits until the preview serves the colour it selects, so smoke checks never test the colour before
   * (kube-proxy follows a selector or endpoint change a moment late).
   */
  readonly previewUrl?: string | null;
}

/** What was last read of one colour: its Deployment (if any) and its pods. */
interface ColourSnapshot {
  readonly deployment: V1Deployment | null;
  readonly pods: readonly V1Pod[];
}

const EMPTY: ColourSnapshot = { deployment: null, pods: [] };

/**
 * Colours as one Deployment each. start = server-side apply of the colour's Deployment (new image and
 * replicas) with its PDB and HPA (minimum restored); waitReady = the `kubectl rollout status` rules;
 * stop = scale to `warmReplicas` and lower the HPA minimum. Traffic goes through Services, so there are no
 * endpoints to announce: the ServiceSelectorRouter moves it. status() answers from the last read
 * (`refresh()`), which every call here renews.
 */
export class KubernetesPlatform implements Platform {
  readonly #o: KubernetesPlatformOptions;
  readonly #log: Logger;
  readonly #snapshots = new Map<Colour, ColourSnapshot>();
  #closed = new AbortController();
  /** Scale-downs under way, so a CLI process can wait for them before it exits. */
  readonly #stopping = new Set<Promise<void>>();

  constructor(options: KubernetesPlatformOptions) {
    this.#o = options;
    this.#log = (options.logger ?? pino({ enabled: false })).child({ component: "kubernetes-platform" });
  }

  get #service(): string {
    return this.#o.config.service;
  }

  get #namespace(): string {
    return this.#o.clients.namespace;
  }

  async start(
    colour: Colour,
    version: string,
    replicas: number,
    env: Readonly<Record<string, string>> = {},
  ): Promise<void> {
    const { config, kube } = this.#o;
    const count = await this.#capacity(colour, replicas);
    const spec = { colour, version, replicas: count, env };
    await this.#applySecret(spec);
    const name = names.deployment(this.#service, colour);
    this.#log.info({ colour, version, replicas: count }, "applying deployment");
    await this.#apply("Deployment", name, deploymentManifest(config, kube, spec));
    const budget = disruptionBudgetManifest(this.#service, kube, colour);
    if (budget)
      await this.#apply("PodDisruptionBudget", names.disruptionBudget(this.#service, colour), budget);
    if (kube.autoscaling) {
      const minimum = liveMinimum(kube.autoscaling, config.replicas);
      const hpa = autoscalerManifest(this.#service, kube, colour, minimum);
      if (hpa) await this.#apply("HorizontalPodAutoscaler", names.autoscaler(this.#service, colour), hpa);
    }
    await this.refresh();
  }

  async waitReady(colour: Colour, options: WaitReadyOptions): Promise<void> {
    const gated = this.#o.kube.readinessGate;
    await this.#waitRollout(colour, options, (d) =>
      gated ? gatedRolloutVerdict(d, this.#pods(colour)) : rolloutVerdict(d),
    );
    await this.#previewServes(colour, options.signal);
  }

  /** With a switchProbe and a preview address: waits until the preview serves the colour it selects. */
  async #previewServes(colour: Colour, signal?: AbortSignal): Promise<void> {
    const probe = this.#o.kube.switchProbe;
    const url = this.#o.previewUrl;
    if (!probe || !url) return;
    const version = (await this.versionOf(colour)) ?? "?";
    const preview = { clients: this.#o.clients, service: this.#service, probe, url };
    const verdict = await previewServes(preview, colour, version, signal);
    if (verdict) this.#log.info({ colour, seen: verdict.seen }, "the preview Service serves the colour");
  }

  /**
   * The readiness gate: once the pre-switch checks passed, sets the gate condition True on every pod of the
   * colour's current version (PATCH pods/{name}/status, strategic merge by condition type), again for pods
   * that appear meanwhile, until the rollout is complete by the plain `kubectl rollout status` rules
   * (every pod Ready and available). Returns how many pods it opened. Does nothing without `readinessGate`.
   */
  async openReadinessGate(colour: Colour, options: WaitReadyOptions): Promise<number> {
    if (!this.#o.kube.readinessGate) return 0;
    let opened = 0;
    await this.#waitRollout(colour, { ...options, pollMs: this.#pollMs }, async (deployment) => {
      const version = deployment.spec?.template.metadata?.annotations?.[ANNOTATIONS.version] ?? "";
      opened += await openGates(this.#o.clients, this.#pods(colour), version);
      return rolloutVerdict(deployment);
    });
    this.#log.info({ colour, opened }, "readiness gate opened");
    return opened;
  }

  /**
   * Opens the gate on the pods of the colour's current version now, without waiting: for the live colour,
   * whose version passed its checks when it went live, and whose new pods (an HPA scale-up, a rescheduled
   * pod) would otherwise stay out of rotation. Every cutover command runs it for the live colour.
   */
  async releaseGates(colour: Colour): Promise<number> {
    if (!this.#o.kube.readinessGate) return 0;
    const deployment = await this.#read(colour);
    const version = deployment?.spec?.template.metadata?.annotations?.[ANNOTATIONS.version];
    if (!version) return 0;
    await this.refresh();
    return openGates(this.#o.clients, this.#pods(colour), version);
  }

  stop(colour: Colour): Promise<void> {
    const stopping = this.#stop(colour);
    this.#stopping.add(stopping);
    return stopping.finally(() => this.#stopping.delete(stopping));
  }

  /** Resolves when no scale-down is under way. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#stopping]);
  }

  async #stop(colour: Colour): Promise<void> {
    const { kube } = this.#o;
    const warm = kube.warmReplicas;
    const name = names.deployment(this.#service, colour);
    if (kube.autoscaling) {
      const hpa = names.autoscaler(this.#service, colour);
      await callApi(`lowering the minimum of HPA ${hpa}`, () =>
        this.#o.clients.autoscaling
          .patchNamespacedHorizontalPodAutoscaler(
            {
              name: hpa,
              namespace: this.#namespace,
              body: { spec: { minReplicas: idleMinimum(warm) } },
              fieldManager: FIELD_MANAGER,
            },
            patchAs.merge(),
          )
          .catch(ignoreNotFound),
      );
    }
    this.#log.info({ colour, replicas: warm }, "scaling down");
    await callApi(`scaling deployment ${name} to ${warm}`, () =>
      this.#o.clients.apps
        .patchNamespacedDeploymentScale(
          {
            name,
            namespace: this.#namespace,
            body: { spec: { replicas: warm } },
            fieldManager: FIELD_MANAGER,
          },
          patchAs.merge(),
        )
        .catch(ignoreNotFound),
    );
    await this.#podsGone(colour, warm);
  }

  /**
   * Waits until the colour runs at most `warm` pods, terminating ones included: only then has its old
   * version stopped serving and touching the database (contract migrations run after this). Gives up after
   * the pods' termination grace period and 30 s more, and says so.
   */
  async #podsGone(colour: Colour, warm: number): Promise<void> {
    const deadline = Date.now() + this.#o.config.start.stopGrace + 30_000;
    const signal = this.#closed.signal;
    for (;;) {
      await this.refresh();
      const left = this.#pods(colour).length;
      if (left <= warm) return;
      if (Date.now() > deadline || signal.aborted) {
        this.#log.warn({ colour, left, warm }, "pods of the scaled-down colour are still terminating");
        return;
      }
      await sleep(this.#pollMs, undefined, { signal }).catch(() => {});
    }
  }

  status(colour: Colour): ColourStatus {
    const { deployment, pods } = this.#snapshots.get(colour) ?? EMPTY;
    const running = (deployment?.spec?.replicas ?? 0) > 0 || pods.length > 0;
    const version = running ? (deployment?.metadata?.annotations?.[ANNOTATIONS.version] ?? null) : null;
    const port = this.#o.kube.containerPort;
    return { colour, version, replicas: pods.map((pod, i) => replicaStatus(pod, colour, i, port)) };
  }

  /** The version a colour's Deployment runs, read now; null when it has none. */
  async versionOf(colour: Colour): Promise<string | null> {
    const deployment = await this.#read(colour);
    return deployment?.metadata?.annotations?.[ANNOTATIONS.version] ?? null;
  }

  /** Reads both colours' Deployments and pods (two list calls) for status(). */
  async refresh(): Promise<void> {
    const { apps, core } = this.#o.clients;
    const labelSelector = `app=${this.#service}`;
    const [deployments, pods] = await callApi(`listing the deployments and pods of ${this.#service}`, () =>
      Promise.all([
        apps.listNamespacedDeployment({ namespace: this.#namespace, labelSelector }),
        core.listNamespacedPod({ namespace: this.#namespace, labelSelector }),
      ]),
    );
    for (const colour of COLOURS) {
      const deployment = deployments.items.find(
        (d) => d.metadata?.name === names.deployment(this.#service, colour),
      );
      const own = pods.items
        .filter((p) => isColour(p.metadata?.labels?.version) && p.metadata?.labels?.version === colour)
        .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
      this.#snapshots.set(colour, { deployment: deployment ?? null, pods: own });
    }
  }

  /** Traffic goes through Services: there are no endpoints to hand to a router. */
  onEndpoints(_listener: (colour: Colour, endpoints: readonly Endpoint[]) => void): () => void {
    return () => {};
  }

  /** Stops waiting; leaves everything in the cluster as it is. */
  async close(): Promise<void> {
    this.#closed.abort(new Error("the Kubernetes platform was closed"));
    this.#closed = new AbortController();
  }

  get #pollMs(): number {
    return this.#o.pollMs ?? 500;
  }

  #pods(colour: Colour): readonly V1Pod[] {
    return this.#snapshots.get(colour)?.pods ?? [];
  }

  /**
   * Re-reads the Deployment after each change (a watch from its resourceVersion) until `judge` says done
   * or failed, or the time is up. `pollMs` also re-judges without a Deployment change (pods move alone).
   */
  async #waitRollout(
    colour: Colour,
    options: WaitReadyOptions & { readonly pollMs?: number },
    judge: (deployment: V1Deployment) => RolloutVerdict | Promise<RolloutVerdict>,
  ): Promise<void> {
    const name = names.deployment(this.#service, colour);
    const deadline = Date.now() + options.timeoutMs;
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.#closed.signal])
      : this.#closed.signal;
    const poll = this.#o.kube.readinessGate ? this.#pollMs : (options.pollMs ?? Number.POSITIVE_INFINITY);
    for (;;) {
      signal.throwIfAborted();
      const deployment = await this.#read(colour);
      if (!deployment) throw this.#rolloutError(colour, `deployment "${name}" not found`);
      await this.refresh();
      const verdict = await judge(deployment);
      if (verdict.state === "done") return;
      if (verdict.state === "failed") throw this.#rolloutError(colour, verdict.message);
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const waited = formatDuration(options.timeoutMs);
        throw this.#rolloutError(
          colour,
          `timed out waiting for the condition after ${waited} (deploy.readyTimeout); ${verdict.message}`,
        );
      }
      const started = Date.now();
      const rv = deployment.metadata?.resourceVersion ?? "";
      const outcome = await nextDeploymentChange(
        this.#o.clients,
        name,
        rv,
        Math.min(remaining, poll),
        signal,
      );
      if (outcome === "deleted") throw this.#rolloutError(colour, "object has been deleted");
      if (Date.now() - started < 50) await sleep(50);
    }
  }

  #rolloutError(colour: Colour, verdict: string): RolloutFailedError {
    const problems = this.status(colour)
      .replicas.filter((r) => !r.ready)
      .map(
        (r) => `${r.id} (${r.state}, ${r.restarts} restarts): ${r.lastProblem ?? "no problem reported yet"}`,
      );
    return new RolloutFailedError(colour, names.deployment(this.#service, colour), verdict, problems);
  }

  async #read(colour: Colour): Promise<V1Deployment | null> {
    const name = names.deployment(this.#service, colour);
    return callApi(`reading deployment ${name}`, () =>
      this.#o.clients.apps
        .readNamespacedDeployment({ name, namespace: this.#namespace })
        .catch(ignoreNotFound),
    );
  }

  /** The replicas to start with: at least `replicas`, and as many as the other colour runs now (up to the HPA maximum). */
  async #capacity(colour: Colour, replicas: number): Promise<number> {
    const live = (await this.#read(otherColour(colour)))?.spec?.replicas ?? 0;
    const max = this.#o.kube.autoscaling?.maxReplicas ?? Number.POSITIVE_INFINITY;
    const count = Math.max(replicas, Math.min(live, max));
    if (count > replicas)
      this.#log.info({ colour, replicas, live }, "starting at the live colour's capacity");
    return count;
  }

  /**
   * cutover's Secret with the values the colour's pods must not get as plain values (its database URL),
   * applied before the Deployment that reads it. Its keys are logged, never its values.
   */
  async #applySecret(spec: ColourSpec): Promise<void> {
    const { config, kube } = this.#o;
    const values = containerEnv(config, kube, spec).secret;
    const secret = databaseSecretManifest(this.#service, spec.colour, kube, values);
    if (!secret) return;
    const name = databaseSecretName(this.#service, spec.colour);
    await this.#refuseForeignSecret(name);
    this.#log.info(
      { colour: spec.colour, secret: name, keys: Object.keys(secret.data ?? {}) },
      "applying secret",
    );
    await this.#apply("Secret", name, secret);
  }

  /** A Secret of that name that cutover did not make is somebody else's: never take it over. */
  async #refuseForeignSecret(name: string): Promise<void> {
    const found = await callApi(`reading secret ${name}`, () =>
      this.#o.clients.core.readNamespacedSecret({ name, namespace: this.#namespace }).catch(ignoreNotFound),
    );
    if (
      found &&
      found.metadata?.labels?.["app.kubernetes.io/managed-by"] !== MANAGED_BY["app.kubernetes.io/managed-by"]
    )
      throw new CutoverError(
        "SECRET_NOT_OURS",
        `the Secret ${name} exists and was not made by cutover (no label app.kubernetes.io/managed-by=cutover); cutover keeps the colour's database URL there: rename or delete that Secret, or name your own with kubernetes.database.secret`,
      );
  }

  /** Server-side apply, forced: cutover owns these fields and takes them back from other managers. */
  async #apply(kind: string, name: string, body: object): Promise<void> {
    const { apps, core, policy, autoscaling } = this.#o.clients;
    const request = { name, namespace: this.#namespace, body, fieldManager: FIELD_MANAGER, force: true };
    await callApi(`applying ${kind} ${name}`, async () => {
      if (kind === "Deployment") await apps.patchNamespacedDeployment(request, patchAs.apply());
      else if (kind === "Secret") await core.patchNamespacedSecret(request, patchAs.apply());
      else if (kind === "PodDisruptionBudget")
        await policy.patchNamespacedPodDisruptionBudget(request, patchAs.apply());
      else await autoscaling.patchNamespacedHorizontalPodAutoscaler(request, patchAs.apply());
    });
  }
}

function ignoreNotFound(error: unknown): null {
  if (isNotFound(error)) return null;
  throw error;
}
