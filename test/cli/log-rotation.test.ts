import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RotatingLog } from "../../src/process/rotating-log.js";
import { DEMO_APP, makeProject, type Project, runCli } from "../helpers/project.js";

const started: Project[] = [];
afterEach(async () => {
  for (const project of started.splice(0)) await runCli(project, "down");
});

/** path.<keep> ... path.1, path: the oldest file first. */
function rotatedFiles(path: string): string[] {
  const files: string[] = [];
  for (let n = 100; n >= 1; n--) if (existsSync(`${path}.${n}`)) files.push(`${path}.${n}`);
  return existsSync(path) ? [...files, path] : files;
}

const linesOf = (files: readonly string[]) =>
  files.flatMap((f) => readFileSync(f, "utf8").split("\n").slice(0, -1));

describe("log rotation", () => {
  it("rotates by size between whole lines, keeps `keep` files, and loses no line of those kept", () => {
    const dir = mkdtempSync(join(tmpdir(), "cutover-rotation-"));
    const path = join(dir, "x.log");
    const log = new RotatingLog(path, { maxBytes: 1000, keep: 50 });
    const written = Array.from({ length: 300 }, (_, i) => `line ${i} ${"x".repeat(i % 40)}`);
    // Several lines per write, as a pipe delivers them, and one line in two writes.
    for (let i = 0; i < written.length; i += 7) log.write(`${written.slice(i, i + 7).join("\n")}\n`);
    log.write("half a ");
    log.write("line\n");
    log.close();
    const files = rotatedFiles(path);
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) expect(statSync(file).size).toBeLessThanOrEqual(1000);
    expect(linesOf(files)).toEqual([...written, "half a line"]);

    const few = join(dir, "few.log");
    const small = new RotatingLog(few, { maxBytes: 100, keep: 2 });
    for (let i = 0; i < 50; i++) small.write(`${i}\n`.padStart(20, "."));
    small.close();
    expect(rotatedFiles(few)).toEqual([`${few}.2`, `${few}.1`, few]);
    const kept = linesOf(rotatedFiles(few)).map((l) => Number(l.replace(/^\.+/, "")));
    // The newest lines, in order, none missing.
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 50 - kept.length + i));
  });

  it("a replica's log and daemon.log rotate past logs.maxSize, and the replica's lines are all kept", {
    timeout: 90_000,
  }, async () => {
    const project = await makeProject({ extra: "logs:\n  maxSize: 2KiB\n  keep: 50\n" });
    // The service prints 400 numbered lines as it starts, then serves.
    writeFileSync(
      join(project.dir, "releases/1.0.0/start.sh"),
      `#!/bin/sh\ni=1\nwhile [ $i -le 400 ]; do echo "service line $i"; i=$((i+1)); done\nexec node "${DEMO_APP}"\n`,
    );
    started.push(project);
    expect((await runCli(project, "up")).code).toBe(0);
    const replicaLog = join(project.dir, ".cutover/logs/blue-0.log");
    const files = rotatedFiles(replicaLog);
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) expect(statSync(file).size).toBeLessThanOrEqual(2048);
    const service = linesOf(files).filter((l) => l.startsWith("service line "));
    expect(service).toEqual(Array.from({ length: 400 }, (_, i) => `service line ${i + 1}`));
    // The supervisor's own lines are there too.
    expect(linesOf(files).some((l) => /blue-0: starting version 1\.0\.0/.test(l))).toBe(true);

    // A deploy writes more than 2 KiB to daemon.log.
    project.release("2.0.0");
    expect((await runCli(project, "deploy", "2.0.0")).code).toBe(0);
    const daemonLog = join(project.dir, ".cutover/daemon.log");
    const daemonFiles = rotatedFiles(daemonLog);
    expect(daemonFiles.length).toBeGreaterThan(1);
    for (const file of daemonFiles) expect(statSync(file).size).toBeLessThanOrEqual(2048);
    for (const line of linesOf(daemonFiles)) expect(() => JSON.parse(line)).not.toThrow();
    const logs = await runCli(project, "logs", "daemon", "--lines", "3");
    expect(logs.stdout.trim().split("\n")).toHaveLength(3);
  });
});
