/** Deploy journals kept in ConfigMaps, so `cutover report` works from any runner (against the stand-in). */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseConfig } from "../../src/config/load.js";
import { JOURNAL_MAX_BYTES, JournalConfigMaps } from "../../src/platforms/kubernetes/journal-config-maps.js";
import {
  createKubeClients,
  type KubeClients,
  loadKubeConfig,
} from "../../src/platforms/kubernetes/kube-clients.js";
import { attachAlertsAndReports } from "../../src/report/attach-alerts-and-reports.js";
import { journalPath, readJournal } from "../../src/report/deploy-journal.js";
import type { DeployRecordView, JournalLine } from "../../src/report/deploy-journal-format.js";
import type { JournalShelf } from "../../src/report/journal-shelf.js";
import { writeReport } from "../../src/report/write-report.js";
import { DeployEvents } from "../helpers/deploy-events.js";
import { runCli } from "../helpers/project.js";
import type { JsonObject } from "./stand-in/json.js";
import { StandIn } from "./stand-in/stand-in.js";

const T0 = Date.parse("2025-03-01T10:00:00.000Z");

/** A finished deploy's journal: meta, `ticks` sample ticks of 500 ms (noisy when asked), a verdict, the record. */
function journalLines(id: string, ticks: number, noisy = false): JournalLine[] {
  const noise = () => (noisy ? Math.random() : 0);
  const sample = (at: number, live: boolean) => ({
    at,
    intervalMs: 500,
    requests: live ? 50 : 5,
    errors: 0,
    requestRate: (live ? 100 : 10) + noise(),
    errorRate: 0.001 * noise(),
    p50: 0.03 + 0.01 * noise(),
    p95: 0.04 + 0.01 * noise(),
    p99: 0.05 + 0.01 * noise(),
    saturation: null,
  });
  const lines: JournalLine[] = [
    { type: "meta", deployId: id, service: "shop", version: "2.0.0", source: "prometheus", intervalMs: 500 },
  ];
  for (let i = 0; i < ticks; i++) {
    const at = T0 + 500 * (i + 1);
    const greenLive = i >= ticks / 2;
    lines.push({ type: "tick", at, samples: { blue: sample(at, !greenLive), green: sample(at, greenLive) } });
  }
  const switchedAt = T0 + 250 * ticks;
  lines.push({
    type: "analysis",
    phase: "post-switch",
    canary: "green",
    baseline: "blue",
    verdict: "Pass",
    summary: "every metric within bounds",
    score: 100,
    metrics: [],
    baselineFrom: "live",
    startedAt: switchedAt,
    endedAt: switchedAt + 2_000,
    measurements: [{ index: 1, at: switchedAt + 500, status: "Pass", detail: "errorRate 0.1%" }],
  });
  lines.push({ type: "record", record: finishedRecord(id, "deploy", ticks) });
  return lines;
}

/** A deploy that went live halfway through its `ticks` ticks and ended Healthy. */
function finishedRecord(id: string, kind: "deploy" | "rollback", ticks = 12): DeployRecordView {
  return {
    id,
    kind,
    version: "2.0.0",
    from: { colour: "blue", version: "1.0.0" },
    to: { colour: "green", version: "2.0.0" },
    phase: "Healthy",
    startedAt: new Date(T0).toISOString(),
    switchedAt: new Date(T0 + 250 * ticks).toISOString(),
    endedAt: new Date(T0 + 500 * ticks).toISOString(),
  };
}

function writeJournal(dir: string, id: string, ticks = 12, noisy = false): string {
  const path = join(dir, `${id}.jsonl`);
  writeFileSync(
    path,
    journalLines(id, ticks, noisy)
      .map((line) => `${JSON.stringify(line)}\n`)
      .join(""),
  );
  return path;
}

/** A cutover.yaml for the stand-in with nothing but what `platform: kubernetes` needs. */
function kubernetesYaml(standIn: StandIn): string {
  return stringify({
    service: "shop",
    version: "1.0.0",
    platform: "kubernetes",
    kubernetes: {
      namespace: standIn.namespace,
      kubeconfig: standIn.kubeconfig(),
      image: "registry.example.com/shop:{version}",
    },
  });
}

