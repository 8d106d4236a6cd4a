/**
 * The house's layering, checked on every run: each room of src/ has a rank, and an import may only point to
 * a lower rank (rooms of one rank never import each other), and no file reaches itself through its imports.
 * The imports are read with TypeScript's own pre-processor, so `import type` counts too: a type-only arrow
 * upward is still an arrow the next change can turn into a real one.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../../src");

/**
 * Lower first. A room is a folder of src/ (platforms/* count as their parent's sub-rooms; fleet/model, the
 * fleet's data, is a room of its own below the dashboard that shows it).
 */
const RANKS: Readonly<Record<string, number>> = {
  "(root)": 0, // colour, errors, duration, log: words every room uses
  config: 1,
  process: 1, // free ports, guarded child processes, backoff
  engine: 2, // the state machine and its ports (engine/ports: Platform, TrafficRouter, StateStore, DeployMigrator, DeployAnalysis)
  analysis: 3,
  db: 3,
  "platforms/local": 3,
  "platforms/kubernetes": 3,
  router: 3,
  report: 4, // charts the analysis's samples
  dataplane: 4, // the process that keeps the router and the replicas running while the daemon is away, and its client
  "fleet/model": 4, // a fleet deploy's record and view: data the runner, the CLI and the dashboard share
  compose: 5, // the composition root: config + one platform's parts -> an engine
  dashboard: 5,
  daemon: 6,
  control: 7, // what the CLI and the fleet talk to: the daemon's admin API, or an engine in this process
  front: 7, // the global front before a fleet's regions (cutover's own, or Azure Traffic Manager)
  verify: 7,
  fleet: 8, // a service in several regions: waves, the fleet's judge, halt
  edge: 8, // several services on one machine behind one public listener; borrows the front's exchange
  cli: 9,
};

function roomOf(file: string): string {
  const parts = relative(SRC, file).split("/");
  if (parts.length === 1) return "(root)";
  if (parts[0] === "platforms" && parts.length > 2) return `platforms/${parts[1]}`;
  if (parts[0] === "fleet" && parts[1] === "model" && parts.length > 2) return "fleet/model";
  return parts[0] as string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** file -> the src files it imports (relative imports only; packages are not rooms). */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((name) => name.startsWith("."))
      .map((name) => resolve(dirname(file), name.replace(/\.js$/, ".ts")));
    graph.set(file, targets);
  }
  return graph;
}

/** Every import that points to a room of the same or a higher rank, as "from -> to (file -> file)". */
function wrongArrows(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
    const from = roomOf(file);
    for (const target of targets) {
      const to = roomOf(target);
      if (from === to) continue;
      const [a, b] = [RANKS[from], RANKS[to]];
      if (a === undefined || b === undefined || b >= a)
        wrong.push(`${from} -> ${to} (${relative(SRC, file)} imports ${relative(SRC, target)})`);
    }
  }
  return wrong;
}

/** The import cycles among files (Tarjan's strongly connected components of more than one file, or a self-import). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next++);
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file) as number, low.get(target) as number));
      } else if (onStack.has(target))
        low.set(file, Math.min(low.get(file) as number, index.get(target) as number));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(relative(SRC, member));
    } while (member !== file);
    if (component.length > 1 || graph.get(file)?.includes(file)) found.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

describe("the layering of src/", () => {
  const files = sourceFiles(SRC);
  const graph = importGraph(files);

  it("every room has a rank", () => {
    const unranked = [...new Set(files.map(roomOf))].filter((room) => RANKS[room] === undefined);
    expect(unranked).toEqual([]);
  });

  it("imports point only to lower rooms", () => {
    expect(wrongArrows(graph)).toEqual([]);
  });

  it("no file imports itself through other files", () => {
    expect(cycles(graph)).toEqual([]);
  });

  it("the check sees a wrong arrow and a cycle (it can fail)", () => {
    const engine = join(SRC, "engine/engine.ts");
    const platform = join(SRC, "platforms/local/local-platform.ts");
    const wrong = new Map([
      [engine, [platform]],
      [platform, [engine]],
    ]);
    expect(wrongArrows(wrong)).toEqual([
      "engine -> platforms/local (engine/engine.ts imports platforms/local/local-platform.ts)",
    ]);
    expect(cycles(wrong)).toEqual([["engine/engine.ts", "platforms/local/local-platform.ts"]]);
  });
});
