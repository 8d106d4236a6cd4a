/**
 * Each deploy step crossed with each fault, on real processes: kill -9 of the new colour's replicas, kill -9
 * of the daemon, a full disk under the state folder (a tiny tmpfs, filled up: real ENOSPC), and cutover.yaml
 * made invalid while everything runs. After recovery (space freed, the file fixed, `cutover up` where the
 * daemon died, a paused deploy promoted) the service must be served by a healthy colour, the state on disk
 * must agree with the daemon, and every deploy must be in the history (as read from disk) exactly once.
 * On the full disk a deploy must stop at its switch (traffic stays: the switch is never made unrecorded)
 * and a rollback must still go through. Prints the matrix.
 *
 * Rows: start-idle (about half a second here, stopping the idle colour's old replica while it finishes a
 * slow request on the preview address; the fault lands on the first step seen running, and the matrix says
 * which), wait-healthy (a slow-starting version), smoke-checks (a `sleep 2` smoke check), promotion (paused
 * for `cutover promote`, which the operator then runs under the fault) and after the switch (the old colour
 * still warm; the operator runs `cutover rollback` under the fault). The switch itself is one pointer move and one state write; crashes between any two state
 * writes are covered by the model-based test (engine-model.test.ts). The database going away during a
 * deploy's migration is in test/db/database-goes-away.test.ts.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { DaemonInfo } from "../../src/daemon/state-files.js";
import { FileStateStore } from "../../src/engine/file-state-store.js";
import type { DeployRecord } from "../../src/engine/lifecycle.js";
import type { ServiceState } from "../../src/engine/ports/state-store.js";
import type { ServiceStatus } from "../../src/engine/service-status.js";
import { LoadGenerator, summarise } from "../../src/verify/load-generator.js";
import { isAlive } from "../helpers/eventually.js";
import { type Project, runCli } from "../helpers/project.js";
import { type DrillProjectOptions, makeDrillProject } from "../verify/verify-project.js";

/**
 * Cells that fail today because of a known defect outside this suite, with what to fix. They are shown as
 * KNOWN in the matrix and do not fail the test; remove an entry once its fix is in (the matrix then checks
 * the cell like any other).
 */
/** Cells that fail for a reason already understood, with the reason; none at present. */
const KNOWN_DEFECTS: Readonly<Record<string, string>> = {};

const DATA_PLANES = ["builtin", "haproxy"] as const;
type DataPlaneName = (typeof DATA_PLANES)[number];
const STEPS = ["start-idle", "wait-healthy", "smoke-checks", "promotion", "after-switch"] as const;
const FAULTS = ["kill-new", "kill-daemon", "disk-full", "bad-config"] as const;
type Step = (typeof STEPS)[number];
type Fault = (typeof FAULTS)[number];

/**
 * The faults each data plane meets. The HAProxy data plane writes nothing once started (switches go through its
 * runtime API), so a full disk or a broken cutover.yaml meet the same engine and state code behind both; those
 * two columns run on the built-in router only. Killing the new replicas or the daemon (which drives HAProxy)
 * touches the data plane itself, and runs on both.
 */
const FAULTS_OF: Readonly<Record<DataPlaneName, readonly Fault[]>> = {
  builtin: FAULTS,
  haproxy: ["kill-new", "kill-daemon"],
};