describe("deploy journals in ConfigMaps", () => {
  let standIn: StandIn;
  let clients: KubeClients;
  const scratch = mkdtempSync(join(tmpdir(), "cutover-journals-"));
  const shelf = (options: { keep?: number; maxBytes?: number } = {}): JournalShelf =>
    new JournalConfigMaps({ clients, service: "shop", ...options });
  const journalNames = () =>
    standIn.server.store
      .list("configmaps", standIn.namespace)
      .map((map) => String((map.metadata as JsonObject).name))
      .filter((name) => name.startsWith("shop-cutover-journal-"))
      .sort();

  beforeAll(async () => {
    standIn = await StandIn.start();
    clients = createKubeClients(loadKubeConfig({ kubeconfig: standIn.kubeconfig() }), standIn.namespace);
  });
  afterAll(async () => {
    await standIn.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("keeps a journal in a ConfigMap and gives it back byte for byte", async () => {
    const journal = writeJournal(scratch, "d1");
    await shelf().put("d1", journal);
    const map = standIn.get("configmaps", "shop-cutover-journal-d1") as JsonObject;
    expect((map.metadata as JsonObject).labels).toEqual({
      app: "shop",
      "cutover.dev/role": "journal",
      "cutover.dev/deploy": "d1",
      "app.kubernetes.io/managed-by": "cutover",
    });
    expect(Object.keys(map.binaryData as JsonObject)).toEqual(["journal.jsonl.gz"]);
    const fetched = join(scratch, "elsewhere", "analysis", "d1.jsonl");
    expect(await shelf().get("d1", fetched)).toBe(true);
    expect(readFileSync(fetched)).toEqual(readFileSync(journal));
  });

  it("replaces a journal put again, and answers false for a deploy it does not have", async () => {
    await shelf().put("d1", writeJournal(scratch, "d1", 20));
    const fetched = join(scratch, "again.jsonl");
    expect(await shelf().get("d1", fetched)).toBe(true);
    expect(readJournal(fetched).ticks).toHaveLength(20);
    expect(await shelf().get("d404", join(scratch, "d404.jsonl"))).toBe(false);
    expect(await shelf().get("../etc", join(scratch, "bad.jsonl"))).toBe(false);
    expect(existsSync(join(scratch, "d404.jsonl"))).toBe(false);
  });

  it("keeps only the newest `keep` journals, and names the newest", async () => {
    const kept = shelf({ keep: 3 });
    for (const id of ["d2", "r3", "d4", "d5", "d6"]) await kept.put(id, writeJournal(scratch, id));
    expect(journalNames()).toEqual([
      "shop-cutover-journal-d4",
      "shop-cutover-journal-d5",
      "shop-cutover-journal-d6",
    ]);
    expect(await kept.latest()).toBe("d6");
    const other = new JournalConfigMaps({ clients, service: "cart" });
    expect(await other.latest()).toBeNull(); // another service's journals are its own
  });

  it("thins the sample ticks of a journal too large for a ConfigMap, and its report still renders", async () => {
    expect(JOURNAL_MAX_BYTES).toBe(900 * 1024); // under the 1 MiB of a ConfigMap
    const journal = writeJournal(scratch, "d7", 600, true);
    const maxBytes = 8 * 1024; // the same rule at a size a test can afford
    await shelf({ maxBytes }).put("d7", journal);
    const map = standIn.get("configmaps", "shop-cutover-journal-d7") as JsonObject;
    expect(
      Buffer.from(String((map.binaryData as JsonObject)["journal.jsonl.gz"]), "base64").length,
    ).toBeLessThanOrEqual(maxBytes);
    expect(
      String(((map.metadata as JsonObject).annotations as JsonObject)["cutover.dev/journal-thinned"]),
    ).toMatch(/^kept \d+ of 600 sample ticks$/);
    const fetched = join(scratch, "thinned", "d7.jsonl");
    expect(await shelf().get("d7", fetched)).toBe(true);
    const contents = readJournal(fetched);
    expect(contents.ticks.length).toBeGreaterThan(0);
    expect(contents.ticks.length).toBeLessThan(600);
    expect(contents.ticks.at(-1)?.at).toBe(T0 + 500 * 600); // the last tick, where traffic settled, stays
    expect(contents.meta?.deployId).toBe("d7");
    expect(contents.analyses).toHaveLength(1);
    expect(contents.record?.phase).toBe("Healthy");
    const written = await writeReport(fetched, join(scratch, "thinned-report"));
    expect(readFileSync(written.html, "utf8")).toContain("post-switch analysis");
    expect(readFileSync(written.png).subarray(1, 4).toString()).toBe("PNG");
  });

  it("`cutover report` on another runner fetches the journal from the cluster", async () => {
    await shelf().put("d8", writeJournal(scratch, "d8"));
    const runner = mkdtempSync(join(tmpdir(), "cutover-runner-")); // nothing on disk: a fresh CI runner
    const config = join(runner, "cutover.yaml");
    writeFileSync(config, kubernetesYaml(standIn));
    const out = join(runner, "out");
    const named = await runCli({ config }, "--json", "report", "d8", "--out", out);
    expect(named.stderr).toBe("");
    expect(named.code).toBe(0);
    expect(JSON.parse(named.stdout)).toEqual({
      deploy: "d8",
      html: join(out, "d8.html"),
      png: join(out, "d8.png"),
    });
    expect(existsSync(join(out, "d8.html"))).toBe(true);
    expect(existsSync(join(out, "d8.png"))).toBe(true);

    mkdirSync(join(runner, "second"));
    const latest = await runCli({ config }, "--json", "report", "--out", join(runner, "second"));
    expect(latest.code).toBe(0);
    expect(JSON.parse(latest.stdout).deploy).toBe("d8"); // the cluster's newest

    const missing = await runCli({ config }, "report", "d404");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no deploy journal at");
    expect(missing.stderr).toContain("ConfigMap shop-cutover-journal-d404 in namespace shop");
  });

  it("a deploy's journal goes on the shelf once it is over, a rollback's too; a failing shelf fails nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cutover-publish-"));
    const loaded = parseConfig(kubernetesYaml(standIn), join(dir, "cutover.yaml"));
    const logged: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void logged.push(line) });
    const failing: JournalShelf = {
      put: () => Promise.reject(new Error("the cluster is gone")),
      get: () => Promise.resolve(false),
      latest: () => Promise.resolve(null),
      where: () => "nowhere",
    };
    /** One deploy from start to Healthy, as the engine emits it, with its journal put on `journals`. */
    const run = async (journals: JournalShelf, record: DeployRecordView) => {
      const events = new DeployEvents({ ...record, phase: "Running" });
      const reports = attachAlertsAndReports(events, { loaded, analysis: null, journals, logger, tailMs: 0 });
      events.update({ phase: record.phase });
      await reports.idle();
      reports.detach();
    };
    await run(shelf(), finishedRecord("d11", "deploy"));
    await run(shelf(), finishedRecord("r12", "rollback"));
    await run(failing, finishedRecord("d13", "deploy"));
    expect(journalNames()).toEqual(
      expect.arrayContaining(["shop-cutover-journal-d11", "shop-cutover-journal-r12"]),
    );
    const fetched = join(dir, "fetched", "r12.jsonl");
    expect(await shelf().get("r12", fetched)).toBe(true);
    expect(readFileSync(fetched)).toEqual(readFileSync(journalPath(loaded.stateDir, "r12")));
    expect(readJournal(fetched).record?.kind).toBe("rollback");
    expect(logged.join("")).toContain("cannot keep the deploy journal");
    expect(existsSync(journalPath(loaded.stateDir, "d13"))).toBe(true); // on disk all the same
  });
});
