/**
 * The values configs loaded in this process read from the environment (`${VAR}` in cutover.yaml, see
 * config/interpolate.ts), and the redaction that writes each back as its `${VAR}`: applied by the loggers,
 * the CLI's output and error messages, so a resolved value never reaches a log line, a file or a terminal.
 */

/** One value read from the environment: where it came from, and the text it stood for. */
export interface ResolvedSecret {
  readonly name: string;
  readonly value: string;
}

/** Every value read from the environment by configs loaded in this process. */
const known = new Map<string, string>();

/** Remembers resolved values so that `redactSecrets` hides them from then on. */
export function rememberSecrets(secrets: readonly ResolvedSecret[]): void {
  for (const { name, value } of secrets) if (!known.has(value)) known.set(value, name);
}

/** True when a config loaded in this process read anything from the environment. */
export function hasSecrets(): boolean {
  return known.size > 0;
}

/**
 * `text` with every value a config read from the environment replaced by its `${VAR}`, also where it is
 * escaped inside a JSON string. Longest values first, so a secret that contains another goes whole.
 */
export function redactSecrets(text: string): string {
  if (known.size === 0) return text;
  let out = text;
  const values = [...known.keys()].sort((a, b) => b.length - a.length);
  for (const value of values) {
    const name = `\${${known.get(value)}}`;
    if (out.includes(value)) out = out.split(value).join(name);
    const json = JSON.stringify(value).slice(1, -1);
    if (json !== value && out.includes(json)) out = out.split(json).join(name);
    const encoded = encodeURIComponent(value);
    if (encoded !== value && out.includes(encoded)) out = out.split(encoded).join(name);
  }
  return out;
}

/** True when `text` holds a value a config read from the environment (e.g. to put it in a Secret, not a plain value). */
export function containsSecret(text: string): boolean {
  for (const value of known.keys()) if (text.includes(value)) return true;
  return false;
}

type Write = (chunk: string | Uint8Array, ...rest: never[]) => boolean;
const unredacted = new Map<NodeJS.WriteStream, Write>();

/**
 * From now on, what this process writes to stdout and stderr goes through `redactSecrets`: every progress
 * line, message and result of the CLI, whichever module prints it. A no-op cost while nothing was read.
 */
export function redactStandardStreams(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (unredacted.has(stream)) continue;
    const write = stream.write.bind(stream) as Write;
    unredacted.set(stream, write);
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      if (known.size === 0) return write(chunk, ...rest);
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      return write(redactSecrets(text), ...rest);
    }) as typeof stream.write;
  }
}

/** Writes `text` as it is, past `redactStandardStreams`: for what must hold the values (rendered manifests). */
export function writeUnredacted(stream: NodeJS.WriteStream, text: string): boolean {
  return (unredacted.get(stream) ?? (stream.write.bind(stream) as Write))(text);
}

/** Forgets what `rememberSecrets` was told (for tests). */
export function forgetSecrets(): void {
  known.clear();
}
