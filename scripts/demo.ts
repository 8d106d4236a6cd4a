/**
 * `npm run demo`: a full blue-green cycle on this machine, under load.
 * Starts v1.0.0 on blue behind the router, sends steady traffic through it, deploys v2.0.0 to green
 * (health-gated, smoke-checked, switched) and accounts for every request.
 * `npm run demo -- --bad` deploys a v2 that never passes its health check: the deploy aborts and
 * traffic never leaves blue.
 * `npm run demo -- --regress` deploys a v2 that answers 10% of its requests with 500 (the demo app's
 * ERROR_RATIO knob, which only live traffic on / reaches, i.e. after the switch): the post-switch analysis
 * fails, traffic goes back to blue by itself, and the demo's own webhook receiver hears the alerts.
 *
 * Analysis is on in every mode: the router's per-colour metrics, the judge (Mann-Whitney per metric) and a
 * 5 s window after the switch; the verdict with its numbers and the deploy's HTML + PNG report are printed.
 *
 * The service keeps greetings in a database (embedded PGlite, shared by both colours). v2 ships migration
 * 0002, which adds a column v1 does not know: the deploy applies it before v2 starts (expand), and v1 keeps
 * writing while v2 starts beside it.
 */

import { spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import pc from "picocolors";
import { Pool } from "undici";
import type { DeployRecord } from "../src/engine/lifecycle.js";
import { freePort } from "../src/process/free-port.js";
import { journalPath, readJournal } from "../src/report/deploy-journal.js";
import type { JournalAnalysis } from "../src/report/deploy-journal-format.js";
import { LoadGenerator, type LoadSample, summarise } from "../src/verify/load-generator.js";

const root = resolve(fileURLToPath(import.meta.url), "../../..");
const cli = join(root, "dist/src/cli/main.js");
const demoApp = join(root, "dist/examples/demo-app/src/server.js");
const migrations = join(root, "examples/demo-app/migrations");
const bad = process.argv.includes("--bad");
const regress = !bad && process.argv.includes("--regress");

/** A release folder per version, as a build pipeline would leave them; v2 is broken with --bad and --regress. */
function writeRelease(dir: string, version: string, env: string): void {
  const folder = join(dir, "releases", version);
  mkdirSync(folder, { recursive: true });
  const script = join(folder, "start.sh");
  writeFileSync(script, `#!/bin/sh\n${env}exec node "${demoApp}"\n`);
  chmodSync(script, 0o755);
}

/** A migration ships with the release that needs it: copy it into the project's migrations folder. */
function shipMigration(dir: string, name: string): void {
  mkdirSync(join(dir, "migrations"), { recursive: true });
  copyFileSync(join(migrations, name), join(dir, "migrations", name));
}

/** v2's misbehaviour: none, a health check that never passes (--bad), 10% errors on / (--regress). */
function v2Env(): string {
  if (bad) return "export FAIL_HEALTH=1\n";
  if (regress) return "export ERROR_RATIO=0.1\n";
  return "";
}

async function writeProject(
  webhook: string,
): Promise<{ dir: string; config: string; listen: number; stateDir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "cutover-demo-"));
  shipMigration(dir, "0001_create_greetings.sql");
  writeRelease(dir, "1.0.0", "");
  writeRelease(dir, "2.0.0", v2Env());
  const [listen, preview, admin] = [
    await freePort("127.0.0.1"),
    await freePort("127.0.0.1"),
    await freePort("127.0.0.1"),
  ];
  const config = join(dir, "cutover.yaml");
  writeFileSync(
    config,
    `service: demo
version: 1.0.0
replicas: 2
start:
  command: "sh releases/{version}/start.sh"
  stopGrace: 5s
health:
  path: /health
  interval: 200ms
  timeout: 500ms
  startupGrace: 10s
router:
  listen: 127.0.0.1:${listen}
  preview: 127.0.0.1:${preview}
  admin: 127.0.0.1:${admin}
  drainTimeout: 2s
deploy:
  autoPromote: true
  readyTimeout: ${bad ? "4s" : "20s"}
  scaleDownDelay: 2s
  smoke:
    # With --regress, v2's errors are on / only: the smoke check asks /health, so the bad version passes
    # it and is caught after the switch, on live traffic, by the analysis.
    - http: { path: ${regress ? "/health" : "/"}, bodyContains: '"version":"2.0.0"' }
database:
  migrations: migrations
analysis:
  source: { type: router }
  interval: 500ms
  window: 5s
  lookback: 3s
  minRequests: 30
  failureLimit: 2
  preSwitch: false
  conditions:
    - { metric: errorRate, max: 0.01 }
  judge:
    minSamples: 5
    allowedIncrease: 1.5
  webhooks:
    - { url: "${webhook}/alerts", format: json, retries: 1 }
`,
  );
  return { dir, config, listen, stateDir: join(dir, ".cutover") };
}

