import type { Colour } from "../../colour.js";

/** Annotation and label keys cutover writes; the `cutover.dev/` prefix keeps them apart from anyone else's. */
export const ANNOTATIONS = {
  /** On a Deployment and its pod template: the version the colour runs. */
  version: "cutover.dev/version",
  /** On the active Service: the engine's ServiceState as JSON (the deploy in progress is the lock). */
  state: "cutover.dev/state",
  /** On the active Service: the token of the process that holds the deploy in progress. */
  lock: "cutover.dev/lock",
  /** On the active Service: `cutover promote` or `cutover abort` asked of the run that holds the deploy. */
  request: "cutover.dev/request",
  /** On the active Service: who switched it last, from which colour, when. */
  switched: "cutover.dev/switched",
} as const;

/** The pod condition behind the optional readiness gate; cutover sets it True once pre-switch checks passed. */
export const READINESS_GATE = "cutover.dev/switch-ready";

/** The field manager cutover's writes are recorded under (server-side apply and plain patches alike). */
export const FIELD_MANAGER = "cutover";

/** The container port's name; probes and Services target it by name. */
export const PORT_NAME = "http";

export const MANAGED_BY = { "app.kubernetes.io/managed-by": "cutover" } as const;

/** The labels that pick one colour's pods: `app` and `version` (blue or green). */
export function colourLabels(service: string, colour: Colour): Record<string, string> {
  return { app: service, version: colour };
}

/** Object names for one service: a Deployment, PDB and HPA per colour, two Services, a history ConfigMap. */
export const names = {
  deployment: (service: string, colour: Colour) => `${service}-${colour}`,
  disruptionBudget: (service: string, colour: Colour) => `${service}-${colour}`,
  autoscaler: (service: string, colour: Colour) => `${service}-${colour}`,
  activeService: (service: string) => service,
  previewService: (service: string) => `${service}-preview`,
  history: (service: string) => `${service}-cutover-history`,
} as const;

/** The image for a version: `{version}` in the template replaced. */
export function imageFor(template: string, version: string): string {
  return template.replaceAll("{version}", version);
}
