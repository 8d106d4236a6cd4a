import type { FleetView } from "../../fleet/model/fleet-view.js";
import { Announcer } from "./announcer.js";
import { byId, setText } from "./dom.js";
import { FleetDeployPanel } from "./fleet-deploy-panel.js";
import { FleetFeed } from "./fleet-feed.js";
import type { StreamState } from "./live-stream.js";
import { RegionCards } from "./region-cards.js";
import { askForToken, connectWithToken, forgetToken } from "./token-store.js";

const FLEET_URL = "/dashboard-api/fleet";
const EVERY_MS = 2_000;
const SECTIONS = ["fleet-deploy", "regions"];

/** The fleet page: asks for the token if it has none, then draws the fleet view every 2 s. */
class FleetPage {
  readonly #announcer = new Announcer();
  readonly #cards = new RegionCards(byId("regions"));
  readonly #deploy = new FleetDeployPanel(byId("fleet-deploy-body"));
  #feed: FleetFeed | null = null;
  /** The last fleet deploy line said (null before the first view: the page opening is not news). */
  #said: string | null = null;

  start(): void {
    connectWithToken(SECTIONS, (token) => this.#connect(token));
  }

  #connect(token: string): void {
    byId("token-form").hidden = true;
    this.#feed?.stop();
    this.#feed = new FleetFeed({
      url: FLEET_URL,
      token,
      everyMs: EVERY_MS,
      onView: (view) => this.#render(view),
      onState: (state, detail) => this.#onState(state, detail),
    });
    this.#feed.start();
  }

  #askForToken(problem: string | null): void {
    askForToken(SECTIONS, problem);
  }

  #onState(state: StreamState, detail: string): void {
    const node = byId("connection");
    if (node.dataset.state === "live" && state === "retrying")
      this.#announcer.say(`Connection lost: ${detail}`);
    node.dataset.state = state;
    setText(node, state === "live" ? "live" : detail);
    if (state === "refused") {
      forgetToken();
      this.#askForToken(
        "The fleet dashboard refused this token (401). Open the link `cutover dashboard` printed; each start makes a new token.",
      );
    }
  }

  #render(view: FleetView): void {
    for (const id of SECTIONS) byId(id).hidden = false;
    setText(byId("service"), view.service);
    const down = view.regions.filter((r) => "error" in r).length;
    const summary = `${view.regions.length} region${view.regions.length === 1 ? "" : "s"}${down > 0 ? `, ${down} unreachable` : ""}`;
    setText(byId("fleet-summary"), summary);
    document.title = `${view.service}: fleet · cutover`;
    this.#deploy.update(view);
    this.#cards.update(view);
    const record = view.fleetDeploy;
    const news = record ? `Fleet deploy ${record.id} of ${record.version}: ${record.phase}` : "";
    if (this.#said !== null && news !== this.#said && news !== "") this.#announcer.say(news);
    this.#said = news;
  }
}

new FleetPage().start();
