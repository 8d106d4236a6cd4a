import type { DeployRecord } from "../../engine/lifecycle.js";
import type { ReportIndex } from "../live-message.js";
import { el } from "./dom.js";
import { dateTime, duration } from "./format.js";

/** Finished deploys and rollbacks, newest first, with buttons that open their reports. */
export class DeployHistory {
  readonly #body: HTMLElement;
  readonly #open: (deploy: string, file: string) => void;
  #key = "";

  constructor(body: HTMLElement, open: (deploy: string, file: string) => void) {
    this.#body = body;
    this.#open = open;
  }

  update(history: readonly DeployRecord[], reports: ReportIndex): void {
    const key = JSON.stringify([history.map((r) => [r.id, r.phase]), reports]);
    if (key === this.#key) return;
    this.#key = key;
    if (history.length === 0) {
      this.#body.replaceChildren(el("p", { class: "empty-note" }, "No finished deploys yet."));
      return;
    }
    const rows = [...history].reverse().map((r) => this.#row(r, reports[r.id] ?? []));
    this.#body.replaceChildren(
      el(
        "table",
        {},
        el("caption", { class: "visually-hidden" }, "Finished deploys and rollbacks, newest first"),
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", { scope: "col" }, "Deploy"),
            el("th", { scope: "col" }, "Result"),
            el("th", { scope: "col", class: "optional" }, "Move"),
            el("th", { scope: "col", class: "optional" }, "Started"),
            el("th", { scope: "col", class: "optional" }, "Took"),
            el("th", { scope: "col" }, "Why"),
            el("th", { scope: "col" }, "Report"),
          ),
        ),
        el("tbody", {}, ...rows),
      ),
    );
  }

  #row(r: DeployRecord, files: readonly string[]): HTMLElement {
    const took = r.endedAt ? duration(Date.parse(r.endedAt) - Date.parse(r.startedAt)) : "";
    const buttons = files.map((file) => {
      const button = el(
        "button",
        { type: "button", class: "link", "aria-label": `open report ${file} of ${r.id}` },
        shortName(file),
      );
      button.addEventListener("click", () => this.#open(r.id, file));
      return button;
    });
    return el(
      "tr",
      { "data-deploy": r.id },
      el("td", {}, `${r.id} ${r.kind} ${r.version}`),
      el("td", {}, el("span", { class: `badge ${r.phase}` }, r.phase)),
      el("td", { class: "optional" }, `${r.from.colour} → ${r.to.colour}`),
      el("td", { class: "optional" }, dateTime(r.startedAt)),
      el("td", { class: "optional" }, took),
      el("td", { class: "reason-cell" }, r.reason ?? ""),
      el("td", {}, ...(buttons.length > 0 ? buttons : ["–"])),
    );
  }
}

function shortName(file: string): string {
  const dot = file.lastIndexOf(".");
  return dot < 0 ? file : file.slice(dot + 1).toUpperCase();
}
