import type { DeployRecord } from "../../engine/lifecycle.js";
import { byId } from "./dom.js";

const NOTABLE = new Set([
  "wait-healthy",
  "smoke-checks",
  "pre-analysis",
  "switch",
  "post-analysis",
  "start-previous",
]);

/** Says what happened in a polite live region, once per change; the screen stays as it is. */
export class Announcer {
  readonly #region = byId("announcer");
  readonly #seen = new Map<string, string>();
  #live: string | null = null;

  say(text: string): void {
    const line = document.createElement("p");
    line.textContent = text;
    this.#region.append(line);
    while (this.#region.childElementCount > 5) this.#region.firstElementChild?.remove();
  }

  /** The changes of one deploy record since the last time it was seen. */
  record(r: DeployRecord, quiet: boolean): void {
    const news: string[] = [];
    const before = this.#seen.get(`${r.id}`);
    if (before === undefined)
      news.push(`${r.kind} ${r.id} of ${r.version}: ${r.from.colour} to ${r.to.colour}, ${r.phase}`);
    else if (before !== r.phase) news.push(`${r.kind} ${r.id} ${r.phase}${r.reason ? `: ${r.reason}` : ""}`);
    this.#seen.set(r.id, r.phase);
    for (const step of r.steps) {
      const key = `${r.id}/${step.name}`;
      const was = this.#seen.get(key);
      this.#seen.set(key, step.state);
      if (was === undefined || was === step.state) continue;
      if (
        step.state === "failed" ||
        ((step.state === "succeeded" || step.state === "skipped") && NOTABLE.has(step.name))
      ) {
        news.push(`${r.id} ${step.name} ${step.state}${step.detail ? `: ${step.detail}` : ""}`);
      }
    }
    if (!quiet) for (const line of news) this.say(line);
  }

  liveColour(colour: string, quiet: boolean): void {
    if (this.#live !== null && this.#live !== colour && !quiet) this.say(`Traffic is now on ${colour}.`);
    this.#live = colour;
  }
}
