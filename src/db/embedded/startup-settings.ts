/** Protocol 3.0 in a StartupMessage. */
const PROTOCOL_3 = 196608;

/** True when `message` is a StartupMessage (length, then protocol 3.0), the first a client sends. */
export function isStartupMessage(message: Uint8Array): boolean {
  if (message.length < 8) return false;
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  return view.getInt32(0) === message.length && view.getInt32(4) === PROTOCOL_3;
}

/**
 * The settings a client asked for in its StartupMessage's `options` parameter, the way libpq and
 * node-postgres pass them ("-c search_path=cutover_v2,public -c statement_timeout=5s", or "--name=value";
 * a backslash escapes a space). Returns name -> value.
 */
export function startupSettings(message: Uint8Array): Map<string, string> {
  const parameters = startupParameters(message);
  return parseOptions(parameters.get("options") ?? "");
}

function startupParameters(message: Uint8Array): Map<string, string> {
  const parts = Buffer.from(message.subarray(8)).toString("utf8").split("\0");
  const parameters = new Map<string, string>();
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const key = parts[i];
    if (!key) break;
    parameters.set(key, parts[i + 1] ?? "");
  }
  return parameters;
}

export function parseOptions(options: string): Map<string, string> {
  const words = splitWords(options);
  const settings = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? "";
    let pair: string | undefined;
    if (word === "-c") pair = words[++i];
    else if (word.startsWith("-c")) pair = word.slice(2);
    else if (word.startsWith("--")) pair = word.slice(2);
    const at = pair?.indexOf("=") ?? -1;
    if (pair === undefined || at <= 0) continue;
    settings.set(pair.slice(0, at).replaceAll("-", "_").toLowerCase(), pair.slice(at + 1));
  }
  return settings;
}

/** Splits on spaces that are not escaped with a backslash. */
function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  for (let i = 0; i < text.length; i++) {
    const char = text[i] ?? "";
    if (char === "\\" && i + 1 < text.length) {
      word += text[++i];
    } else if (char === " " || char === "\t") {
      if (word) words.push(word);
      word = "";
    } else {
      word += char;
    }
  }
  if (word) words.push(word);
  return words;
}
