/**
 * What the replica guard tells its supervisor over the IPC channel. The guard's stdin is a pipe from the
 * supervisor; its end means the supervisor is gone. Its argv is [stopGraceMs, command] and, when it writes the service's log itself, [logFile, maxBytes, keep].
 */
export interface SpawnedMessage {
  readonly type: "spawned";
  /** The service's pid, which is also its process group id. */
  readonly pid: number;
}

export function isSpawnedMessage(value: unknown): value is SpawnedMessage {
  if (typeof value !== "object" || value === null) return false;
  const message = value as Partial<SpawnedMessage>;
  return message.type === "spawned" && typeof message.pid === "number";
}

/** With `log`, the guard writes the service's output to that file itself, rotated by size. */
export function guardArguments(
  stopGraceMs: number,
  command: string,
  log?: { readonly file: string; readonly maxBytes: number; readonly keep: number },
): string[] {
  const logArguments = log ? [log.file, String(log.maxBytes), String(log.keep)] : [];
  return [String(stopGraceMs), command, ...logArguments];
}
