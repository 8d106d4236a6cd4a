import type { Colour } from "../../colour.js";
import type { StartConfig } from "../../config/schema.js";
import { CutoverError } from "../../errors.js";
import { fillTemplate } from "../../process/shell-command.js";

/** What one run of one replica is started with. */
export interface ReplicaLaunch {
  readonly command: string;
  readonly env: NodeJS.ProcessEnv;
}

export interface ReplicaIdentity {
  readonly colour: Colour;
  readonly index: number;
  readonly version: string;
  readonly port: number;
}

/**
 * start.command with {version} and {port} filled in, and its environment: this process's, then start.env
 * (filled in the same way), then what the platform adds (e.g. DATABASE_URL), then PORT, APP_VERSION, ENVIRONMENT and REPLICA.
 */
export function replicaLaunch(
  start: StartConfig,
  replica: ReplicaIdentity,
  platformEnv: Readonly<Record<string, string>> = {},
): ReplicaLaunch {
  // The config refuses a local service without one; this says so if a caller built a config by hand.
  if (!start.command)
    throw new CutoverError("NO_COMMAND", "start.command is required to run replicas on this machine");
  const values = { version: replica.version, port: String(replica.port) };
  const extra = Object.entries(start.env).map(([name, value]) => [name, fillTemplate(value, values)]);
  return {
    command: fillTemplate(start.command, values),
    env: {
      ...process.env,
      ...Object.fromEntries(extra),
      ...platformEnv,
      PORT: String(replica.port),
      APP_VERSION: replica.version,
      ENVIRONMENT: replica.colour,
      REPLICA: String(replica.index),
    },
  };
}
