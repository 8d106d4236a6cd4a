/**
 * The local history file: appended one line per record, read back with the last write of an id winning,
 * safe against a crash in the middle of an append, and converted once from the JSON list cutover kept before.
 * Real files in a temporary folder.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileStateStore } from "../../src/engine/file-state-store.js";
import type { DeployRecord } from "../../src/engine/lifecycle.js";
import { newRecord, setPhase } from "../../src/engine/lifecycle.js";

const folders: string[] = [];
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "cutover-history-"));
  folders.push(dir);
  return dir;
}

function record(n: number, phase: "Healthy" | "Aborted" = "Healthy"): DeployRecord {
  const r = newRecord(
    `d${n}`,
    "deploy",
    `1.${n}.0`,
    { colour: "blue", version: "1.0.0" },
    { colour: "green", version: `1.${n}.0` },
  );
  setPhase(r, phase, phase === "Aborted" ? "smoke check failed" : undefined);
  return r;
}

const ids = (records: readonly DeployRecord[]) => records.map((r) => `${r.id} ${r.phase}`);

describe("the history file (history.ndjson)", () => {
  it("adds one line per record; a record written again replaces the earlier one, in the place of its last write", async () => {
    const dir = folder();
    const store = new FileStateStore(dir);
    await store.appendHistory(record(1));
    await store.appendHistory(record(2, "Aborted"));
    await store.appendHistory(record(1, "Aborted")); // a retried write of d1
    await store.appendHistory(record(3));
    const lines = readFileSync(join(dir, "history.ndjson"), "utf8").split("\n");
    expect(lines).toHaveLength(5); // four records and the final newline
    expect(ids(await new FileStateStore(dir).loadHistory())).toEqual([
      "d2 Aborted",
      "d1 Aborted",
      "d3 Healthy",
    ]);
  });

  it("skips a line a crash cut short, and the next append cuts it off", async () => {
    const dir = folder();
    const store = new FileStateStore(dir);
    await store.appendHistory(record(1));
    const whole = JSON.stringify(record(2));
    appendFileSync(join(dir, "history.ndjson"), whole.slice(0, whole.length / 2)); // the crash
    expect(ids(await store.loadHistory())).toEqual(["d1 Healthy"]);
    await store.appendHistory(record(2));
    const text = readFileSync(join(dir, "history.ndjson"), "utf8");
    expect(text.split("\n").map((line) => (line ? JSON.parse(line).id : ""))).toEqual(["d1", "d2", ""]);
    expect(ids(await new FileStateStore(dir).loadHistory())).toEqual(["d1 Healthy", "d2 Healthy"]);
  });

  it("refuses a history with a broken line in the middle, naming the file and the line", async () => {
    const dir = folder();
    writeFileSync(
      join(dir, "history.ndjson"),
      `${JSON.stringify(record(1))}\nnot json\n${JSON.stringify(record(2))}\n`,
    );
    await expect(new FileStateStore(dir).loadHistory()).rejects.toThrow(
      new RegExp(`${join(dir, "history.ndjson")} line 2 is not a deploy record; move the file away`),
    );
  });

  it("takes over a history.json an older cutover wrote: same records, same order, then appends after them", async () => {
    const dir = folder();
    writeFileSync(join(dir, "history.json"), JSON.stringify([record(1), record(2, "Aborted")], null, 2));
    const store = new FileStateStore(dir);
    expect(ids(await store.loadHistory())).toEqual(["d1 Healthy", "d2 Aborted"]);
    expect(existsSync(join(dir, "history.json"))).toBe(false);
    await store.appendHistory(record(3));
    expect(ids(await new FileStateStore(dir).loadHistory())).toEqual([
      "d1 Healthy",
      "d2 Aborted",
      "d3 Healthy",
    ]);
  });

  it("refuses a history.json that is not a list, and leaves it where it is", async () => {
    const dir = folder();
    writeFileSync(join(dir, "history.json"), '{"not": "a list"}');
    await expect(new FileStateStore(dir).loadHistory()).rejects.toThrow(
      /history\.json is not a list of deploys/,
    );
    expect(existsSync(join(dir, "history.json"))).toBe(true);
    expect(existsSync(join(dir, "history.ndjson"))).toBe(false);
  });
});
