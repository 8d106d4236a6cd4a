import { createRequire } from "node:module";
import { destination, type Logger, pino } from "pino";
import { redactSecrets } from "./secrets.js";

/** Never let a secret reach a log line, whatever object is logged. */
const REDACT = [
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
];

/** Structured JSON logs, one event per line; pretty when a person watches a terminal. */
export function createLogger(
  options: { pretty?: boolean; level?: string; to?: { write(line: string): void } } = {},
): Logger {
  const level = options.level ?? process.env.CUTOVER_LOG_LEVEL ?? "info";
  // What cutover.yaml read from the environment (${VAR}) leaves every line as its ${VAR}, whatever field it is in.
  const base = {
    level,
    redact: { paths: REDACT, censor: "[redacted]" },
    hooks: { streamWrite: redactSecrets },
  };
  if (options.to) return pino(base, options.to);
  if (options.pretty) {
    // Loaded here: the daemon and the data plane write JSON and never pay for it (~50 ms of CPU).
    const pretty = createRequire(import.meta.url)("pino-pretty") as typeof import("pino-pretty");
    return pino(
      base,
      pretty({ colorize: !process.env.NO_COLOR, translateTime: "HH:MM:ss.l", ignore: "pid,hostname" }),
    );
  }
  // A full disk must not take the daemon (and the router with it) down: a log line that cannot be written is lost.
  const out = destination({ dest: 1, sync: true });
  out.on("error", () => undefined);
  return pino(base, out);
}

export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/** A catch handler that logs what failed and goes on: for shutdown steps, where one failure must not stop the rest. */
export function logFailure(logger: Logger, what: string): (error: unknown) => void {
  return (error) => logger.error({ err: (error as Error).message }, `${what} failed`);
}
