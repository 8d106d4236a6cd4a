/**
 * What the replica guard tells its supervisor over the IPC channel. The guard's stdin is a pipe from the
 * supervisor; its end means the supervisor is gone. Its argv is [stopGraceMs, command].
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

export function guardArguments(stopGraceMs: number, command: string): string[] {
  return [String(stopGraceMs), command];
}
