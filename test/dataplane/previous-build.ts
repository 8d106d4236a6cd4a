/**
 * The cutover of the previous commit, built in a temporary folder: what an upgrade replaces. Built with
 * TypeScript's emit alone (`--noCheck`: the commit's own CI checked its types), reusing this checkout's
 * node_modules when the two lock files agree.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/project.js";

const git = (...args: string[]) => execFileSync("git", ["-C", ROOT, ...args], { encoding: "utf8" }).trim();

/**
 * The previous commit's CLI (dist/src/cli/main.js), and which commit it is. In a clone without it (shallow),
 * HEAD's own, built in another folder: still another install of cutover, which the handover must replace.
 */
export function previousBuild(): { main: string; commit: string } {
  let commit: string;
  try {
    commit = git("rev-parse", "--verify", "--quiet", "HEAD~1^{commit}");
  } catch {
    commit = git("rev-parse", "HEAD");
  }
  // One folder per commit and checkout: its node_modules may be a link into this checkout, and a folder left
  // by another checkout (since deleted) would hold a dangling link. Kept only while its packages resolve.
  const checkout = createHash("sha256").update(ROOT).digest("hex").slice(0, 8);
  const dir = join(tmpdir(), `cutover-previous-${commit.slice(0, 12)}-${checkout}`);
  const main = join(dir, "dist/src/cli/main.js");
  if (existsSync(main) && existsSync(join(dir, "node_modules/commander/package.json")))
    return { main, commit };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync("sh", ["-c", `git -C "${ROOT}" archive ${commit} | tar -x -C "${dir}"`]);
  const lock = (root: string) => readFileSync(join(root, "package-lock.json"), "utf8");
  if (lock(dir) === lock(ROOT)) symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  else
    execFileSync("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: dir, stdio: "ignore" });
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  execFileSync(
    process.execPath,
    [tsc, "-p", "tsconfig.json", "--noCheck", "--declaration", "false", "--composite", "false"].concat([
      "--sourceMap",
      "false",
      "--incremental",
      "false",
    ]),
    { cwd: dir, stdio: "pipe" },
  );
  return { main, commit };
}