interface Received {
  readonly at: number;
  readonly body: Record<string, unknown>;
}

/** The alert receiver a team would have (Slack, PagerDuty...): a tiny HTTP server that keeps each JSON body. */
async function startWebhookReceiver(): Promise<{ url: string; received: Received[]; close: () => void }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      try {
        received.push({ at: Date.now(), body: JSON.parse(Buffer.concat(chunks).toString() || "{}") });
      } catch {
        received.push({ at: Date.now(), body: { text: "(not JSON)" } });
      }
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

/** Runs the cutover CLI without blocking this process, so the load keeps flowing while it works. */
function cutover(config: string, ...args: string[]): Promise<{ status: number; stdout: string }> {
  const json = args.includes("--json");
  const child = spawn(process.execPath, [cli, "--config", config, ...args], {
    stdio: ["ignore", json ? "pipe" : "inherit", "inherit"],
  });
  let stdout = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  return new Promise((resolveRun) => child.on("close", (code) => resolveRun({ status: code ?? 1, stdout })));
}

function switchTimes(samples: readonly LoadSample[], switchedAt: number) {
  const firstNew = samples
    .filter((s) => s.version === "2.0.0")
    .reduce((min, s) => Math.min(min, s.sentAt + s.latencyMs), Infinity);
  const lastOld = samples
    .filter((s) => s.version === "1.0.0")
    .reduce((max, s) => Math.max(max, s.sentAt + s.latencyMs), -Infinity);
  return { toFirstNewMs: firstNew - switchedAt, toLastOldMs: lastOld - switchedAt };
}

interface Write {
  readonly sentAt: number;
  readonly status: number;
  readonly version: string | null;
}

/** Writes a greeting through the router every 20 ms, as users of the service would, and keeps each answer. */
function startWriter(listen: number): { stop: () => Promise<Write[]> } {
  const pool = new Pool(`http://127.0.0.1:${listen}`, { connections: 1 });
  const writes: Write[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const sentAt = Date.now();
      try {
        const answer = await pool.request({ method: "POST", path: "/greetings" });
        await answer.body.dump();
        const version = answer.headers["x-app-version"];
        writes.push({
          sentAt,
          status: answer.statusCode,
          version: typeof version === "string" ? version : null,
        });
      } catch {
        writes.push({ sentAt, status: 0, version: null });
      }
      await sleep(20);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await pool.close();
      return writes;
    },
  };
}

function modeTitle(): string {
  if (bad) return " (--bad: v2 fails its health check)";
  if (regress) return " (--regress: v2 answers 10% errors after the switch)";
  return "";
}

async function main(): Promise<number> {
  const receiver = await startWebhookReceiver();
  try {
    return await demo(receiver);
  } finally {
    receiver.close();
  }
}

async function demo(receiver: Awaited<ReturnType<typeof startWebhookReceiver>>): Promise<number> {
  const { dir, config, listen, stateDir } = await writeProject(receiver.url);
  console.log(pc.bold(`cutover demo${modeTitle()}: project in ${dir}`));
  console.log(pc.bold("\napplying the first migration, then starting 1.0.0 on blue"));
  if ((await cutover(config, "migrate", "up")).status !== 0) return 1;
  if ((await cutover(config, "up")).status !== 0) return 1;
  const load = new LoadGenerator({
    url: `http://127.0.0.1:${listen}`,
    connections: 8,
    maxDurationMs: 45_000,
    maxRequests: 200_000,
  });
  const writer = startWriter(listen);
  try {
    load.start();
    await sleep(1500);
    shipMigration(dir, "0002_add_author.sql");
    console.log(pc.bold("\ndeploying 2.0.0 (with migration 0002) to the idle colour while traffic flows"));
    const deploy = await cutover(config, "deploy", "2.0.0");
    await sleep(1500);
    while (load.samples.length < 2000) await sleep(100);
    const samples = await load.stop();
    const writes = await writer.stop();
    const history = JSON.parse((await cutover(config, "--json", "history")).stdout) as DeployRecord[];
    const record = history.at(-1);
    const ok = report(samples, record, deploy.status, dir) === 0;
    const written = reportWrites(writes, record);
    const analysed = record ? await reportAnalysis(record, stateDir, receiver.received) : false;
    const passed = written && analysed && ok;
    console.log(
      passed ? pc.green(pc.bold("\ndemo passed")) : pc.red(pc.bold("\ndemo did not go as expected")),
    );
    return passed ? 0 : 1;
  } finally {
    await load.stop().catch(() => undefined);
    await writer.stop().catch(() => undefined);
    await cutover(config, "down");
  }
}

