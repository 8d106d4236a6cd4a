import type { KubernetesObject, V1Deployment, V1Pod, V1Service } from "@kubernetes/client-node";
import { type Logger, pino } from "pino";
import { type Colour, isColour } from "../../colour.js";
import { CLIENT_GO_TIMINGS, LeaderElector, type LeaseTimings } from "./gatekeeper-lease.js";
import { gatekeeperName } from "./gatekeeper-manifests.js";
import { WatchedList } from "./gatekeeper-watch.js";
import { apiMessage, type KubeClients } from "./kube-clients.js";
import { ANNOTATIONS, names } from "./manifest-names.js";
import { openGates } from "./readiness-gate.js";

export interface GatekeeperOptions {
  readonly clients: KubeClients;
  /** The service whose pods it keeps: `service:` of cutover.yaml. */
  readonly service: string;
  /** This replica among the gatekeepers competing for the Lease; unique. */
  readonly identity: string;
  /** Lease duration, renew deadline and retry period; default client-go's 15 s, 10 s and 2 s. */
  readonly timings?: LeaseTimings;
  /** Every pod is looked at again this often even without an event (client-go's resync); default 30 s. */
  readonly resyncMs?: number;
  /** Each watch is ended by the server after this long and started again from where it was; default 300 s. */
  readonly watchTimeoutSeconds?: number;
  readonly logger?: Logger;
}

/** The pods the gatekeeper may open: the live colour's, of the version its Deployment names. */
export interface LiveVersion {
  readonly colour: Colour;
  readonly version: string;
}

/** Why there is nothing the gatekeeper may open now; said once in the log until it changes. */
export interface NothingLive {
  readonly problem: string;
}

interface Caches {
  readonly service: WatchedList<V1Service>;
  readonly deployments: WatchedList<V1Deployment>;
  readonly pods: WatchedList<V1Pod>;
}

/**
 * `cutover gatekeeper`: opens the readiness gate of the live colour's pods whenever they appear (an HPA
 * scale-up, a rescheduled pod, a node drain), so they do not wait for the next cutover command. The live
 * colour is the one the active Service selects; its version the `cutover.dev/version` annotation of that
 * colour's Deployment, the version that passed its checks when it went live. Pods of the idle colour are
 * never opened here: the CLI opens those after its pre-switch checks. Both write the same condition with an
 * idempotent patch, so they never fight.
 *
 * Only the leader acts (a Lease elects one of the replicas). It watches the active Service, the service's
 * Deployments and its pods (list + watch, see WatchedList) and after each change opens what is closed.
 */
export class Gatekeeper {
  readonly #o: GatekeeperOptions;
  readonly #log: Logger;
  readonly #elector: LeaderElector;
  readonly #stop = new AbortController();
  #running: Promise<void> | null = null;
  #caches: Caches | null = null;
  #reconciling: Promise<void> | null = null;
  #again = false;
  #retry: NodeJS.Timeout | undefined;
  #problem: string | null = null;
  /**
   * Each pod as last looked at (live colour, version, resourceVersion): a pod whose gate was just opened is
   * not patched again before the watch brings the change; a resync looks at every pod again.
   */
  #seen = new Map<string, string>();

