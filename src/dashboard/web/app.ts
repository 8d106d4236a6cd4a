import type { LiveMessage } from "../live-message.js";
import { ActionBar } from "./action-bar.js";
import { Announcer } from "./announcer.js";
import { ColourCards } from "./colour-cards.js";
import { DashboardState, type Part } from "./dashboard-state.js";
import { DeployHistory } from "./deploy-history.js";
import { DeployTimeline } from "./deploy-timeline.js";
import { byId, setText } from "./dom.js";
import { LiveCharts } from "./live-charts.js";
import { LiveStream, type StreamState } from "./live-stream.js";
import { SyncLine } from "./sync-line.js";
import { askForToken, connectWithToken, forgetToken } from "./token-store.js";

const LIVE_URL = "/dashboard-api/live";
const REPORT_URL = "/dashboard-api/report";
const SECTIONS = ["actions", "colours", "deploy", "charts", "history"];

/** The page: asks for the token if it has none, then draws everything the live stream says. */
class DashboardPage {
  readonly #state = new DashboardState();
  readonly #announcer = new Announcer();
  readonly #cards = new ColourCards(byId("colours"));
  readonly #sync = new SyncLine(byId("database-sync"));
  readonly #timeline = new DeployTimeline(byId("deploy-title"), byId("deploy-body"));
  readonly #charts = new LiveCharts(byId("chart-grid"));
  readonly #history = new DeployHistory(
    byId("history-body"),
    (deploy, file) => void this.#openReport(deploy, file),
  );
  readonly #actions = new ActionBar(() => this.#token);
  #token = "";
  #stream: LiveStream | null = null;
  #connected = false;

  start(): void {
    connectWithToken(SECTIONS, (token) => this.#connect(token));
    window.setInterval(() => this.#timeline.tick(this.#state.now()), 1000);
  }

  #connect(token: string): void {
    this.#token = token;
    byId("token-form").hidden = true;
    this.#stream?.stop();
    this.#stream = new LiveStream({
      url: LIVE_URL,
      token,
      onMessage: (message) => this.#apply(message),
      onState: (state, detail) => this.#onState(state, detail),
    });
    this.#stream.start();
  }

  #askForToken(problem: string | null): void {
    askForToken(SECTIONS, problem);
  }

  #onState(state: StreamState, detail: string): void {
    const node = byId("connection");
    node.dataset.state = state;
    setText(node, state === "live" ? "live" : detail);
    if (state === "refused") {
      forgetToken();
      this.#askForToken(
        "The daemon refused this token (401). Run `cutover dashboard` for a fresh link, or paste the token from .cutover/token.",
      );
    } else if (state === "retrying" && this.#connected) {
      this.#announcer.say(`Connection lost: ${detail}`);
    }
    if (state === "live" && this.#connected) this.#announcer.say("Connected again.");
    if (state === "live") {
      this.#connected = true;
      node.dataset.connects = String(Number(node.dataset.connects ?? 0) + 1);
    }
  }

  #apply(message: LiveMessage): void {
    const parts = this.#state.apply(message);
    const quiet = message.type === "hello";
    if (message.type === "hello")
      for (const id of SECTIONS) byId(id).hidden = id === "charts" && message.intervalMs === null;
    this.#render(parts, quiet);
  }

  #render(parts: ReadonlySet<Part>, quiet: boolean): void {
    const state = this.#state;
    const status = state.status;
    if (status && (parts.has("status") || parts.has("ticks"))) {
      setText(byId("service"), status.service);
      const health = byId("health");
      health.hidden = false;
      health.className = `badge ${status.health}`;
      setText(health, status.health);
      const live = byId("live-colour");
      live.dataset.colour = status.active;
      setText(live.querySelector("strong") ?? live, status.active);
      document.title = `${status.service}: ${status.active} live · cutover`;
      this.#cards.update(state);
      this.#sync.update(status.databaseSync);
      this.#actions.update(status);
      this.#announcer.liveColour(status.active, quiet);
    }
    if (parts.has("deploy") || parts.has("status")) {
      if (state.latest) this.#announcer.record(state.latest, quiet);
      this.#timeline.update(state.latest, status?.deploy != null, state.now());
    }
    if (parts.has("history")) this.#history.update(state.history, state.reports);
    if (parts.has("ticks") && state.intervalMs !== null) this.#charts.update(state);
  }

  /** Reports need the token too: fetched with it, then shown from memory in a new tab. */
  async #openReport(deploy: string, file: string): Promise<void> {
    const tab = window.open("", "_blank");
    const query = new URLSearchParams({ deploy, file });
    const response = await fetch(`${REPORT_URL}?${query}`, {
      headers: { authorization: `Bearer ${this.#token}` },
    });
    if (!response.ok) {
      tab?.close();
      this.#announcer.say(`The report ${file} could not be opened (HTTP ${response.status}).`);
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    if (tab) tab.location.href = url;
    else window.location.assign(url);
    window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}

new DashboardPage().start();
