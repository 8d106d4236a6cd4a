// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is what these tests are about.
/**
 * Acceptance of ${VAR} in cutover.yaml: a real daemon reads a webhook URL and a replica's token from its
 * environment, uses them (the alert arrives at the secret path), and no file under .cutover/ (state,
 * history, journals, reports, logs) and no CLI output holds either value.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { DeployRecord } from "../../src/engine/lifecycle.js";
import { eventually } from "../helpers/eventually.js";
import { type CliResult, makeProject, type Project, runCli } from "../helpers/project.js";
import { startWebhookServer, type WebhookServer } from "../helpers/webhook-server.js";

const TOKEN = "T0SECRET-abc123";
const ENV_TOKEN = "T0SECRET-envtoken-42";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

/** The files and outputs that hold `needle`, as it is or URL-encoded (also inside binary files). */
function leaks(project: Project, outputs: readonly CliResult[], needle: string): string[] {
  const forms = [needle, encodeURIComponent(needle)];
  const found: string[] = [];
  for (const file of filesUnder(join(project.dir, ".cutover"))) {
    const bytes = readFileSync(file);
    if (forms.some((form) => bytes.includes(form))) found.push(file);
  }
  outputs.forEach((output, i) => {
    if (forms.some((form) => output.stdout.includes(form) || output.stderr.includes(form)))
      found.push(`CLI output #${i}`);
  });
  return found;
}

describe("secrets in cutover.yaml", () => {
  it("are used but never written: not in .cutover/ (state, history, journals, reports, logs) nor in CLI output", {
    timeout: 150_000,
  }, async () => {
    const webhook: WebhookServer = await startWebhookServer();
    cleanups.push(() => webhook.close());
    const project = await makeProject({
      readyTimeout: "8s", // also the time `up` gives 1.0.0 on a busy machine
      extra: `analysis:
  interval: 500ms
  count: 4
  preSwitch: false
  webhooks:
    - url: \${SLACK_URL}
      format: slack
    - url: "\${SLACK_URL}/json"
      retries: 0
`,
    });
    // A replica's secret too, in start.env (which the project helper writes no line for).
    writeFileSync(
      project.config,
      readFileSync(project.config, "utf8").replace(
        "  stopGrace: 3s\n",
        `  stopGrace: 3s\n  env:\n    API_TOKEN: \${API_TOKEN}\n`,
      ),
    );
    project.release("2.0.0", { FAIL_HEALTH: "1" });
    process.env.SLACK_URL = `${webhook.url}/hooks/${TOKEN}`;
    process.env.API_TOKEN = ENV_TOKEN;
    process.env.CUTOVER_LOG_LEVEL = "debug";
    cleanups.push(() => {
      delete process.env.SLACK_URL;
      delete process.env.API_TOKEN;
      delete process.env.CUTOVER_LOG_LEVEL;
    });

    const outputs: CliResult[] = [];
    const run = async (...args: string[]) => {
      const result = await runCli(project, ...args);
      outputs.push(result);
      return result;
    };
    const up = await run("up");
    expect(up.code).toBe(0);
    cleanups.push(() => runCli(project, "down"));

    // 2.0.0 never turns healthy: the deploy is aborted, and the failure alert goes to both webhooks.
    const deploy = await run("deploy", "2.0.0");
    expect(deploy.code).not.toBe(0);
    await eventually("the failure alert arrives at the secret path", () => webhook.calls.length >= 2, 20_000);
    expect(webhook.calls.map((c) => c.path).sort()).toEqual([`/hooks/${TOKEN}`, `/hooks/${TOKEN}/json`]);
    expect(webhook.calls.find((c) => c.path.endsWith("/json"))?.body).toMatchObject({ kind: "failure" });

    // The deploy's report is written after its tail of samples; wait for it, so it is checked too.
    const reports = join(project.dir, ".cutover", "reports");
    await eventually(
      "the deploy report is written",
      () => {
        try {
          return readdirSync(reports).some((name) => name.endsWith(".html"));
        } catch {
          return false;
        }
      },
      90_000,
    );
    const history = await run("--json", "history");
    expect((JSON.parse(history.stdout) as DeployRecord[]).map((r) => r.phase)).toEqual(["Aborted"]);
    await run("--json", "status");
    await run("status");
    await run("history");
    await run("report");
    expect((await run("down")).code).toBe(0);

    const written = filesUnder(join(project.dir, ".cutover"));
    expect(written.some((f) => f.endsWith("daemon.log") && statSync(f).size > 0)).toBe(true);
    expect(written.some((f) => f.includes("journal") || f.endsWith(".ndjson"))).toBe(true);
    expect(leaks(project, outputs, TOKEN)).toEqual([]);
    expect(leaks(project, outputs, ENV_TOKEN)).toEqual([]);
  });

  it("a value refused by validation is shown as its ${VAR} in the CLI's error, with --json too", async () => {
    const project = await makeProject();
    writeFileSync(
      project.config,
      readFileSync(project.config, "utf8").replace("replicas: 1", `replicas: \${REPLICAS}`),
    );
    process.env.REPLICAS = "T0SECRET-not-a-number";
    cleanups.push(() => {
      delete process.env.REPLICAS;
    });
    for (const args of [["status"], ["--json", "status"]]) {
      const result = await runCli(project, ...args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/replicas: .*\$\{REPLICAS\}/);
      expect(result.stdout + result.stderr).not.toContain("T0SECRET");
    }
    delete process.env.REPLICAS;
    const missing = await runCli(project, "status");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/replicas: \$\{REPLICAS\} is not set in the environment/);
  });

  it("render kubernetes never prints a value read from the environment: the Deployments take it from the colour's Secret", async () => {
    const project = await makeProject();
    writeFileSync(
      project.config,
      `service: shop
version: 1.0.0
platform: kubernetes
start:
  env:
    API_KEY: \${API_KEY}
kubernetes:
  image: registry.example.com/shop:{version}
`,
    );
    process.env.API_KEY = "T0SECRET-for-the-pods";
    cleanups.push(() => {
      delete process.env.API_KEY;
    });
    for (const args of [
      ["render", "kubernetes"],
      ["--json", "render", "kubernetes"],
    ]) {
      const result = await runCli(project, ...args);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).not.toContain("T0SECRET-for-the-pods");
      // The pods get it from the Secret cutover writes for each colour when it deploys (secret-env.ts).
      expect(result.stdout).toMatch(/API_KEY[\s\S]*secretKeyRef[\s\S]*shop-blue-cutover-env/);
    }
  });
});