/** The database side: the migration ran before the new colour, and the old version kept writing after it. */
function reportWrites(writes: readonly Write[], record: DeployRecord | undefined): boolean {
  const expand = record?.steps.find((step) => step.name === "migrate-expand");
  const appliedAt = expand?.endedAt ? Date.parse(expand.endedAt) : Number.POSITIVE_INFINITY;
  const failed = writes.filter((w) => w.status !== 201);
  const oldAfter = writes.filter((w) => w.status === 201 && w.version === "1.0.0" && w.sentAt > appliedAt);
  const byVersion = new Map<string, number>();
  for (const w of writes)
    if (w.status === 201) byVersion.set(w.version ?? "?", (byVersion.get(w.version ?? "?") ?? 0) + 1);
  console.log(`  migration          ${expand?.detail ?? "none"}`);
  console.log(
    `  writes             ${writes.length} sent, ${failed.length === 0 ? pc.green("0") : pc.red(String(failed.length))} failed; ${[...byVersion].map(([v, n]) => `${v}: ${n}`).join(", ")}`,
  );
  console.log(
    `  old version        1.0.0 wrote ${oldAfter.length} greetings after 0002 added a column it does not know`,
  );
  return failed.length === 0 && writes.length > 0 && oldAfter.length > 0;
}

function report(
  samples: LoadSample[],
  record: DeployRecord | undefined,
  deployExit: number,
  dir: string,
): number {
  const s = summarise(samples);
  const before = samples[0]?.version ?? "?";
  const after = samples.at(-1)?.version ?? "?";
  console.log(pc.bold("\nsummary"));
  console.log(`  requests sent      ${s.sent}`);
  console.log(
    `  failed             ${s.failed === 0 ? pc.green("0") : pc.red(String(s.failed))} ${s.failed ? JSON.stringify(s.errors) : ""}`,
  );
  console.log(
    `  answered by        ${Object.entries(s.byVersion)
      .map(([v, n]) => `${v}: ${n}`)
      .join(", ")}`,
  );
  console.log(
    `  latency            p50 ${s.p50Ms.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms, max ${s.maxMs.toFixed(1)} ms`,
  );
  console.log(`  version            before ${before}, after ${after}`);
  console.log(
    `  deploy             ${record ? `${record.id} ${record.phase}${record.reason ? `: ${record.reason}` : ""}` : "none"}`,
  );
  if (record?.switchedAt) {
    const t = switchTimes(samples, Date.parse(record.switchedAt));
    // After a rollback 1.0.0 answers again: the last 1.0.0 answer says nothing about the switch then.
    const old = record.rolledBackAt ? "" : `; last 1.0.0 answer ${t.toLastOldMs.toFixed(1)} ms after`;
    console.log(
      `  switch             first 2.0.0 answer ${t.toFirstNewMs.toFixed(1)} ms after the switch${old}`,
    );
  }
  console.log(
    `  logs               ${join(dir, ".cutover", "daemon.log")} and ${join(dir, ".cutover", "logs")}/`,
  );
  if (record?.rolledBackAt) {
    const back = Date.parse(record.rolledBackAt);
    const lastNew = samples
      .filter((x) => x.version === "2.0.0")
      .reduce((max, x) => Math.max(max, x.endedAt), -Infinity);
    console.log(
      `  rollback           automatic, ${((back - Date.parse(record.switchedAt ?? record.rolledBackAt)) / 1000).toFixed(1)} s after the switch; last 2.0.0 answer ${(lastNew - back).toFixed(1)} ms after it`,
    );
  }
  if (bad) {
    const expected = record?.phase === "Aborted" && deployExit !== 0 && s.byVersion["2.0.0"] === undefined;
    return s.failed === 0 && s.sent >= 2000 && expected ? 0 : 1;
  }
  if (regress) {
    // The only failures are v2's injected 500s; blue failed nothing, and traffic ended on blue.
    const failures = samples.filter((x) => x.status === 0 || x.status >= 400);
    const onlyInjected = failures.every((x) => x.status === 500 && x.version === "2.0.0");
    const expected =
      record?.phase === "Aborted" &&
      record.rolledBackAt !== undefined &&
      deployExit !== 0 &&
      after === "1.0.0" &&
      onlyInjected;
    return s.sent >= 2000 && expected ? 0 : 1;
  }
  const expected = record?.phase === "Healthy" && deployExit === 0 && after === "2.0.0";
  return s.failed === 0 && s.sent >= 2000 && expected ? 0 : 1;
}

