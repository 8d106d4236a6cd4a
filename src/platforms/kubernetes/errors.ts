import type { Colour } from "../../colour.js";
import { CutoverError } from "../../errors.js";

/** `platform: kubernetes` (or `cutover render kubernetes`) without a `kubernetes:` section. */
export class KubernetesConfigMissingError extends CutoverError {
  constructor(file: string) {
    super(
      "KUBERNETES_CONFIG_MISSING",
      `${file} has no \`kubernetes:\` section; add one with at least \`image: registry.example.com/app:{version}\` (see \`cutover schema\`)`,
    );
    this.name = "KubernetesConfigMissingError";
  }
}

/** The cluster could not be reached, or refused a call for a reason the driver cannot fix itself. */
export class KubernetesApiError extends CutoverError {
  readonly status: number | null;
  constructor(what: string, status: number | null, detail: string) {
    super("KUBERNETES_API", `${what} failed: ${detail}${adviceFor(status)}`);
    this.name = "KubernetesApiError";
    this.status = status;
  }
}

function adviceFor(status: number | null): string {
  if (status === null)
    return "; check that the cluster is reachable (`kubectl cluster-info` with the same context)";
  if (status === 401)
    return "; the kubeconfig's credentials were refused: log in again or pick another context";
  if (status === 403)
    return "; the account lacks a permission: grant it get/list/watch/patch/create on deployments, deployments/scale, services, pods, pods/status, configmaps, secrets, horizontalpodautoscalers and poddisruptionbudgets, get on pods/proxy (analysis with source scrape), and delete on configmaps (old deploy journals)";
  if (status === 404)
    return "; create the objects first: `cutover render kubernetes | kubectl apply -f -` (and check kubernetes.namespace)";
  return "";
}

/** The rollout of a colour failed or did not finish: the `kubectl rollout status` verdict, and what the pods say. */
export class RolloutFailedError extends CutoverError {
  readonly colour: Colour;
  constructor(colour: Colour, deployment: string, verdict: string, pods: readonly string[]) {
    const lines = [
      `the rollout of ${colour} (deployment ${deployment}) did not finish: ${verdict}`,
      ...pods.map((p) => `  ${p}`),
      `Inspect it with \`kubectl describe deployment ${deployment}\` and \`kubectl logs -l version=${colour} --tail 50\`, fix the image or its probes, then deploy again.`,
    ];
    super("ROLLOUT_FAILED", lines.join("\n"));
    this.name = "RolloutFailedError";
    this.colour = colour;
  }
}

/** The preview Service kept answering from another version than the colour it now selects. */
export class PreviewNotServingError extends CutoverError {
  constructor(url: string, colour: Colour, version: string, seen: string) {
    super(
      "PREVIEW_NOT_SERVING",
      `the preview Service (${url}) did not answer from ${colour} (${version}) only (${seen}): smoke checks and the pre-switch judge would test another colour. Check kubernetes.preview and kubernetes.switchProbe (versionHeader, colourHeader), then deploy again.`,
    );
    this.name = "PreviewNotServingError";
  }
}

/** After the selector was patched, the active Service did not answer with the new version only. */
export class SwitchNotConfirmedError extends CutoverError {
  constructor(url: string, version: string, seen: string, restored: boolean) {
    super(
      "SWITCH_NOT_CONFIRMED",
      `${url} did not answer with version ${version} only (${seen}); ${
        restored
          ? "the selector was put back"
          : "the selector could NOT be put back: check `kubectl get service -o wide`"
      }. Check kubernetes.switchProbe and the load balancer in front of the Service, then deploy again.`,
    );
    this.name = "SwitchNotConfirmedError";
  }
}

/** Another writer kept changing an object under us; a re-read and retry did not get through. */
export class ConflictRetriesExhaustedError extends CutoverError {
  constructor(what: string, attempts: number) {
    super(
      "KUBERNETES_CONFLICT",
      `${what}: the object changed under cutover ${attempts} times in a row (409 Conflict each time); something else is writing to it: find it with \`kubectl get -o yaml\` (managedFields), stop it, and try again`,
    );
    this.name = "ConflictRetriesExhaustedError";
  }
}
