import type { Colour } from "../../colour.js";

export const ALERT_KINDS = ["verdict", "rollback", "failure"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** Something a person should hear about: an analysis verdict, a rollback, a failed deploy. */
export interface Alert {
  readonly kind: AlertKind;
  readonly service: string;
  readonly deployId: string;
  readonly version: string;
  /** "info" for good news, "warning" for Marginal/Inconclusive, "error" for Fail, rollback and failure. */
  readonly severity: "info" | "warning" | "error";
  /** One line with the numbers. */
  readonly text: string;
  readonly at: string;
  readonly verdict?: string;
  readonly phase?: string;
  /** Where traffic is now. */
  readonly active?: Colour;
  /** The deploy's report, once written. */
  readonly report?: string;
}
