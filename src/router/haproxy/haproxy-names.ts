import type { Colour } from "../../colour.js";

/** The two ways into a colour: users' traffic (live) and the preview listener. */
export const BACKEND_ROLES = ["live", "preview"] as const;
export type BackendRole = (typeof BACKEND_ROLES)[number];

/** The keys of the colour map: which colour each frontend sends its requests to. */
export const MAP_KEYS = { live: "main", preview: "preview" } as const;

/**
 * The names cutover gives the parts of a HAProxy config, from one prefix (so that several services can
 * share one HAProxy): frontends `<p>_main` and `<p>_preview`, backends `<p>_live_<colour>` and
 * `<p>_preview_<colour>`, server slots `s1`..`sN` in each, and the colour map `<p>-colours.map`.
 */
export class HaproxyNames {
  readonly prefix: string;

  constructor(prefix: string) {
    if (!/^[A-Za-z0-9_-]+$/.test(prefix)) {
      throw new Error(`the HAProxy name prefix must be letters, digits, _ or -; got "${prefix}"`);
    }
    this.prefix = prefix;
  }

  get mainFrontend(): string {
    return `${this.prefix}_main`;
  }

  get previewFrontend(): string {
    return `${this.prefix}_preview`;
  }

  /** The map file's name (HAProxy identifies a map by the path it was loaded from). */
  get mapFileName(): string {
    return `${this.prefix}-colours.map`;
  }

  backend(role: BackendRole, colour: Colour): string {
    return `${this.prefix}_${role}_${colour}`;
  }

  /** The prefix of the backend names a frontend picks from; the colour map supplies the rest. */
  backendPrefix(role: BackendRole): string {
    return `${this.prefix}_${role}_`;
  }

  /** Slot n (1-based) of a backend. */
  server(slot: number): string {
    return `s${slot}`;
  }

  /** The slot number of a server name, or null when the name is not one of cutover's slots. */
  slotOf(server: string): number | null {
    const match = /^s(\d+)$/.exec(server);
    return match ? Number(match[1]) : null;
  }
}
