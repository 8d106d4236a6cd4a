import { type Logger, pino } from "pino";
import type { WebhookConfig } from "../../config/analysis-schema.js";
import type { Alert } from "./alert.js";
import { alertPayload } from "./alert-payload.js";

export interface WebhookSenderOptions {
  readonly webhooks: readonly WebhookConfig[];
  readonly logger?: Logger;
  /** First retry delay; doubles each time. Default 500 ms. */
  readonly backoffMs?: number;
}

/**
 * Sends alerts to the configured webhooks in the background: each call has a timeout, failures are
 * retried with exponential backoff, and the outcome is logged. send() never throws and never waits, so a
 * dead webhook cannot block or break a deploy; idle() resolves once everything sent has finished.
 */
export class WebhookSender {
  readonly #webhooks: readonly WebhookConfig[];
  readonly #log: Logger;
  readonly #backoffMs: number;
  readonly #pending = new Set<Promise<void>>();
  readonly #closing = new AbortController();

  constructor(options: WebhookSenderOptions) {
    this.#webhooks = options.webhooks;
    this.#log = (options.logger ?? pino({ enabled: false })).child({ component: "alerts" });
    this.#backoffMs = options.backoffMs ?? 500;
  }

  send(alert: Alert): void {
    const level = alert.severity === "error" ? "warn" : "info";
    this.#log[level](
      { alert: alert.kind, deploy: alert.deployId, verdict: alert.verdict, text: alert.text },
      `alert: ${alert.kind}`,
    );
    for (const webhook of this.#webhooks) {
      if (!webhook.events.includes(alert.kind)) continue;
      const delivery = this.#deliver(webhook, alert).finally(() => this.#pending.delete(delivery));
      this.#pending.add(delivery);
    }
  }

  /** Resolves once every delivery started so far has succeeded or given up. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Gives up the deliveries still retrying. */
  close(): void {
    this.#closing.abort();
  }

  async #deliver(webhook: WebhookConfig, alert: Alert): Promise<void> {
    const body = JSON.stringify(alertPayload(alert, webhook.format));
    const where = redact(webhook.url);
    for (let attempt = 0; attempt <= webhook.retries; attempt++) {
      if (attempt > 0 && !(await this.#wait(this.#backoffMs * 2 ** (attempt - 1)))) return;
      try {
        // undici is loaded by the first alert sent, not at every start of a daemon that never sends one.
        const { request } = await import("undici");
        const response = await request(webhook.url, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": "cutover" },
          body,
          signal: AbortSignal.any([this.#closing.signal, AbortSignal.timeout(webhook.timeout)]),
        });
        await response.body.dump();
        if (response.statusCode < 300) {
          this.#log.debug({ webhook: where, attempt }, "webhook delivered");
          return;
        }
        this.#log.warn(
          { webhook: where, attempt, status: response.statusCode },
          "webhook answered with an error",
        );
      } catch (error) {
        this.#log.warn({ webhook: where, attempt, err: (error as Error).message }, "webhook call failed");
      }
    }
    this.#log.error(
      { webhook: where, alert: alert.kind, deploy: alert.deployId },
      `webhook gave up after ${webhook.retries + 1} attempts; check analysis.webhooks in cutover.yaml`,
    );
  }

  /** Sleeps; false when closed meanwhile. */
  #wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.#closing.signal.aborted) return resolve(false);
      const timer = setTimeout(() => resolve(true), ms);
      this.#closing.signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          resolve(false);
        },
        { once: true },
      );
    });
  }
}

/** The webhook's address without its path and query (Slack puts the secret in the path). */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/…`;
  } catch {
    return "(invalid url)";
  }
}
