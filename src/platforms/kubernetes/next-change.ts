import type { KubeClients } from "./kube-clients.js";

export type ChangeOutcome = "changed" | "deleted" | "expired" | "quiet";

/**
 * Waits for the next change of one Deployment after `resourceVersion`, the way kubectl watches it
 * (collection path, `fieldSelector=metadata.name=N`, `watch=true`), for at most `waitMs`:
 * "changed" on ADDED/MODIFIED, "deleted" on DELETED, "expired" on a 410 (the caller reads afresh),
 * "quiet" when the time passed or the stream ended without news. Never rejects for a dropped stream:
 * the caller re-reads and watches again.
 */
export async function nextDeploymentChange(
  clients: KubeClients,
  name: string,
  resourceVersion: string,
  waitMs: number,
  signal?: AbortSignal,
): Promise<ChangeOutcome> {
  const path = `/apis/apps/v1/namespaces/${clients.namespace}/deployments`;
  const query = {
    fieldSelector: `metadata.name=${name}`,
    resourceVersion,
    allowWatchBookmarks: true,
    timeoutSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  };
  return new Promise<ChangeOutcome>((resolve) => {
    let controller: AbortController | undefined;
    let settled = false;
    const finish = (outcome: ChangeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      controller?.abort();
      resolve(outcome);
    };
    const onAbort = () => finish("quiet");
    const timer = setTimeout(() => finish("quiet"), waitMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    const onEvent = (type: string, object: unknown) => {
      if (type === "ADDED" || type === "MODIFIED") finish("changed");
      else if (type === "DELETED") finish("deleted");
      else if (type === "ERROR")
        finish((object as { code?: number } | null)?.code === 410 ? "expired" : "quiet");
    };
    clients.watch
      .watch(path, query, onEvent, (error: unknown) => {
        finish((error as { statusCode?: number } | null)?.statusCode === 410 ? "expired" : "quiet");
      })
      .then(
        (c) => {
          controller = c;
          if (settled) c.abort();
        },
        () => finish("quiet"),
      );
  });
}