  constructor(options: GatekeeperOptions) {
    this.#o = options;
    this.#log = (options.logger ?? pino({ enabled: false })).child({
      component: "gatekeeper",
      service: options.service,
    });
    this.#elector = new LeaderElector({
      clients: options.clients,
      lease: gatekeeperName(options.service),
      identity: options.identity,
      timings: this.#timings,
      logger: this.#log,
    });
  }

  get identity(): string {
    return this.#o.identity;
  }

  /** True while this replica holds the Lease and keeps the gates. */
  get leading(): boolean {
    return this.#elector.leading;
  }

  /** Competes for the Lease and keeps the gates while it leads; resolves once stopped. */
  run(): Promise<void> {
    this.#running ??= this.#elector.run(this.#stop.signal, (leading) => this.#lead(leading));
    return this.#running;
  }

  /** Stops watching and releases the Lease (a standby takes over at its next try). */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  get #timings(): LeaseTimings {
    return this.#o.timings ?? CLIENT_GO_TIMINGS;
  }

  async #lead(leading: AbortSignal): Promise<void> {
    const caches = this.#watch();
    this.#caches = caches;
    this.#seen.clear();
    for (const cache of Object.values(caches)) cache.start();
    const resync = setInterval(() => {
      this.#seen.clear();
      this.#kick();
    }, this.#o.resyncMs ?? 30_000);
    await new Promise<void>((resolve) => leading.addEventListener("abort", () => resolve(), { once: true }));
    clearInterval(resync);
    clearTimeout(this.#retry);
    this.#caches = null;
    await Promise.all(Object.values(caches).map((cache) => cache.stop()));
    await this.#reconciling;
  }

  #watch(): Caches {
    const { core, apps, namespace, watch } = this.#o.clients;
    const service = this.#o.service;
    const active = names.activeService(service);
    const ofService = `app=${service}`;
    const byName = `metadata.name=${active}`;
    const common = {
      watch,
      logger: this.#log,
      onChange: () => this.#kick(),
      ...(this.#o.watchTimeoutSeconds === undefined ? {} : { timeoutSeconds: this.#o.watchTimeoutSeconds }),
      retryMs: this.#timings.retryPeriodMs,
    };
    return {
      service: new WatchedList<V1Service>({
        ...common,
        what: `service ${active}`,
        path: `/api/v1/namespaces/${namespace}/services`,
        fieldSelector: byName,
        list: () => core.listNamespacedService({ namespace, fieldSelector: byName }),
      }),
      deployments: new WatchedList<V1Deployment>({
        ...common,
        what: `deployments of ${service}`,
        path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
        labelSelector: ofService,
        list: () => apps.listNamespacedDeployment({ namespace, labelSelector: ofService }),
      }),
      pods: new WatchedList<V1Pod>({
        ...common,
        what: `pods of ${service}`,
        path: `/api/v1/namespaces/${namespace}/pods`,
        labelSelector: ofService,
        list: () => core.listNamespacedPod({ namespace, labelSelector: ofService }),
      }),
    };
  }

  /** Looks again after a change; one look at a time, and one more if something changed meanwhile. */
  #kick(): void {
    this.#again = true;
    if (this.#reconciling) return;
    this.#reconciling = (async () => {
      while (this.#again) {
        this.#again = false;
        await this.#reconcile().catch((error: unknown) => this.#retryLater(error));
      }
      this.#reconciling = null;
    })();
  }

  #retryLater(error: unknown): void {
    if (this.#caches === null) return; // no longer leading: nothing to try again
    this.#log.warn({ err: apiMessage(error) }, "could not open a readiness gate; trying again");
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => this.#kick(), this.#timings.retryPeriodMs);
  }

  async #reconcile(): Promise<void> {
    const caches = this.#caches;
    if (!caches || !Object.values(caches).every((cache) => cache.synced)) return;
    const active = caches.service.get(names.activeService(this.#o.service));
    const live = liveVersion(this.#o.service, active, (name) => caches.deployments.get(name));
    this.#report("problem" in live ? live.problem : null);
    if ("problem" in live) return;
    const pods = caches.pods.items().filter((pod) => labelOf(pod, "version") === live.colour);
    const seen = (pod: V1Pod) => `${live.colour} ${live.version} ${pod.metadata?.resourceVersion}`;
    const unseen = pods.filter((pod) => this.#seen.get(pod.metadata?.name ?? "") !== seen(pod));
    const opened = await openGates(this.#o.clients, unseen, live.version);
    this.#seen = new Map(pods.map((pod) => [pod.metadata?.name ?? "", seen(pod)]));
    if (opened > 0)
      this.#log.info({ ...live, opened }, "opened the readiness gate of the live colour's new pods");
  }

  #report(problem: string | null): void {
    if (problem === this.#problem) return;
    if (problem) this.#log.warn({ problem }, "no live colour to keep: opening nothing");
    else if (this.#problem) this.#log.info("the live colour is known again");
    this.#problem = problem;
  }
}

/** The live colour (the active Service's `version` selector) and the version its Deployment names. */
export function liveVersion(
  service: string,
  active: V1Service | undefined,
  deploymentNamed: (name: string) => V1Deployment | undefined,
): LiveVersion | NothingLive {
  const activeName = names.activeService(service);
  if (!active)
    return {
      problem: `service ${activeName} does not exist: create it with \`cutover render kubernetes | kubectl apply -f -\``,
    };
  const colour = active.spec?.selector?.version;
  if (!isColour(colour))
    return {
      problem: `service ${activeName} selects no colour (spec.selector.version is ${JSON.stringify(colour ?? null)}); a deploy or \`cutover rollback\` puts blue or green back`,
    };
  const name = names.deployment(service, colour);
  const deployment = deploymentNamed(name);
  const version = deployment?.metadata?.annotations?.[ANNOTATIONS.version];
  if (!version)
    return {
      problem: deployment
        ? `deployment ${name} (the live colour) has no ${ANNOTATIONS.version} annotation; deploy with cutover to set it`
        : `deployment ${name} (the live colour) does not exist`,
    };
  return { colour, version };
}

function labelOf(object: KubernetesObject, key: string): string | undefined {
  return object.metadata?.labels?.[key];
}
