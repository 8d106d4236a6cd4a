import type { DeployRecord } from "../../engine/deploy-record.js";
import { CutoverError } from "../../errors.js";
import type { AdminClient } from "../admin-client.js";
import type { Output } from "../output.js";
import { DeployProgress } from "../progress.js";
import { renderRecord, summary } from "../render.js";

/**
 * Starts a deploy or rollback through the daemon and follows it until it is final (or paused).
 * Exit: 0 when Healthy or Paused, 1 when Aborted.
 */
export async function followOperation(
  client: AdminClient,
  path: string,
  body: Record<string, unknown>,
  out: Output,
): Promise<number> {
  if (body.detach === true) {
    const record = await client.post<DeployRecord>(path, body);
    out.result(
      record,
      () => `${record.kind} ${record.id} of ${record.version} started; follow it with \`cutover status\``,
    );
    return 0;
  }
  const progress = new DeployProgress();
  let last: DeployRecord | null = null;
  try {
    for await (const record of client.stream<DeployRecord>(path, { ...body, follow: true })) {
      last = record;
      if (!out.json) progress.update(record);
    }
  } finally {
    progress.done();
  }
  if (!last)
    throw new CutoverError(
      "NO_ANSWER",
      "the daemon closed the connection without an answer; see `cutover status`",
    );
  // The steps were shown as they happened; end with one line.
  const final = last;
  out.result(final, () => summary(final));
  return final.phase === "Aborted" ? 1 : 0;
}

export function finish(record: DeployRecord, out: Output): number {
  out.result(record, () => renderRecord(record).join("\n"));
  return record.phase === "Aborted" ? 1 : 0;
}
