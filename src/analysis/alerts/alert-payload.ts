import type { WebhookConfig } from "../../config/analysis-schema.js";
import type { Alert } from "./alert.js";

const EMOJI: Readonly<Record<Alert["severity"], string>> = {
  info: ":white_check_mark:",
  warning: ":warning:",
  error: ":rotating_light:",
};

/** The body of a webhook call: the alert as JSON, or a Slack incoming-webhook message. */
export function alertPayload(alert: Alert, format: WebhookConfig["format"]): unknown {
  if (format === "json") return { source: "cutover", ...alert };
  const title = `${EMOJI[alert.severity]} cutover ${alert.service}: ${alert.kind} of deploy ${alert.deployId} (${alert.version})`;
  const fields = [
    alert.verdict ? `*Verdict*: ${alert.verdict}` : null,
    alert.phase ? `*Phase*: ${alert.phase}` : null,
    alert.active ? `*Live colour*: ${alert.active}` : null,
    alert.report ? `*Report*: ${alert.report}` : null,
  ].filter((f): f is string => f !== null);
  return {
    text: `${title}\n${alert.text}`,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${title}*\n${alert.text}` } },
      ...(fields.length > 0
        ? [{ type: "context", elements: fields.map((text) => ({ type: "mrkdwn", text })) }]
        : []),
    ],
  };
}
