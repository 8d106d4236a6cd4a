import type { FleetRecord, FleetWaveRecord } from "../../fleet/model/fleet-record.js";
import type { FleetView } from "../../fleet/model/fleet-view.js";
import { el } from "./dom.js";
import { clock, dateTime } from "./format.js";

/**
 * The fleet deploy in progress, or the last one: its id, version, phase and why it halted, then each wave
 * with its regions (and where each is), its state, the end of its bake and the judge's verdict.
 */
export class FleetDeployPanel {
  readonly #body: HTMLElement;
  #key = "";

  constructor(body: HTMLElement) {
    this.#body = body;
  }

  update(view: FleetView): void {
    const key = JSON.stringify([view.fleetDeploy, view.fleetDeployError, view.runnerGone]);
    if (key === this.#key) return;
    this.#key = key;
    const record = view.fleetDeploy;
    if (view.fleetDeployError !== null) {
      this.#body.replaceChildren(el("p", { class: "reason bad" }, view.fleetDeployError));
      return;
    }
    if (record === null) {
      this.#body.replaceChildren(
        el("p", { class: "empty-note", id: "fleet-phase", "data-phase": "none" }, "No fleet deploy yet."),
      );
      return;
    }
    const parts = [
      head(record),
      record.reason
        ? el("p", { class: `reason${record.phase === "Aborted" ? " bad" : ""}` }, record.reason)
        : null,
      view.runnerGone
        ? el(
            "p",
            { class: "reason bad" },
            `Its runner (pid ${record.runner.pid} on ${record.runner.host}) is gone: run \`cutover abort\` to send the regions it switched back.`,
          )
        : null,
      el("ol", { class: "waves", "aria-label": "Waves" }, ...record.waves.map((w, i) => wave(record, w, i))),
    ];
    this.#body.replaceChildren(...parts.filter((part) => part !== null));
  }
}

function head(record: FleetRecord): HTMLElement {
  const when = record.endedAt
    ? `${dateTime(record.startedAt)} – ${clock(Date.parse(record.endedAt))}`
    : `since ${dateTime(record.startedAt)}`;
  return el(
    "div",
    { class: "deploy-head" },
    el("h3", { id: "fleet-deploy-name" }, `${record.id} of ${record.version}`),
    el(
      "span",
      { class: `badge ${record.phase}`, id: "fleet-phase", "data-phase": record.phase },
      record.phase,
    ),
    el("span", { class: "note" }, when),
  );
}

function wave(record: FleetRecord, w: FleetWaveRecord, index: number): HTMLElement {
  const regions = w.regions.map((name) => {
    const region = record.regions[name];
    return region ? `${name} (${region.state})` : name;
  });
  const details: string[] = [];
  if (w.bakeEndsAt)
    details.push(`${w.state === "baking" ? "bakes until" : "bake ended"} ${clock(Date.parse(w.bakeEndsAt))}`);
  return el(
    "li",
    { class: "wave", "data-wave": index + 1, "data-state": w.state },
    el("span", { class: "wave-name" }, `Wave ${index + 1}`),
    el("span", {}, `${regions.join(", ")}: `, el("strong", {}, w.state)),
    details.length > 0 ? el("span", { class: "wave-detail" }, details.join(" · ")) : null,
    w.verdict
      ? el(
          "span",
          { class: "wave-detail", "data-field": "verdict" },
          el("span", { class: `verdict ${w.verdict.verdict}` }, w.verdict.verdict),
          w.verdict.score === null ? "" : ` (score ${w.verdict.score})`,
          `: ${w.verdict.reason}`,
        )
      : null,
  );
}
