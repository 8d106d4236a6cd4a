import type { Colour } from "../../colour.js";
import type { SwitchProbeConfig } from "../../config/kubernetes-schema.js";
import { PreviewNotServingError } from "./errors.js";
import { callApi, isNotFound, type KubeClients } from "./kube-clients.js";
import { names } from "./manifest-names.js";
import { confirmSwitch, type ProbeVerdict } from "./switch-probe.js";

export interface PreviewProbe {
  readonly clients: KubeClients;
  readonly service: string;
  readonly probe: SwitchProbeConfig;
  /** The switch probe's path, where this machine reaches the preview Service. */
  readonly url: string;
}

/**
 * When the preview Service selects `colour` (the idle one, being deployed or rolled back to), asks it until
 * only that colour's `version` answers, as the switch probe asks the active Service: kube-proxy follows a
 * selector or endpoint change a moment late, and smoke checks must not test the colour before. Resolves with
 * what answered, or null when the preview selects another colour; throws when it never serves this one.
 */
export async function previewServes(
  preview: PreviewProbe,
  colour: Colour,
  version: string,
  signal?: AbortSignal,
): Promise<ProbeVerdict | null> {
  const name = names.previewService(preview.service);
  const { core, namespace } = preview.clients;
  const service = await callApi(`reading service ${name}`, () =>
    core.readNamespacedService({ name, namespace }).catch((error: unknown) => {
      if (isNotFound(error)) return null;
      throw error;
    }),
  );
  if (service?.spec?.selector?.version !== colour) return null;
  const verdict = await confirmSwitch({ ...preview.probe, url: preview.url }, version, signal, colour);
  if (!verdict.confirmed) throw new PreviewNotServingError(preview.url, colour, version, verdict.seen);
  return verdict;
}
