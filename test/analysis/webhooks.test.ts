import { afterEach, describe, expect, it } from "vitest";
import type { Alert } from "../../src/analysis/alerts/alert.js";
import { WebhookSender } from "../../src/analysis/alerts/webhook-sender.js";
import { analysisConfig } from "../../src/config/analysis-schema.js";
import { eventually } from "../helpers/eventually.js";
import { startWebhookServer } from "../helpers/webhook-server.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ALERT: Alert = {
  kind: "rollback",
  service: "shop",
  deployId: "d4",
  version: "2.0.0",
  severity: "error",
  text: "rolled back to blue (1.0.0): post-switch analysis failed: errorRate 5.2% > max 1.0% on green",
  at: "2025-01-01T00:00:00.000Z",
  active: "blue",
};

function webhooks(list: unknown[]) {
  return analysisConfig({ webhooks: list }).webhooks;
}

describe("webhook alerts", () => {
  it("retries with backoff until the webhook answers, in JSON and in Slack's shape", async () => {
    const server = await startWebhookServer();
    cleanups.push(() => server.close());
    server.failNext(2);
    const sender = new WebhookSender({
      webhooks: webhooks([
        { url: `${server.url}/json`, retries: 3 },
        { url: `${server.url}/slack`, format: "slack" },
      ]),
      backoffMs: 20,
    });
    cleanups.push(() => sender.close());
    sender.send(ALERT);
    await sender.idle();
    const json = server.calls.find((c) => c.path === "/json");
    const slack = server.calls.find((c) => c.path === "/slack");
    expect(json?.body).toMatchObject({ source: "cutover", kind: "rollback", deployId: "d4", active: "blue" });
    expect(String(slack?.body.text)).toContain(
      ":rotating_light: cutover shop: rollback of deploy d4 (2.0.0)",
    );
    expect(slack?.body.blocks).toHaveLength(2);
  });

  it("only sends the events a webhook asked for", async () => {
    const server = await startWebhookServer();
    cleanups.push(() => server.close());
    const sender = new WebhookSender({ webhooks: webhooks([{ url: server.url, events: ["failure"] }]) });
    sender.send(ALERT);
    sender.send({ ...ALERT, kind: "failure" });
    await sender.idle();
    expect(server.calls.map((c) => c.body.kind)).toEqual(["failure"]);
  });

  it("never blocks on a dead or hanging webhook: send() returns at once, calls time out, retries give up", async () => {
    const server = await startWebhookServer();
    cleanups.push(() => server.close());
    server.hang();
    const sender = new WebhookSender({
      webhooks: webhooks([
        { url: server.url, timeout: "200ms", retries: 1 },
        { url: "http://127.0.0.1:1/refused", retries: 2 },
      ]),
      backoffMs: 10,
    });
    const started = Date.now();
    sender.send(ALERT);
    expect(Date.now() - started).toBeLessThan(50);
    await sender.idle();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(server.calls).toHaveLength(0);
  });

  it("gives up retries at once when closed", async () => {
    const sender = new WebhookSender({
      webhooks: webhooks([{ url: "http://127.0.0.1:1/refused", retries: 10 }]),
      backoffMs: 10_000,
    });
    sender.send(ALERT);
    const started = Date.now();
    sender.close();
    await eventually("the delivery gave up", async () => {
      await sender.idle();
      return true;
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
