import type { DeployRecord } from "../../engine/lifecycle.js";
import type { ServiceStatus } from "../../engine/service-status.js";
import { type Confirmation, confirmAction } from "./confirm-dialog.js";
import { byId, setText } from "./dom.js";

type ActionName = "promote" | "abort" | "rollback";

interface Plan extends Confirmation {
  readonly path: string;
  readonly busy: string;
}

/**
 * Promote, abort and roll back: each asks first, then POSTs to the admin API with the token. The result
 * line says what the daemon answered; the live stream shows the deploy moving meanwhile.
 */
export class ActionBar {
  readonly #token: () => string;
  readonly #buttons: Readonly<Record<ActionName, HTMLButtonElement>>;
  readonly #outcome = byId("action-outcome");
  #status: ServiceStatus | null = null;
  /** Actions sent and not answered yet (POST /promote answers when the deploy ends); the others stay usable. */
  readonly #pending = new Set<ActionName>();

  constructor(token: () => string) {
    this.#token = token;
    this.#buttons = {
      promote: byId<HTMLButtonElement>("promote"),
      abort: byId<HTMLButtonElement>("abort"),
      rollback: byId<HTMLButtonElement>("rollback"),
    };
    for (const name of ["promote", "abort", "rollback"] as const) {
      this.#buttons[name].addEventListener("click", () => void this.#run(name));
    }
  }

  update(status: ServiceStatus): void {
    this.#status = status;
    for (const name of ["promote", "abort", "rollback"] as const) {
      this.#buttons[name].disabled = this.#pending.has(name) || planFor(name, status) === null;
    }
  }

  async #run(name: ActionName): Promise<void> {
    const plan = this.#status ? planFor(name, this.#status) : null;
    if (plan === null || this.#pending.has(name)) return;
    if (!(await confirmAction(plan))) {
      this.#say(`${plan.confirm}: cancelled.`, "");
      return;
    }
    this.#pending.add(name);
    if (this.#status) this.update(this.#status);
    this.#say(plan.busy, "");
    try {
      const response = await fetch(plan.path, {
        method: "POST",
        headers: { authorization: `Bearer ${this.#token()}`, "content-type": "application/json" },
        body: "{}",
      });
      const answer = (await response.json().catch(() => ({}))) as Partial<DeployRecord> & {
        message?: string;
      };
      if (!response.ok)
        this.#say(`${plan.confirm} refused: ${answer.message ?? `HTTP ${response.status}`}`, "bad");
      else this.#say(resultLine(name, answer), answer.phase === "Aborted" && name !== "abort" ? "bad" : "ok");
    } catch (error) {
      this.#say(`${plan.confirm} failed: the daemon did not answer (${(error as Error).message})`, "bad");
    } finally {
      this.#pending.delete(name);
      if (this.#status) this.update(this.#status);
    }
  }

  #say(text: string, tone: "" | "ok" | "bad"): void {
    this.#outcome.className = `outcome ${tone}`;
    setText(this.#outcome, text);
  }
}

function planFor(name: ActionName, status: ServiceStatus): Plan | null {
  const d = status.deploy;
  const from = (r: DeployRecord) => `${r.from.colour} (${r.from.version ?? "nothing"})`;
  const to = (r: DeployRecord) => `${r.to.colour} (${r.to.version ?? "nothing"})`;
  if (name === "promote") {
    if (d?.phase !== "Paused") return null;
    return {
      path: "/promote",
      title: `Promote ${d.id}?`,
      text: d.switchedAt
        ? `Keep ${to(d)}: accept the inconclusive analysis and finish the deploy.`
        : `Switch all traffic from ${from(d)} to ${to(d)} now.`,
      confirm: "Promote",
      busy: `Promoting ${d.id}…`,
    };
  }
  if (name === "abort") {
    if (d === null) return null;
    return {
      path: "/abort",
      title: `Abort ${d.id}?`,
      text: d.switchedAt
        ? `Stop ${d.kind} ${d.id} and send traffic back to ${from(d)} at once.`
        : `Stop ${d.kind} ${d.id}. Traffic stays on ${from(d)}; ${d.to.colour} is stopped.`,
      confirm: "Abort",
      busy: `Aborting ${d.id}…`,
    };
  }
  const previous = status.active === "blue" ? "green" : "blue";
  const version = status.colours[previous].recordedVersion;
  if (d !== null || version === null) return null;
  return {
    path: "/rollback",
    title: "Roll back?",
    text: `Send all traffic back to ${previous} (${version}). If ${previous} was scaled down it is started again first.`,
    confirm: "Roll back",
    busy: "Starting the rollback…",
  };
}

function resultLine(name: ActionName, r: Partial<DeployRecord>): string {
  if (name === "rollback") return `Rollback ${r.id ?? ""} started: it shows below as it goes.`;
  if (name === "abort") return `${r.id ?? "The deploy"} aborted${r.reason ? `: ${r.reason}` : "."}`;
  return `${r.id ?? "The deploy"} promoted; it ended ${r.phase ?? "?"}${r.reason ? `: ${r.reason}` : "."}`;
}
