/**
 * The setup of the analysis tests on real processes: two demo-app replicas (blue 1.0.0, green 2.0.0), the
 * real Router in front, the router metric source and the sampler, alerts to a real webhook server, and the
 * deploy report. The engine's part (switch, switch back) is played by the test exactly as the engine does
 * it; the engine's own rollback test drives the real Engine.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ColourSampler } from "../../src/analysis/colour-sampler.js";
import { CutoverAnalysis } from "../../src/analysis/cutover-analysis.js";
import { RouterMetricSource } from "../../src/analysis/sources/router-metric-source.js";
import { parseConfig } from "../../src/config/load.js";
import type { Engine } from "../../src/engine/engine.js";
import type { AnalysisOutcome } from "../../src/engine/ports/deploy-analysis.js";
import {
  attachAlertsAndReports,
  type DeployEvents as EngineEvents,
} from "../../src/report/attach-alerts-and-reports.js";
import type { Router } from "../../src/router/router.js";
import { startDemoApp } from "./demo-app.js";
import { DeployEvents } from "./deploy-events.js";
import { ROOT } from "./project.js";
import { startRouter } from "./start-router.js";
import { startWebhookServer, type WebhookServer } from "./webhook-server.js";

// The real Engine fits what attachAlertsAndReports subscribes to.
const _engineFits = (engine: Engine): EngineEvents => engine;

/** Cleanups of the running test, last first; call runCleanups() in afterEach. */
export const cleanups: Array<() => Promise<void> | void> = [];
export async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

export const ARTIFACTS = join(ROOT, "test-artifacts");

function analysisYaml(webhook: string, count: number, share: number): string {
  return `service: shop
version: 1.0.0
start:
  command: "true"
analysis:
  interval: 500ms
  count: ${count}
  lookback: 3s
  minRequests: 30
  failureLimit: 1
  conditions:
    - { metric: errorRate, max: 0.01 }
    - { metric: p50, maxRatio: 1.5 }
    - { metric: p99, maxRatio: 2.5 }
  mirror: { share: ${share} }
  webhooks:
    - { url: "${webhook}/json", format: json }
    - { url: "${webhook}/slack", format: slack, events: [rollback] }
`;
}

export interface Setup {
  readonly router: Router;
  readonly analysis: CutoverAnalysis;
  readonly events: DeployEvents;
  readonly webhook: WebhookServer;
  readonly attached: ReturnType<typeof attachAlertsAndReports>;
  readonly stateDir: string;
}

/** Blue and green demo apps behind a router (blue live), the analysis sampling, alerts and reports attached. */
export async function setup(
  green: Record<string, string>,
  blue: Record<string, string> = {},
  count = 30,
  share = 0.5,
): Promise<Setup> {
  const [blueApp, greenApp] = await Promise.all([
    startDemoApp("blue", "1.0.0", blue),
    startDemoApp("green", "2.0.0", green),
  ]);
  cleanups.push(
    () => blueApp.stop(),
    () => greenApp.stop(),
  );
  const router = await startRouter();
  cleanups.push(() => router.close());
  router.setEndpoints("blue", [blueApp.endpoint]);
  router.setEndpoints("green", [greenApp.endpoint]);
  const webhook = await startWebhookServer();
  cleanups.push(() => webhook.close());
  const dir = mkdtempSync(join(tmpdir(), "cutover-analysis-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const loaded = parseConfig(analysisYaml(webhook.url, count, share), join(dir, "cutover.yaml"));
  const config = loaded.config.analysis;
  if (!config) throw new Error("the test config has an analysis section");
  const sampler = new ColourSampler({ source: new RouterMetricSource(router), intervalMs: config.interval });
  sampler.start();
  const analysis = new CutoverAnalysis({ config, sampler, mirror: router });
  cleanups.push(() => analysis.close());
  const events = new DeployEvents({
    id: "d1",
    kind: "deploy",
    version: "2.0.0",
    from: { colour: "blue", version: "1.0.0" },
    to: { colour: "green", version: "2.0.0" },
    phase: "Progressing",
    startedAt: new Date().toISOString(),
  });
  const attached = attachAlertsAndReports(events, { loaded, analysis, tailMs: 1_500, webhookBackoffMs: 50 });
  cleanups.push(() => attached.detach());
  return { router, analysis, events, webhook, attached, stateDir: loaded.stateDir };
}

/** What the engine does after the switch: post-switch analysis; on Fail, switch back and abort with the summary. */
export async function switchAndJudge(
  s: Setup,
): Promise<{ outcome: AnalysisOutcome | null; judgedInMs: number }> {
  s.events.update({ phase: "Progressing" });
  const switched = s.router.switchTo("green");
  s.events.update({ switchedAt: new Date(switched.at).toISOString() });
  const outcome = await s.analysis.postSwitch({
    deployId: "d1",
    version: "2.0.0",
    baseline: "blue",
    canary: "green",
    signal: AbortSignal.timeout(60_000),
  });
  const judgedInMs = Date.now() - switched.at;
  if (outcome?.verdict === "Fail") {
    const back = s.router.switchTo("blue");
    s.events.update({
      phase: "Aborted",
      rolledBackAt: new Date(back.at).toISOString(),
      reason: `post-switch analysis failed: ${outcome.summary}`,
      endedAt: new Date().toISOString(),
    });
  } else {
    s.events.update({ phase: "Healthy", endedAt: new Date().toISOString() });
  }
  return { outcome, judgedInMs };
}
