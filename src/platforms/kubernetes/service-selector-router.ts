import type { V1Service } from "@kubernetes/client-node";
import { type Logger, pino } from "pino";
import { type Colour, isColour, otherColour } from "../../colour.js";
import type { SwitchProbeConfig } from "../../config/kubernetes-schema.js";
import type { DrainResult, SwitchResult, TrafficRouter } from "../../engine/ports/traffic-router.js";
import { SwitchNotConfirmedError } from "./errors.js";
import { callApi, type KubeClients, patchAs } from "./kube-clients.js";
import { ANNOTATIONS, FIELD_MANAGER, names } from "./manifest-names.js";
import { retryOnConflict } from "./retry-on-conflict.js";
import { confirmSwitch } from "./switch-probe.js";

export interface ServiceSelectorRouterOptions {
  readonly clients: KubeClients;
  readonly service: string;
  /** When set, a switch is confirmed by asking the active Service until only the new version answers. */
  readonly probe?: SwitchProbeConfig | null;
  /** The version a colour runs (the switch probe waits for it). */
  readonly versionOf: (colour: Colour) => Promise<string | null>;
  /** Runs just before the selector moves, after the engine's pre-switch checks (e.g. opening readiness gates). */
  readonly beforeSwitch?: (colour: Colour) => Promise<void>;
  readonly logger?: Logger;
}

/**
 * The data plane on Kubernetes: the active Service's selector. A switch patches `spec.selector.version`
 * with a JSON merge patch that carries the resourceVersion it read, so a concurrent change makes it fail
 * with 409 and it reads again and recomputes (never a blind overwrite); an unchanged selector is left
 * alone. Requests in flight keep their connections to the old pods, which run until their scale-down;
 * there is nothing for cutover to count or cancel, so drain answers at once with zero counts.
 */
export class ServiceSelectorRouter implements TrafficRouter {
  readonly #o: ServiceSelectorRouterOptions;
  readonly #log: Logger;
  #active: Colour;
  /** A Service is a set of kube-proxy rules: a connection is forwarded at once or refused; nothing waits in it. */
  readonly requestHold = null;

  private constructor(options: ServiceSelectorRouterOptions, active: Colour) {
    this.#o = options;
    this.#active = active;
    this.#log = (options.logger ?? pino({ enabled: false })).child({ component: "service-selector-router" });
  }

  /** Reads which colour the active Service selects now. */
  static async open(options: ServiceSelectorRouterOptions): Promise<ServiceSelectorRouter> {
    const router = new ServiceSelectorRouter(options, "blue");
    const service = await router.#read(router.#activeName);
    router.#active = selectedColour(service) ?? "blue";
    return router;
  }

  get active(): Colour {
    return this.#active;
  }

  setEndpoints(): void {}

  /**
   * Moves the active Service to `colour`, confirms it when a probe is configured (putting the selector back
   * when it cannot), then points the preview Service at the other colour, which is now the idle one.
   */
  async switchTo(colour: Colour): Promise<SwitchResult> {
    await this.#o.beforeSwitch?.(colour);
    const from = await this.#select(this.#activeName, colour);
    const at = Date.now();
    this.#active = colour;
    this.#log.info({ from, to: colour }, "selector switched");
    await this.#confirm(colour, from);
    await this.#select(names.previewService(this.#o.service), otherColour(colour)).catch((error: unknown) =>
      this.#log.error(
        { err: (error as Error).message },
        "could not point the preview Service at the idle colour",
      ),
    );
    return { from, to: colour, at };
  }

  async #confirm(colour: Colour, from: Colour): Promise<void> {
    const probe = this.#o.probe;
    if (!probe) return;
    const version = (await this.#o.versionOf(colour)) ?? "?";
    const verdict = await confirmSwitch(probe, version, undefined, colour);
    if (verdict.confirmed) {
      this.#log.info({ to: colour, seen: verdict.seen }, "switch confirmed");
      return;
    }
    const restored = await this.#select(this.#activeName, from).then(
      () => true,
      (error: unknown) => {
        this.#log.error({ err: (error as Error).message }, "could not put the selector back");
        return false;
      },
    );
    if (restored) this.#active = from;
    throw new SwitchNotConfirmedError(probe.url, version, verdict.seen, restored);
  }

  async drain(_colour: Colour, _timeoutMs: number): Promise<DrainResult> {
    return { completed: 0, cancelled: 0 };
  }

  inFlight(_colour: Colour): number {
    return 0;
  }

  get #activeName(): string {
    return names.activeService(this.#o.service);
  }

  /** Points a Service's selector at `colour` (re-reading after each 409); returns the colour it selected before. */
  #select(name: string, colour: Colour): Promise<Colour> {
    return callApi(`switching service ${name} to ${colour}`, () =>
      retryOnConflict(`switching service ${name}`, async (round) => {
        const service = await this.#read(name);
        const before = selectedColour(service) ?? otherColour(colour);
        if (service.spec?.selector?.version === colour) return before;
        const switched = JSON.stringify({ from: before, to: colour, at: new Date().toISOString() });
        const body = {
          metadata: {
            resourceVersion: service.metadata?.resourceVersion,
            annotations: { [ANNOTATIONS.switched]: switched },
          },
          spec: { selector: { version: colour } },
        };
        if (round > 1)
          this.#log.warn(
            { service: name, round },
            "the service changed meanwhile; read again, switching again",
          );
        await this.#o.clients.core.patchNamespacedService(
          { name, namespace: this.#o.clients.namespace, body, fieldManager: FIELD_MANAGER },
          patchAs.merge(),
        );
        return before;
      }),
    );
  }

  #read(name: string): Promise<V1Service> {
    return callApi(`reading service ${name}`, () =>
      this.#o.clients.core.readNamespacedService({ name, namespace: this.#o.clients.namespace }),
    );
  }
}

function selectedColour(service: V1Service): Colour | null {
  const version = service.spec?.selector?.version;
  return isColour(version) ? version : null;
}