interface Cell {
  readonly step: Step;
  readonly fault: Fault;
  readonly problems: string[];
  note: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mounts: string[] = [];
afterAll(() => {
  for (const dir of mounts) {
    try {
      execFileSync("umount", ["-l", dir]);
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A 2 MiB tmpfs for the state folder: root only. null (with why) when it cannot be had here. */
function tinyFilesystem(): { dir: string } | { why: string } {
  const dir = mkdtempSync(join(tmpdir(), "cutover-tinyfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir], { stdio: "pipe" });
    mounts.push(dir);
    return { dir };
  } catch (error) {
    return {
      why: `mount -t tmpfs failed (${(error as Error).message.split("\n")[0]}); the disk-full column needs root`,
    };
  }
}

/** Writes a file until the filesystem is full. */
function fillUp(dir: string): void {
  const chunk = Buffer.alloc(64 * 1024, 1);
  const path = join(dir, "filler");
  writeFileSync(path, "");
  try {
    for (let i = 0; i < 1_000; i += 1) writeFileSync(path, chunk, { flag: "a" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  }
}

class Admin {
  constructor(
    readonly project: Project,
    readonly stateDir: string,
  ) {}

  get info(): DaemonInfo | null {
    const path = join(this.stateDir, "daemon.json");
    return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as DaemonInfo) : null;
  }

  async get<T>(path: string): Promise<T> {
    const token = readFileSync(join(this.stateDir, "token"), "utf8").trim();
    const answer = await fetch(`http://127.0.0.1:${this.project.admin}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!answer.ok) throw new Error(`${path}: ${answer.status}`);
    return (await answer.json()) as T;
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    const token = readFileSync(join(this.stateDir, "token"), "utf8").trim();
    const answer = await fetch(`http://127.0.0.1:${this.project.admin}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!answer.ok) throw new Error(`${path}: ${answer.status} ${await answer.text()}`);
    return (await answer.json()) as T;
  }

  async until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 30_000, everyMs = 50): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const value = await probe().catch(() => null);
      if (value !== null) return value;
      await sleep(everyMs);
    }
    throw new Error(`timed out waiting until ${what}`);
  }
}

async function runCell(step: Step, fault: Fault, dataPlane: DataPlaneName): Promise<Cell> {
  const cell: Cell = { step, fault, problems: [], note: "" };
  const tiny = fault === "disk-full" ? tinyFilesystem() : null;
  if (tiny && "why" in tiny) {
    if (process.env.CI === "true") cell.problems.push(tiny.why);
    cell.note = `skipped: ${tiny.why}`;
    return cell;
  }
  const deploy =
    step === "promotion"
      ? "  autoPromote: false"
      : step === "smoke-checks"
        ? '  smoke:\n    - command: "sleep 2"\n      timeout: 20s'
        : "";
  const project = await upProject({
    replicas: 1,
    scaleDownDelay: "60s",
    readyTimeout: "20s",
    deploy,
    router: `  dataPlane: ${dataPlane}`,
    ...(tiny ? { stateDir: tiny.dir } : {}),
  });
  const stateDir = tiny ? tiny.dir : join(project.dir, ".cutover");
  const admin = new Admin(project, stateDir);
  const must = async (what: string, ...args: string[]) => {
    const result = await runCli(project, ...args);
    if (result.code !== 0) throw new Error(`${what} failed (${result.code}): ${result.stderr}`);
    return result;
  };
  const load = new LoadGenerator({
    url: `http://127.0.0.1:${project.listen}`,
    connections: 8,
    ratePerSecond: 50,
    maxDurationMs: 120_000,
    maxRequests: 1_000_000,
  });
  try {
    if (step === "start-idle") {
      await must("the first deploy", "deploy", "2.0.0");
      // blue (1.0.0) is warm and idle: a slow request on it holds its stop, and so start-idle, ~2.5 s.
      void fetch(`http://127.0.0.1:${project.preview}/slow?ms=2500`).catch(() => undefined);
      await sleep(100);
    }
    load.start();
    const version = step === "wait-healthy" ? "slow" : "3.0.0";
    const started = await admin.post<DeployRecord>("/deploys", { version });
    const hit = await admin.until(
      `${step} of ${started.id}`,
      async () => {
        const status = await admin.get<ServiceStatus>("/status");
        if (step === "after-switch") return status.lastDeploy?.id === started.id ? "after the switch" : null;
        if (step === "promotion") return status.deploy?.phase === "Paused" ? "promotion (Paused)" : null;
        const running = status.deploy?.steps.find((s) => s.state === "running")?.name;
        // start-idle lasts half a second at most here: take the first step seen, and say which it was.
        if (step === "start-idle") return running ?? null;
        return running === step ? step : null;
      },
      30_000,
      10,
    );
    const before = await admin.get<ServiceStatus>("/status");
    const configText = readFileSync(project.config, "utf8");
    let configRefused = "";
    switch (fault) {
      case "kill-new":
        for (const r of before.colours[started.to.colour].replicas) if (r.pid) process.kill(r.pid, "SIGKILL");
        break;
      case "kill-daemon":
        process.kill(admin.info?.pid ?? -1, "SIGKILL");
        break;
      case "disk-full":
        fillUp(stateDir);
        break;
      case "bad-config": {
        writeFileSync(project.config, `${configText}\nreplicas: [unclosed\n`);
        const status = await runCli(project, "status");
        configRefused =
          status.code === 2 && /not valid/.test(status.stderr)
            ? "CLI refused the bad file (exit 2)"
            : `CLI: exit ${status.code}`;
        break;
      }
    }
    // Under the fault, the deploy goes on; the operator promotes a paused one, or rolls back after the switch.
    const operator = step === "promotion" ? "promote" : step === "after-switch" ? "rollback" : null;
    const action = operator ? await runCli(project, operator) : null;
    const actionNote = operator && action ? `${operator} under the fault: exit ${action.code}` : "";
    await admin.until(
      "the deploy ended or the daemon died",
      async () => {
        if (!isAlive(admin.info?.pid ?? -1)) return true;
        const status = await admin.get<ServiceStatus>("/status");
        return status.deploy === null || status.deploy.phase === "Paused" ? true : null;
      },
      20_000,
    );
    await sleep(500);
    // Recovery: what an operator does.
    if (fault === "disk-full") rmSync(join(stateDir, "filler"), { force: true });
    if (fault === "bad-config") writeFileSync(project.config, configText);
    const daemonDied = !isAlive(admin.info?.pid ?? -1);
    if (daemonDied) await upAgain(project);
    const settled = await admin.until("the deploy ended", async () => {
      const status = await admin.get<ServiceStatus>("/status");
      if (status.deploy?.phase === "Paused") {
        await runCli(project, "promote");
        return null;
      }
      return status.deploy === null ? status : null;
    });
    await sleep(300);
    const samples = await load.stop();
    await check(cell, admin, project, stateDir, settled, started.id);
    const record = (await admin.get<DeployRecord[]>("/history")).find((r) => r.id === started.id);
    // A deploy never moves traffic while its state cannot be written; a rollback still does.
    if (
      fault === "disk-full" &&
      step !== "after-switch" &&
      !/before the switch \(.*ENOSPC/.test(record?.reason ?? "")
    )
      cell.problems.push(`the deploy went on past a full disk: ${record?.phase} ${record?.reason ?? ""}`);
    if (fault === "disk-full" && step === "after-switch" && action?.code !== 0)
      cell.problems.push(`the rollback on a full disk failed: ${action?.stderr.trim()}`);
    const failed = summarise(samples);
    // The data plane process serves on while the daemon is dead: not one request may fail for it.
    if (fault === "kill-daemon" && failed.failed > 0)
      cell.problems.push(`${failed.failed} of ${failed.sent} requests failed around the daemon's kill`);
    cell.note = [
      `hit ${hit}`,
      daemonDied ? (fault === "kill-daemon" ? "daemon restarted" : "DAEMON DIED, restarted") : "",
      configRefused,
      actionNote,
      `${started.id} ${record?.phase ?? "missing"}`,
      `live ${settled.active}`,
      `${failed.failed}/${failed.sent} failed`,
    ]
      .filter(Boolean)
      .join("; ");
  } catch (error) {
    cell.problems.push((error as Error).message);
  } finally {
    await load.stop();
    await down(project, admin);
  }
  return cell;
}

/**
 * What `cutover down` does (POST /shutdown, then wait for the daemon to exit), from this process: the clean-up
 * of every cell, so without a CLI process of its own (half a second of CPU each, 40 times). The CLI itself is
 * used wherever the matrix checks what an operator does: up, status, promote, rollback, up after the fault.
 */
async function down(project: Project, admin: Admin): Promise<void> {
  const pid = admin.info?.pid ?? -1;
  if (!isAlive(pid)) {
    // A daemon that died leaves the data plane process serving: `cutover down` stops it.
    await runCli(project, "down");
    return;
  }
  try {
    await admin.post("/shutdown", {});
  } catch {
    await runCli(project, "down");
    return;
  }
  const deadline = Date.now() + 60_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
}

/**
 * A project, up. Free ports are found by binding and releasing them, so with cells running side by side a
 * port can be taken by another cell's replica before this daemon binds it: then try again on new ports.
 */
async function upProject(options: DrillProjectOptions): Promise<Project> {
  for (let attempt = 1; ; attempt += 1) {
    const project = await makeDrillProject(options);
    project.release("3.0.0");
    const result = await runCli(project, "up");
    if (result.code === 0) return project;
    if (attempt >= 3 || !/already in use/.test(result.stderr)) {
      throw new Error(`cutover up failed (${result.code}): ${result.stderr}`);
    }
  }
}

/** `cutover up` after the daemon died; its ports were free for a while, so another cell may have probed one. */
async function upAgain(project: Project): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    const result = await runCli(project, "up");
    if (result.code === 0) return;
    if (attempt >= 5 || !/already in use/.test(result.stderr)) {
      throw new Error(
        `cutover up after the fault failed (${result.code}): ${result.stderr.split("\n").at(-2) ?? result.stderr}`,
      );
    }
    await sleep(500);
  }
}

/** The service is served by a healthy colour; the state on disk agrees; each deploy is in the history once. */
async function check(
  cell: Cell,
  admin: Admin,
  project: Project,
  stateDir: string,
  status: ServiceStatus,
  id: string,
) {
  const problem = (p: string) => cell.problems.push(p);
  if (status.health !== "Healthy") problem(`live ${status.active} is ${status.health}`);
  const answer = await fetch(`http://127.0.0.1:${project.listen}/`);
  await answer.arrayBuffer();
  if (answer.status !== 200 || answer.headers.get("x-cutover-colour") !== status.active) {
    problem(`the service answered ${answer.status} from ${answer.headers.get("x-cutover-colour")}`);
  }
  const state = JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8")) as ServiceState;
  if (state.active !== status.active)
    problem(`state.json says ${state.active} is live, the daemon ${status.active}`);
  if (state.current !== null) problem(`state.json still holds ${state.current.id} as in progress`);
  // The history file, line by line: each deploy written once, and read back as a restarted daemon would.
  const lines = readFileSync(join(stateDir, "history.ndjson"), "utf8").split("\n").filter(Boolean);
  const written = lines.map((line) => (JSON.parse(line) as DeployRecord).id);
  if (written.filter((x) => x === id).length !== 1)
    problem(`${id} is written ${written.filter((x) => x === id).length} times in history.ndjson`);
  if (new Set(written).size !== written.length) problem(`duplicate lines in history.ndjson: ${written}`);
  const disk = await new FileStateStore(stateDir).loadHistory();
  const memory = await admin.get<DeployRecord[]>("/history");
  const ids = disk.map((r) => r.id);
  if (ids.join(",") !== memory.map((r) => r.id).join(","))
    problem(`the history on disk (${ids}) differs from the daemon's (${memory.map((r) => r.id)})`);
  if (state.deploys !== ids.length)
    problem(`state.json counts ${state.deploys} deploys, the history on disk holds ${ids.length}`);
  if (disk.some((r) => r.phase !== "Healthy" && r.phase !== "Aborted"))
    problem("a record in the history on disk is not final");
}

/**
 * At most `limit` cells at once, across both data planes: their two tests run side by side and share it, so
 * the machine stays busy until the last cell instead of idling at the end of each half. Each cell has its
 * own project, ports, daemon and state folder, so cells do not share anything but the CPU. A cell is mostly
 * CPU (starting the daemon, replicas and CLI processes: about one core for ~5 s alone), so beyond a few at
 * once a cell only gets slower; 4 keeps both cores busy through the cells' waits (a 2 s smoke check, a slow
 * start, the 0.5 s settling pauses) without stretching each cell toward its 20-30 s deadlines.
 */
function limiter(limit: number): <R>(work: () => Promise<R>) => Promise<R> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (work) => {
    if (running < limit) running += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over as is
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}

const CELLS_AT_ONCE = 4;
const cellSlot = limiter(CELLS_AT_ONCE);

function render(cells: readonly Cell[], faults: readonly Fault[]): string {
  const lines = [
    `deploy step x fault (after recovery: served by a healthy colour, state consistent, no record lost or duplicated)`,
  ];
  for (const step of STEPS) {
    lines.push(`  ${step}`);
    for (const fault of faults) {
      const c = cells.find((x) => x.step === step && x.fault === fault) as Cell;
      const known = KNOWN_DEFECTS[`${step} x ${fault}`] !== undefined;
      const verdict =
        c.problems.length === 0
          ? c.note.startsWith("skipped")
            ? "SKIP "
            : "ok   "
          : known
            ? "KNOWN"
            : "FAIL ";
      lines.push(
        `    ${verdict} ${fault.padEnd(12)} ${c.note}${c.problems.length ? ` | ${c.problems.join(" | ")}` : ""}`,
      );
    }
  }
  return lines.join("\n");
}

/**
 * The same matrix through each data plane: the built-in router, and HAProxy driven by its runtime API. The two
 * run at the same time (describe.concurrent), their cells sharing CELLS_AT_ONCE slots.
 */
describe.concurrent.each(DATA_PLANES)(
  "reliability: deploy steps x faults, router.dataPlane %s",
  (dataPlane) => {
    it("recovers from every fault at every step: healthy colour, consistent state, no lost or duplicate record", {
      // Both halves together: 30 cells, 4 at a time, ~110 s on a quiet 2-core machine; room for a busy one.
      timeout: 600_000,
    }, async () => {
      const faults = FAULTS_OF[dataPlane];
      const cells = STEPS.flatMap((step) => faults.map((fault) => ({ step, fault })));
      const results = await Promise.all(
        cells.map(({ step, fault }) => cellSlot(() => runCell(step, fault, dataPlane))),
      );
      console.log(`router.dataPlane: ${dataPlane}\n${render(results, faults)}`);
      const known = Object.entries(KNOWN_DEFECTS).map(([cell, why]) => `  ${cell}: ${why}`);
      console.log(`known defects (KNOWN above, when they showed):\n${known.join("\n")}`);
      const failed = results.filter(
        (c) => c.problems.length > 0 && KNOWN_DEFECTS[`${c.step} x ${c.fault}`] === undefined,
      );
      expect(failed.map((c) => `${c.step} x ${c.fault}: ${c.problems.join("; ")}`)).toEqual([]);
    });
  },
);