const percent = (value: number | null) => (value === null ? "–" : `${(value * 100).toFixed(2)}%`);
const millis = (value: number | null) => (value === null ? "–" : `${(value * 1000).toFixed(1)} ms`);

/** One judged metric: both colours' means, the p-value of the Mann-Whitney U test and the class. */
function metricLine(a: JournalAnalysis, m: JournalAnalysis["metrics"][number]): string {
  const show = m.metric === "errorRate" ? percent : m.metric === "requestRate" ? String : millis;
  const p = m.pValue === null ? "p –" : `p ${m.pValue.toPrecision(2)}`;
  return `${a.canary} ${show(m.canaryMean)}, ${a.baseline} ${show(m.baselineMean)}; ${p}; ${m.classification}`;
}

/**
 * The analysis side: the verdict with its numbers, the alerts the webhook receiver heard, and the report
 * the daemon wrote once the deploy was over (it has the charts with the switch, and the rollback if any).
 */
async function reportAnalysis(
  record: DeployRecord,
  stateDir: string,
  received: readonly Received[],
): Promise<boolean> {
  const html = join(stateDir, "reports", `${record.id}.html`);
  const png = join(stateDir, "reports", `${record.id}.png`);
  const alertsExpected = bad ? ["failure"] : regress ? ["verdict", "rollback"] : ["verdict"];
  const heard = () => new Set(received.map((r) => String(r.body.kind)));
  const deadline = Date.now() + 20_000;
  while (
    Date.now() < deadline &&
    !(existsSync(html) && existsSync(png) && alertsExpected.every((k) => heard().has(k)))
  )
    await sleep(100);
  console.log(pc.bold("\nanalysis"));
  const journal = existsSync(journalPath(stateDir, record.id))
    ? readJournal(journalPath(stateDir, record.id))
    : null;
  const analyses = journal?.analyses ?? [];
  if (analyses.length === 0)
    console.log("  verdict            none: the deploy ended before any analysis ran");
  for (const a of analyses) {
    // The summary starts with the judge's score when the judge decided, else with the condition that failed.
    const colour = a.verdict === "Pass" ? pc.green : a.verdict === "Fail" ? pc.red : pc.yellow;
    console.log(`  verdict            ${a.phase} ${colour(a.verdict)}: ${a.summary}`);
    console.log(
      `  baseline           ${a.baseline}'s ${a.baselineFrom === "live" ? "live" : "pre-switch"} samples`,
    );
    for (const m of a.metrics) console.log(`  ${m.metric.padEnd(19)}${metricLine(a, m)}`);
  }
  for (const r of received) {
    const b = r.body;
    const text = String(b.text);
    console.log(
      `  alert              ${b.kind} (${b.severity}) ${b.deployId}: ${text.length > 100 ? `${text.slice(0, 99)}…` : text}`,
    );
  }
  if (received.length === 0) console.log(`  alert              ${pc.red("none received")}`);
  const reportShown = existsSync(html) && existsSync(png);
  console.log(`  report html        ${existsSync(html) ? html : pc.red(`missing: ${html}`)}`);
  console.log(`  report png         ${existsSync(png) ? png : pc.red(`missing: ${png}`)}`);
  let showsRollback = true;
  if (record.rolledBackAt && reportShown) {
    const page = readFileSync(html, "utf8");
    showsRollback = page.includes("Rolled back") && page.includes("rollback → blue");
    console.log(
      `  report shows       ${showsRollback ? "Rolled back, the switch and the rollback → blue on every chart" : pc.red("no rollback")}`,
    );
  }
  const alerted = alertsExpected.every((k) => heard().has(k));
  const judged =
    bad || analyses.some((a) => a.phase === "post-switch" && a.verdict === (regress ? "Fail" : "Pass"));
  return reportShown && alerted && judged && showsRollback;
}

process.exitCode = await main();
