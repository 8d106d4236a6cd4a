import type { DeployRecord, StepRecord } from "../../engine/lifecycle.js";
import { el, setText } from "./dom.js";
import { duration } from "./format.js";

const MARKS: Readonly<Record<StepRecord["state"], string>> = {
  pending: "○",
  running: "●",
  succeeded: "✓",
  failed: "✗",
  skipped: "–",
};

const VERDICT = /\b(Pass|Marginal|Inconclusive|Fail)\b/;

/** The verdict an analysis step's detail names, if any. */
export function verdictOf(step: StepRecord): string | null {
  if (!step.name.endsWith("analysis") || !step.detail) return null;
  return VERDICT.exec(step.detail)?.[1] ?? null;
}

/**
 * The deploy in progress (or the last one) as a timeline of its steps: state, duration, detail, the
 * analysis verdicts, and why it paused, aborted or rolled back.
 */
export class DeployTimeline {
  readonly #title: HTMLElement;
  readonly #body: HTMLElement;
  #key = "";

  constructor(title: HTMLElement, body: HTMLElement) {
    this.#title = title;
    this.#body = body;
  }

  update(record: DeployRecord | null, inProgress: boolean, now: number): void {
    const key = JSON.stringify([record, inProgress]);
    if (key !== this.#key) {
      this.#key = key;
      setText(this.#title, record === null ? "Deploy" : inProgress ? "Deploy in progress" : "Last deploy");
      this.#body.replaceChildren(
        ...(record === null ? [el("p", { class: "empty-note" }, "No deploy yet.")] : this.#render(record)),
      );
    }
    this.tick(now);
  }

  /** Moves the clocks of running steps on; no network needed. */
  tick(now: number): void {
    for (const node of this.#body.querySelectorAll<HTMLElement>("[data-since]")) {
      setText(node, duration(now - Number(node.dataset.since)));
    }
  }

  #render(r: DeployRecord): Node[] {
    const move = `${r.from.colour} ${r.from.version ?? "–"} → ${r.to.colour} ${r.to.version ?? "–"}`;
    const total = r.endedAt ? duration(Date.parse(r.endedAt) - Date.parse(r.startedAt)) : null;
    const head = el(
      "div",
      { class: "deploy-head" },
      el("h3", {}, `${r.id} · ${r.kind} ${r.version}`),
      el("span", { class: `badge ${r.phase}`, id: "deploy-phase", "data-phase": r.phase }, r.phase),
      el("span", { class: "note" }, move),
      total
        ? el("span", { class: "note" }, `took ${total}`)
        : el("span", { class: "note", "data-since": Date.parse(r.startedAt) }),
    );
    const nodes: Node[] = [head];
    if (r.reason) {
      const bad = r.phase === "Aborted";
      const label = r.rolledBackAt
        ? "Rolled back: "
        : bad
          ? "Aborted: "
          : r.phase === "Paused"
            ? "Paused: "
            : "";
      nodes.push(
        el(
          "p",
          { class: `reason${bad ? " bad" : ""}`, id: "deploy-reason" },
          el("strong", {}, label),
          r.reason,
        ),
      );
    }
    nodes.push(el("ol", { class: "steps", "aria-label": `steps of ${r.id}` }, ...r.steps.map(stepItem)));
    return nodes;
  }
}

function stepItem(step: StepRecord): HTMLElement {
  const verdict = verdictOf(step);
  const took =
    step.durationMs !== undefined
      ? el("span", { class: "took" }, duration(step.durationMs))
      : step.state === "running" && step.startedAt
        ? el("span", { class: "took", "data-since": Date.parse(step.startedAt) })
        : el("span", { class: "took" });
  return el(
    "li",
    { class: `step ${step.state}`, "data-step": step.name, "data-state": step.state },
    el("span", { class: "mark", "aria-hidden": "true" }, MARKS[step.state]),
    el("span", { class: "name" }, step.name, el("span", { class: "visually-hidden" }, `: ${step.state}`)),
    took,
    el(
      "span",
      { class: "detail" },
      verdict ? el("span", { class: `verdict ${verdict}` }, `${verdict} `) : null,
      verdict
        ? (step.detail ?? "").replace(`${verdict}: `, "").replace(`${verdict} `, "")
        : (step.detail ?? ""),
    ),
  );
}
