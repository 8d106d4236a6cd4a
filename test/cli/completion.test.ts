import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeProject, runCli } from "../helpers/project.js";

/** What bash would offer after `words` (the last one being completed), with the script loaded. */
function complete(script: string, words: readonly string[]): string[] {
  const line = words.map((w) => `'${w}'`).join(" ");
  const run = spawnSync(
    "bash",
    [
      "-c",
      `source "$0"; COMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; _cutover_completion; printf '%s\\n' "\${COMPREPLY[@]}"`,
      script,
    ],
    { encoding: "utf8" },
  );
  expect(run.stderr).toBe("");
  return run.stdout.split("\n").filter(Boolean);
}

describe("cutover completion", () => {
  it("prints a bash script that names every command and its options, made from the program", async () => {
    const project = await makeProject();
    const help = await runCli(project, "--help");
    const listed = help.stdout.split("Commands:")[1] ?? "";
    const commands = [...listed.matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1] ?? "");
    expect(commands).toContain("deploy");
    expect(commands).toContain("completion");
    const bash = await runCli(project, "completion", "bash");
    expect(bash.code).toBe(0);
    for (const command of commands.filter((c) => c !== "help")) expect(bash.stdout).toContain(`'${command}'`);

    const script = join(project.dir, "cutover.bash");
    writeFileSync(script, bash.stdout);
    expect(complete(script, ["cutover", "de"])).toEqual(["deploy"]);
    expect(complete(script, ["cutover", "logs", ""])).toEqual(
      expect.arrayContaining(["blue", "green", "daemon", "--follow"]),
    );
    expect(complete(script, ["cutover", "-c", "x.yaml", "migrate", "l"])).toEqual(["lint"]);
    expect(complete(script, ["cutover", "status", "--w"])).toEqual(["--watch"]);
    expect(complete(script, ["cutover", "wait", "--t"])).toEqual(["--timeout"]);

    const zsh = await runCli(project, "completion", "zsh");
    expect(zsh.stdout).toMatch(/^#compdef cutover\nautoload -U \+X bashcompinit && bashcompinit\n/);
    const fish = await runCli(project, "completion", "fish");
    expect(fish.stdout).toMatch(
      /complete -c cutover -n 'not __fish_seen_subcommand_from [^']*logs[^']*' -a logs/,
    );
    expect(fish.stdout).toMatch(/complete -c cutover -n '__fish_seen_subcommand_from wait' -l timeout -r -F/);
    expect((await runCli(project, "completion", "powershell")).code).toBe(2);
  });
});
