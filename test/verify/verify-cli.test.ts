import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, type TestContext } from "vitest";
import { CLI, type Project, runCli } from "../helpers/project.js";
import { downAll, makeDrillProject, reportOf, up } from "./verify-project.js";

/** A drill project, up, and stopped when the test ends: each test has its own, so they run side by side. */
async function upProject({ onTestFinished }: TestContext): Promise<Project> {
  const project = await makeDrillProject({ scaleDownDelay: "10s" });
  const started: Project[] = [];
  onTestFinished(() => downAll(started));
  await up(project, started);
  return project;
}

// Side by side: the longest (100 switches: ~6 s alone, ~20 s beside the others on a quiet 2-core machine, ~34 s
// at load 12) sets the file's time. 120 s leaves it room on a busier machine.
describe.concurrent("cutover verify", { timeout: 120_000 }, () => {
  it("--switches 100 against the demo passes with 0 failed requests and reports switch durations", async (context) => {
    const project = await upProject(context);
    const junit = join(project.dir, "verify.xml");
    const result = await runCli(project, "--json", "verify", "--switches", "100", "--junit", junit);
    const report = reportOf(result);
    expect(result.code, result.stdout).toBe(0);
    expect(report.passed).toBe(true);
    expect(report.requests.failed).toBe(0);
    expect(report.requests.sent).toBeGreaterThan(100);
    expect(report.switches.performed).toBe(100);
    expect(report.criteria.map((c) => [c.name, c.passed])).toEqual([
      ["failed requests", true],
      ["max latency", true],
      ["mean latency", true],
      ["answers from the expected colour after each switch", true],
      ["every step of the sequence succeeded", true],
    ]);
    // Each switch moved traffic: both colours answered, and every answer after a switch came from its colour.
    expect(Object.keys(report.requests.byColour).sort()).toEqual(["blue", "green"]);
    for (const t of report.switches.list) expect(t.fromExpectedAfter).toBe(t.answeredAfter);
    const { toFirstNew, toLastOld, command } = report.switches.durations;
    for (const stats of [toFirstNew, toLastOld, command]) {
      expect(stats.medianMs).not.toBeNull();
      expect(stats.maxMs).toBeGreaterThanOrEqual(stats.medianMs as number);
    }
    const xml = readFileSync(junit, "utf8");
    expect(xml).toMatch(/^<\?xml version="1.0"/);
    expect(xml).toMatch(/<testsuites name="cutover verify" tests="5" failures="0"/);
    expect(xml).toMatch(/<testcase classname="cutover.verify.criteria" name="failed requests"/);
    console.log(
      `verify --switches 100: ${report.requests.sent} requests, ${report.requests.failed} failed; switch command ` +
        `median ${command.medianMs?.toFixed(1)} ms (max ${command.maxMs?.toFixed(1)}); first new-colour answer ` +
        `median ${toFirstNew.medianMs?.toFixed(1)} ms (max ${toFirstNew.maxMs?.toFixed(1)}); last old-colour answer ` +
        `median ${toLastOld.medianMs?.toFixed(1)} ms (max ${toLastOld.maxMs?.toFixed(1)})`,
    );
  });

  it("prints a human summary of a sequence with a deploy, fixed-rate load on fresh connections", async (context) => {
    const project = await upProject(context);
    const result = await runCli(
      project,
      "verify",
      "--sequence",
      "switch,wait:200ms,deploy:2.0.0,rollback",
      "--rate",
      "100",
      "--connection-mode",
      "fresh",
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^cutover verify: PASSED/);
    expect(result.stdout).toMatch(/100 requests\/s, fresh connections/);
    expect(result.stdout).toMatch(/switches {4}3 of 3/);
    expect(result.stdout).toMatch(/command to first new-colour answer median [\d.]+ ms, max [\d.]+ ms/);
    expect(result.stdout).toMatch(/PASS failed requests: 0 of \d+/);
    expect(result.stderr).toMatch(/deploy 2\.0\.0: d2 deploy 2\.0\.0 Healthy/);
  });

  it("exits 1 when a pass criterion fails, and says which", async (context) => {
    const project = await upProject(context);
    const junit = join(project.dir, "verify.xml");
    const result = await runCli(
      project,
      "verify",
      "--switches",
      "2",
      "--max-mean-latency",
      "0ms",
      // Only the mean fails: on a busy machine the default max (2 s) can fail too, and this test counts one.
      "--max-latency",
      "60s",
      "--junit",
      junit,
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^cutover verify: FAILED/);
    expect(result.stdout).toMatch(/FAIL mean latency: [\d.]+ ms \(expected < 0\.0 ms\)/);
    expect(result.stdout).toMatch(/PASS failed requests/);
    expect(readFileSync(junit, "utf8")).toMatch(
      /failures="1"[\s\S]*<failure message="expected &lt; 0.0 ms, got/,
    );
  });

  it("drives any URL with a switch command, telling the sides apart by the answers", async (context) => {
    const project = await upProject(context);
    expect((await runCli(project, "deploy", "2.0.0")).code).toBe(0);
    const rollback = `"${process.execPath}" "${CLI}" --config "${project.config}" rollback`;
    const result = await runCli(
      project,
      "--json",
      "verify",
      "--url",
      `http://localhost:${project.listen}`,
      "--switch-command",
      rollback,
      "--switches",
      "3",
    );
    const report = reportOf(result);
    expect(result.code, result.stdout).toBe(0);
    expect(report.switchedBy).toMatch(/^command: /);
    expect(report.switches.list.map((t) => `${t.from}->${t.to} ${t.detail}`)).toEqual([
      "green->blue exit 0",
      "blue->green exit 0",
      "green->blue exit 0",
    ]);
    expect(report.requests.failed).toBe(0);
  });

  it("exits 2 on bad input, before sending anything", async () => {
    const project = await makeDrillProject();
    const cases: Array<[string[], RegExp]> = [
      [["--sequence", "switch,jump"], /--sequence: "jump" is not a step/],
      [["--sequence", "switches:0"], /needs a whole number >= 1/],
      [["--faults", "meteor"], /unknown fault "meteor"/],
      [["--faults", "unhealthy-new"], /needs --unhealthy-version/],
      [["--url", "http://127.0.0.1:9"], /--url needs --switch-command/],
      [
        ["--url", "http://10.1.2.3:80", "--switch-command", "true"],
        /only to loopback or to the address in cutover.yaml/,
      ],
      [["--url", "http://127.0.0.1:9", "--switch-command", "true", "--faults", "websocket"], /drop --url/],
      [["--connections", "0"], /--connections expects a whole number from 1/],
      [["--max-latency", "soon"], /--max-latency expects a duration/],
      [["--connection-mode", "pigeon"], /Allowed choices are keep-alive, fresh, both/],
    ];
    // Each case is a CLI process of its own that stops before sending anything: all at once.
    const results = await Promise.all(cases.map(([args]) => runCli(project, "verify", ...args)));
    for (const [i, [args, message]] of cases.entries()) {
      expect(results[i]?.code, args.join(" ")).toBe(2);
      expect(results[i]?.stderr, args.join(" ")).toMatch(message);
    }
  });
});
