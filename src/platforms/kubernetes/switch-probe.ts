import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import type { SwitchProbeConfig } from "../../config/kubernetes-schema.js";

export interface ProbeVerdict {
  readonly confirmed: boolean;
  /** What answered, e.g. "2.0.0 x10" or "1.0.0 x3, 2.0.0 x7, failed x1". */
  readonly seen: string;
}

/**
 * Asks `probe.url` until `answers` answers in a row come from `version` (the `versionHeader`) — and, with a
 * `colourHeader`, from `colour` — or the timeout passes; a request that failed is not an answer. Each request opens a new connection: kube-proxy and load balancers keep an open
 * connection on the pod it started with, so a kept-alive connection would keep answering from the old
 * colour (or hide that new connections still reach it).
 */
export async function confirmSwitch(
  probe: SwitchProbeConfig,
  version: string,
  signal?: AbortSignal,
  colour?: string,
): Promise<ProbeVerdict> {
  const expected = probe.colourHeader && colour ? `${version} (${colour})` : version;
  const deadline = Date.now() + probe.timeout;
  const counts = new Map<string, number>();
  let streak = 0;
  while (Date.now() < deadline && !signal?.aborted) {
    const answer = await askOnce(probe, Math.min(5_000, Math.max(100, deadline - Date.now())));
    counts.set(answer, (counts.get(answer) ?? 0) + 1);
    // A request that failed (refused, reset, timed out) names no version: it says nothing about where
    // traffic goes, so it neither counts nor breaks the streak; an answer from anything else breaks it.
    if (answer !== "failed") streak = answer === expected ? streak + 1 : 0;
    if (streak >= probe.answers) return { confirmed: true, seen: describe(counts) };
    await sleep(probe.interval);
  }
  return { confirmed: false, seen: describe(counts) || "no answer" };
}

/**
 * The version named by one answer ("2.0.0", or "2.0.0 (green)" with a colourHeader), whatever its status;
 * "failed" for an error, "status N" for a non-2xx without the header, "no header" for a 2xx without it.
 */
function askOnce(probe: SwitchProbeConfig, timeoutMs: number): Promise<string> {
  const request = probe.url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request(
      probe.url,
      { agent: false, timeout: timeoutMs, headers: { connection: "close" } },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        const value = headerOf(res.headers, probe.versionHeader);
        const colour = probe.colourHeader ? headerOf(res.headers, probe.colourHeader) : undefined;
        // The probe confirms where traffic goes, not how well the new version answers (the analysis judges
        // that): an error answer that names its version counts for that version.
        if (value !== undefined) resolve(colour === undefined ? value : `${value} (${colour})`);
        else if (status < 200 || status >= 300) resolve(`status ${status}`);
        else resolve("no header");
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", () => resolve("failed"));
    req.end();
  });
}

function describe(counts: ReadonlyMap<string, number>): string {
  return [...counts].map(([answer, n]) => `${answer} x${n}`).join(", ");
}

function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const header = headers[name.toLowerCase()];
  return Array.isArray(header) ? header[0] : header;
}
