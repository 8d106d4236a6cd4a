import type { ControlPlane, OperationKind } from "../../control/control-plane.js";
import type { DeployRecord } from "../../engine/lifecycle.js";
import { CutoverError } from "../../errors.js";
import type { Output } from "../output.js";
import { DeployProgress } from "../progress.js";
import { renderRecord, summary } from "../render.js";

/**
 * Starts a deploy or rollback and follows it until it is final (or paused), showing its steps live.
 * Exit: 0 when Healthy or Paused, 1 when Aborted.
 */
export async function followOperation(
  control: ControlPlane,
  kind: OperationKind,
  version: string | undefined,
  detach: boolean,
  out: Output,
): Promise<number> {
  if (detach) {
    const record = await control.start(kind, version);
    out.result(
      record,
      () => `${record.kind} ${record.id} of ${record.version} started; follow it with \`cutover status\``,
    );
    return 0;
  }
  const progress = new DeployProgress();
  let last: DeployRecord | null = null;
  try {
    for await (const record of control.follow(kind, version)) {
      last = record;
      if (!out.json) progress.update(record);
    }
  } finally {
    progress.done();
  }
  if (!last) throw new CutoverError("NO_ANSWER", "the deploy ended without an answer; see `cutover status`");
  // The steps were shown as they happened; end with one line.
  const final = last;
  out.result(final, () => summary(final));
  return final.phase === "Aborted" ? 1 : 0;
}

export function finish(record: DeployRecord, out: Output): number {
  out.result(record, () => renderRecord(record).join("\n"));
  return record.phase === "Aborted" ? 1 : 0;
}
