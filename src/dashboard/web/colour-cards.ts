import type { Colour } from "../../colour.js";
import type { ColourView } from "../../engine/service-status.js";
import type { DashboardState } from "./dashboard-state.js";
import { el, setText } from "./dom.js";
import { clock, latency, percent, rate } from "./format.js";

const COLOURS: readonly Colour[] = ["blue", "green"];

interface Card {
  readonly root: HTMLElement;
  readonly role: HTMLElement;
  readonly fields: Readonly<
    Record<"version" | "replicas" | "traffic" | "restarts" | "inFlight" | "now", HTMLElement>
  >;
  readonly bar: HTMLElement;
  readonly replicas: HTMLUListElement;
  readonly addressLabel: HTMLElement;
  readonly address: HTMLAnchorElement;
  readonly note: HTMLElement;
  replicasKey: string;
}

/**
 * Blue and green side by side. Each card is built once and updated in place, so a focused link keeps
 * its focus while numbers change every second.
 */
export class ColourCards {
  readonly #cards: Record<Colour, Card>;

  constructor(container: HTMLElement) {
    this.#cards = { blue: buildCard("blue"), green: buildCard("green") };
    container.append(this.#cards.blue.root, this.#cards.green.root);
  }

  update(state: DashboardState): void {
    const status = state.status;
    if (!status) return;
    for (const colour of COLOURS) this.#fill(this.#cards[colour], status.colours[colour], state);
  }

  #fill(card: Card, view: ColourView, state: DashboardState): void {
    const live = view.role === "active";
    card.root.classList.toggle("live", live);
    card.root.dataset.role = view.role;
    setText(card.role, live ? "live" : "idle");
    const version = view.version ?? (view.recordedVersion ? `${view.recordedVersion} (stopped)` : "none");
    setText(card.fields.version, version);
    const ready = view.replicas.filter((r) => r.ready).length;
    setText(
      card.fields.replicas,
      view.replicas.length === 0 ? "none running" : `${ready}/${view.replicas.length} ready`,
    );
    const share = state.share(view.colour);
    const shown = share ?? (live ? 1 : 0);
    setText(card.fields.traffic, share === null ? (live ? "all new requests" : "none") : percent(share, 0));
    card.bar.style.width = `${Math.round(shown * 100)}%`;
    setText(card.fields.restarts, String(view.replicas.reduce((sum, r) => sum + r.restarts, 0)));
    setText(card.fields.inFlight, String(view.inFlight));
    const point = state.ticks.at(-1)?.colours[view.colour];
    setText(
      card.fields.now,
      !point
        ? "no samples yet"
        : point.requests === 0
          ? "no requests"
          : `${rate(point.rate)} · ${percent(point.errorRate)} errors · p50 ${latency(point.p50)} · p99 ${latency(point.p99)}`,
    );
    this.#fillReplicas(card, view);
    const address = live ? state.addresses.live : state.addresses.preview;
    setText(card.addressLabel, live ? "Serves users at " : "Preview (idle colour) at ");
    card.address.parentElement?.toggleAttribute("hidden", address === null);
    if (address !== null && card.address.getAttribute("href") !== address) {
      card.address.href = address;
      card.address.textContent = address;
    }
    setText(
      card.note,
      view.scaleDownAt
        ? `Kept warm for a rollback until ${clock(Date.parse(view.scaleDownAt))}, then stopped.`
        : "",
    );
  }

  #fillReplicas(card: Card, view: ColourView): void {
    const key = JSON.stringify(view.replicas.map((r) => [r.id, r.port, r.state, r.restarts, r.lastProblem]));
    if (key === card.replicasKey) return;
    card.replicasKey = key;
    card.replicas.replaceChildren(
      ...view.replicas.map((r) =>
        el(
          "li",
          {},
          el("span", { class: `dot ${r.state}`, "aria-hidden": "true" }),
          el(
            "span",
            {},
            `${r.id} :${r.port} ${r.state}`,
            r.restarts > 0 ? `, ${r.restarts} restart${r.restarts === 1 ? "" : "s"}` : "",
            r.lastProblem && !r.ready ? ` (${r.lastProblem})` : "",
          ),
        ),
      ),
    );
  }
}

function buildCard(colour: Colour): Card {
  const field = () => el("dd");
  const fields = {
    version: field(),
    replicas: field(),
    traffic: el("span"),
    restarts: field(),
    inFlight: field(),
    now: field(),
  };
  const bar = el("span");
  const role = el("span", { class: "badge role" });
  const replicas = el("ul", { class: "replicas", "aria-label": `${colour} replicas` });
  const addressLabel = el("span");
  const address = el("a", { rel: "noreferrer", target: "_blank" });
  const note = el("p", { class: "note" });
  const root = el(
    "article",
    { class: `panel colour-card ${colour}`, "aria-labelledby": `${colour}-title`, "data-colour": colour },
    el("h3", { id: `${colour}-title` }, colour, role),
    el(
      "dl",
      { class: "facts" },
      el("dt", {}, "Version"),
      fields.version,
      el("dt", {}, "Replicas"),
      fields.replicas,
      el("dt", {}, "Traffic"),
      el(
        "dd",
        { class: "share" },
        fields.traffic,
        el("span", { class: "share-bar", "aria-hidden": "true" }, bar),
      ),
      el("dt", {}, "Restarts"),
      fields.restarts,
      el("dt", {}, "In flight"),
      fields.inFlight,
      el("dt", {}, "Now"),
      fields.now,
    ),
    replicas,
    el("p", { class: "note", hidden: true }, addressLabel, address),
    note,
  );
  return { root, role, fields, bar, replicas, addressLabel, address, note, replicasKey: "" };
}
