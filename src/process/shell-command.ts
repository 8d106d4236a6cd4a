/** Words that `exec` cannot run: shell keywords and builtins that only make sense inside the shell. */
const SHELL_ONLY = new Set([
  "!",
  ".",
  ":",
  "[",
  "[[",
  "{",
  "alias",
  "break",
  "case",
  "cd",
  "continue",
  "eval",
  "exec",
  "exit",
  "export",
  "for",
  "function",
  "if",
  "local",
  "readonly",
  "return",
  "set",
  "shift",
  "source",
  "times",
  "trap",
  "ulimit",
  "umask",
  "unset",
  "until",
  "wait",
  "while",
]);
/** A list, pipeline, subshell or background job; "&" inside a redirection such as 2>&1 is not one. */
const COMPOUND = /[;|()`\n]|(?<![<>])&/;

/**
 * `command` with `exec ` in front when it is one simple command, so that `/bin/sh -c` replaces itself with
 * the service (dash does not do this on its own): the service then gets the pid, the signals and the exit
 * status. Lists, pipelines, assignments and builtins are left to the shell as they are.
 */
export function execPrefixed(command: string): string {
  const trimmed = command.trim();
  const first = trimmed.split(/\s+/, 1)[0] ?? "";
  if (first === "" || COMPOUND.test(trimmed) || first.includes("=") || SHELL_ONLY.has(first)) return command;
  return `exec ${trimmed}`;
}

/** `text` with every `{name}` whose name is in `values` replaced by its value. */
export function fillTemplate(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
