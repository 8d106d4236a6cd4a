/**
 * `npm run demo`: a full blue-green cycle on this machine, under load.
 * Starts v1.0.0 on blue behind the router, sends steady traffic through it, deploys v2.0.0 to green
 * (health-gated, smoke-checked, switched) and accounts for every request.
 * `npm run demo -- --bad` deploys a v2 that never passes its health check: the deploy aborts and
 * traffic never leaves blue.
 *
 * The service keeps greetings in a database (embedded PGlite, shared by both colours). v2 ships migration
 * 0002, which adds a column v1 does not know: the deploy applies it before v2 starts (expand), and v1 keeps
 * writing while v2 starts beside it.
 */
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pc from "picocolors";
import { Pool } from "undici";
import type { DeployRecord } from "../src/engine/lifecycle.js";
import { freePort } from "../src/process/free-port.js";
import { LoadGenerator, type LoadSample, summarise } from "../src/verify/load-generator.js";

const root = resolve(fileURLToPath(import.meta.url), "../../..");
const cli = join(root, "dist/src/cli/main.js");
const demoApp = join(root, "dist/examples/demo-app/src/server.js");
const migrations = join(root, "examples/demo-app/migrations");
const bad = process.argv.includes("--bad");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A release folder per version, as a build pipeline would leave them; v2 is broken with --bad. */
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

async function writeProject(): Promise<{ dir: string; config: string; listen: number }> {
  const dir = mkdtempSync(join(tmpdir(), "cutover-demo-"));
  shipMigration(dir, "0001_create_greetings.sql");
  writeRelease(dir, "1.0.0", "");
  writeRelease(dir, "2.0.0", bad ? "export FAIL_HEALTH=1\n" : "");
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
    - http: { path: /, bodyContains: '"version":"2.0.0"' }
database:
  migrations: migrations
`,
  );
  return { dir, config, listen };
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

async function main(): Promise<number> {
  const { dir, config, listen } = await writeProject();
  console.log(pc.bold(`cutover demo${bad ? " (--bad: v2 fails its health check)" : ""}: project in ${dir}`));
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
    const passed = reportWrites(writes, record) && ok;
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
    console.log(
      `  switch             first 2.0.0 answer ${t.toFirstNewMs.toFixed(1)} ms after the switch; last 1.0.0 answer ${t.toLastOldMs.toFixed(1)} ms after`,
    );
  }
  console.log(
    `  logs               ${join(dir, ".cutover", "daemon.log")} and ${join(dir, ".cutover", "logs")}/`,
  );
  const expected = bad
    ? record?.phase === "Aborted" && deployExit !== 0 && s.byVersion["2.0.0"] === undefined
    : record?.phase === "Healthy" && deployExit === 0 && after === "2.0.0";
  const ok = s.failed === 0 && s.sent >= 2000 && expected;
  return ok ? 0 : 1;
}

process.exitCode = await main();
