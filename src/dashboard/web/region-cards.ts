import type { Colour } from "../../colour.js";
import type { DeployRecord } from "../../engine/lifecycle.js";
import type { ServiceStatus } from "../../engine/service-status.js";
import type { FleetRegionRecord } from "../../fleet/model/fleet-record.js";
import type { FleetView, RegionReading } from "../../fleet/model/fleet-view.js";
import { el } from "./dom.js";
import { dateTime } from "./format.js";

/**
 * One card per region, in the order cutover.yaml lists them: where it is reached, its health, its live and
 * idle colours with their versions, its deploy in progress or last, and its place in the fleet deploy. A
 * card is rebuilt only when what it shows changed.
 */
export class RegionCards {
  readonly #container: HTMLElement;
  readonly #cards = new Map<string, { key: string; node: HTMLElement }>();

  constructor(container: HTMLElement) {
    this.#container = container;
  }

  update(view: FleetView): void {
    const names = new Set(view.regions.map((r) => r.region));
    for (const [name, card] of this.#cards)
      if (!names.has(name)) {
        card.node.remove();
        this.#cards.delete(name);
      }
    for (const reading of view.regions) {
      const inFleet = view.fleetDeploy?.regions[reading.region] ?? null;
      const key = JSON.stringify([reading, inFleet]);
      const card = this.#cards.get(reading.region);
      if (card?.key === key) {
        this.#container.append(card.node); // keeps the order of cutover.yaml
        continue;
      }
      const node = "error" in reading ? unreachableCard(reading, inFleet) : regionCard(reading, inFleet);
      card?.node.remove();
      this.#container.append(node);
      this.#cards.set(reading.region, { key, node });
    }
  }
}

type Reachable = Extract<RegionReading, { status: ServiceStatus }>;
type Unreachable = Extract<RegionReading, { error: string }>;

function regionCard(reading: Reachable, inFleet: FleetRegionRecord | null): HTMLElement {
  const { status } = reading;
  const live = status.colours[status.active];
  const idle = status.colours[other(status.active)];
  const deploy = status.deploy ?? status.lastDeploy;
  return card(
    reading,
    { state: "reachable", live: status.active },
    el("span", { class: `badge ${status.health}`, "data-field": "health" }, status.health),
    el(
      "dl",
      { class: "facts" },
      el("dt", {}, "Live"),
      el("dd", { "data-field": "live" }, colourName(live.colour), " ", live.recordedVersion ?? "no version"),
      el("dt", {}, "Idle"),
      el(
        "dd",
        { "data-field": "idle" },
        colourName(idle.colour),
        " ",
        idle.recordedVersion ?? "no version",
        idle.recordedVersion === null ? "" : idle.running ? " (warm)" : " (stopped)",
      ),
      el("dt", {}, status.deploy ? "Deploying" : "Last deploy"),
      el("dd", { "data-field": "deploy" }, deploy ? deployLine(deploy) : "none yet"),
      ...fleetFacts(inFleet),
    ),
    deploy?.reason && deploy.phase !== "Healthy"
      ? el("p", { class: `reason${deploy.phase === "Aborted" ? " bad" : ""}` }, deploy.reason)
      : null,
  );
}

function unreachableCard(reading: Unreachable, inFleet: FleetRegionRecord | null): HTMLElement {
  return card(
    reading,
    { state: "unreachable" },
    el("span", { class: "badge unreachable", "data-field": "health" }, "unreachable"),
    el("p", { class: "reason bad", "data-field": "error" }, reading.error),
    inFleet ? el("dl", { class: "facts" }, ...fleetFacts(inFleet)) : null,
  );
}

function card(
  reading: RegionReading,
  data: { state: string; live?: Colour },
  badge: HTMLElement,
  ...body: (HTMLElement | null)[]
): HTMLElement {
  const title = `region-${reading.region}-title`;
  return el(
    "article",
    {
      class: "panel region-card",
      "aria-labelledby": title,
      "data-region": reading.region,
      "data-state": data.state,
      "data-live": data.live,
    },
    el("h3", { id: title }, reading.region, badge),
    el("p", { class: "note", "data-field": "where" }, reading.where),
    ...body,
  );
}

function fleetFacts(inFleet: FleetRegionRecord | null): HTMLElement[] {
  if (!inFleet) return [];
  return [
    el("dt", {}, "Fleet deploy"),
    el(
      "dd",
      { "data-field": "fleet-state", "data-state": inFleet.state },
      inFleet.state,
      inFleet.reason ? ` (${inFleet.reason})` : "",
    ),
  ];
}

function deployLine(record: DeployRecord): HTMLElement {
  return el(
    "span",
    {},
    `${record.id} ${record.kind} ${record.version}, ${record.from.colour} → ${record.to.colour} `,
    el("span", { class: `badge ${record.phase}` }, record.phase),
    ` ${record.endedAt ? `ended ${dateTime(record.endedAt)}` : `since ${dateTime(record.startedAt)}`}`,
  );
}

function colourName(colour: Colour): HTMLElement {
  return el("span", { class: `colour-name ${colour}` }, colour);
}

function other(colour: Colour): Colour {
  return colour === "blue" ? "green" : "blue";
}
