import { COLOURS, type Colour } from "../../colour.js";
import { BACKEND_ROLES, type BackendRole, type HaproxyNames } from "./haproxy-names.js";

/** HAProxy's response classes, as `show stat` counts them (hrsp_1xx .. hrsp_other). */
export const STATUS_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

/** One server slot of a backend, as `show stat` reports it. */
export interface SlotStats {
  readonly role: BackendRole;
  readonly slot: number;
  /** UP, MAINT, DRAIN, DOWN, no check, ... */
  readonly status: string;
  /** "host:port" the slot points at. */
  readonly address: string;
  /** Sessions in progress: requests and WebSockets. */
  readonly current: number;
}

export interface ColourStats {
  /** Sessions in progress on the colour's live and preview backends. */
  readonly inFlight: number;
  /** Sessions in progress on the live backend alone (what a drain waits for). */
  readonly liveInFlight: number;
  /** Responses sent, by class, live and preview backends together, since HAProxy started. */
  readonly responses: Readonly<Record<StatusClass, number>>;
  /** Connection attempts to replicas that failed, and responses that broke off (econ + eresp). */
  readonly upstreamErrors: number;
  /** HAProxy's average total time of the live backend's last 1024 requests, in milliseconds. */
  readonly averageTotalMs: number;
  readonly slots: readonly SlotStats[];
}

export type HaproxyStats = Readonly<Record<Colour, ColourStats>>;

type Row = Readonly<Record<string, string>>;

/** The rows of `show stat` CSV, each keyed by the header's column names. */
export function parseShowStat(csv: string): Row[] {
  const lines = csv.split("\n").filter((line) => line.trim() !== "");
  const header = lines.shift();
  if (header === undefined || !header.startsWith("# ")) return [];
  const columns = header.slice(2).split(",");
  return lines.map((line) => {
    const cells = line.split(",");
    const row: Record<string, string> = {};
    columns.forEach((column, i) => {
      if (column !== "") row[column] = cells[i] ?? "";
    });
    return row;
  });
}

/** What `show stat` says about cutover's backends, per colour. */
export function colourStats(rows: readonly Row[], names: HaproxyNames): HaproxyStats {
  const ofColour = (colour: Colour): ColourStats => {
    const backends = BACKEND_ROLES.map((role) => ({ role, name: names.backend(role, colour) }));
    const totals = backends.map(({ role, name }) => ({
      role,
      row: rows.find((r) => r.pxname === name && r.svname === "BACKEND"),
    }));
    const responses = Object.fromEntries(
      STATUS_CLASSES.map((c) => [c, sum(totals.map((t) => t.row?.[`hrsp_${c}`]))]),
    ) as Record<StatusClass, number>;
    const live = totals.find((t) => t.role === "live")?.row;
    return {
      inFlight: sum(totals.map((t) => t.row?.scur)),
      liveInFlight: num(live?.scur),
      responses,
      upstreamErrors: sum(totals.flatMap((t) => [t.row?.econ, t.row?.eresp])),
      averageTotalMs: num(live?.ttime),
      slots: backends.flatMap(({ role, name }) => slotsOf(rows, names, role, name)),
    };
  };
  return { blue: ofColour(COLOURS[0]), green: ofColour(COLOURS[1]) };
}

function slotsOf(rows: readonly Row[], names: HaproxyNames, role: BackendRole, backend: string): SlotStats[] {
  const slots: SlotStats[] = [];
  for (const row of rows) {
    if (row.pxname !== backend) continue;
    const slot = names.slotOf(row.svname ?? "");
    if (slot === null) continue;
    slots.push({ role, slot, status: row.status ?? "", address: row.addr ?? "", current: num(row.scur) });
  }
  return slots;
}

function num(value: string | undefined): number {
  const parsed = Number(value);
  return value === undefined || value === "" || !Number.isFinite(parsed) ? 0 : parsed;
}

function sum(values: ReadonlyArray<string | undefined>): number {
  return values.reduce((total, value) => total + num(value), 0);
}
