/**
 * Issue 4 end to end through the daemon: the real router's metrics, the real analysis and judge, the engine
 * switching back by itself, a real webhook server receiving the alert, and the report written to disk.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { Daemon } from "../../src/daemon/daemon.js";
import { LoadGenerator, summarise } from "../../src/verify/load-generator.js";
import { startDaemon } from "../helpers/daemon.js";
import { eventually } from "../helpers/eventually.js";
import { makeProject } from "../helpers/project.js";
import { startWebhookServer, type WebhookServer } from "../helpers/webhook-server.js";

let daemon: Daemon | null = null;
let webhooks: WebhookServer | null = null;
afterEach(async () => {
  await daemon?.stop();
  await webhooks?.close();
  daemon = null;
  webhooks = null;
});

const analysis = (url: string) => `analysis:
  source: { type: router }
  interval: 500ms
  count: 8
  lookback: 2s
  minRequests: 20
  conditions:
    - { metric: errorRate, max: 0.01 }
  # The judge needs judge.minSamples intervals per colour or says Inconclusive (and the deploy waits for a
  # person); on a busy machine the sampler's ticks come late and 8 readings gave fewer than the default 5.
  judge: { minSamples: 3 }
  preSwitch: false
  mirror: { share: 1 }
  webhooks:
    - { url: "${url}/hook", events: [rollback, failure, verdict] }
`;

describe("automatic rollback after the switch", () => {
  it("a green answering 5% errors is rolled back within 30 s; the webhook hears it and the report shows it", async () => {
    webhooks = await startWebhookServer();
    const project = await makeProject({ replicas: 1, extra: analysis(webhooks.url) });
    project.release("2.0.0", { ERROR_RATIO: "0.05" });
    daemon = await startDaemon(project);
    const load = new LoadGenerator({
      url: `http://127.0.0.1:${project.listen}`,
      connections: 4,
      maxDurationMs: 40_000,
      maxRequests: 1_000_000,
    });
    load.start();
    const record = await (await daemon.engine.deploy("2.0.0")).done;
    await sleep(500);
    const samples = await load.stop();

    expect(record.phase).toBe("Aborted");
    expect(record.reason).toMatch(
      /post-switch analysis: Fail: .*rolled back: traffic is on blue \(1\.0\.0\) again/,
    );
    const switchedAt = Date.parse(record.switchedAt ?? "");
    const rolledBackAt = Date.parse(record.rolledBackAt ?? "");
    expect(rolledBackAt - switchedAt).toBeLessThan(30_000);
    expect(daemon.engine.active).toBe("blue");
    const after = samples.filter((s) => s.sentAt > rolledBackAt + 50);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((s) => s.version === "1.0.0")).toBe(true);
    // Only the injected errors failed; the switches themselves lost nothing.
    const failures = summarise(samples).errors;
    expect(Object.keys(failures)).toEqual(["HTTP 500"]);

    await eventually(
      "the rollback alert",
      () => webhooks?.calls.some((c) => JSON.stringify(c.body).includes("rollback")) ?? false,
      10_000,
    );
    const reportDir = join(project.dir, ".cutover", "reports");
    await eventually(
      "the report",
      () =>
        existsSync(join(reportDir, `${record.id}.html`)) && existsSync(join(reportDir, `${record.id}.png`)),
      20_000,
    );
    const html = readFileSync(join(reportDir, `${record.id}.html`), "utf8");
    expect(html).toMatch(/Rolled back/);
  });

  it("a green as good as blue is kept: the analysis passes and the deploy ends Healthy", async () => {
    webhooks = await startWebhookServer();
    const project = await makeProject({ replicas: 1, extra: analysis(webhooks.url) });
    project.release("2.0.0");
    daemon = await startDaemon(project);
    const load = new LoadGenerator({
      url: `http://127.0.0.1:${project.listen}`,
      connections: 4,
      maxDurationMs: 40_000,
      maxRequests: 1_000_000,
    });
    load.start();
    const started = await daemon.engine.deploy("2.0.0");
    // follow() ends when the deploy ends or waits for a person: a pause fails here, with its reason.
    let record = started.record;
    for await (const seen of daemon.engine.follow(started.record.id)) record = seen;
    if (record.phase === "Paused") await daemon.engine.abort().catch(() => undefined);
    else record = await started.done;
    const summary = summarise(await load.stop());
    expect(record.phase, record.reason).toBe("Healthy");
    expect(record.steps.find((s) => s.name === "post-analysis")?.detail).toMatch(/^(Pass|Marginal)/);
    expect(summary.failed).toBe(0);
    expect(daemon.engine.active).toBe("green");
  });
});
