/**
 * router.workers through the whole product: `cutover up` starts the data plane process, which runs the router
 * in two worker processes sharing the listener; a deploy under load switches both, the metrics the analysis
 * reads add both up, and `cutover down` leaves none of them behind.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readDataPlaneInfo } from "../../src/dataplane/dataplane-files.js";
import { eventually, isAlive } from "../helpers/eventually.js";
import { runCli } from "../helpers/project.js";
import { steadyLoad } from "../helpers/steady-load.js";
import {
  answered,
  childrenOf,
  downAll,
  expectNoFailures,
  project,
  stateDir,
  status,
  up,
} from "./dataplane-helpers.js";

afterEach(downAll);

describe("cutover up with router.workers: 2", () => {
  it("serves from two router processes, deploys under load with 0 failed, and stops them all", {
    timeout: 180_000,
  }, async () => {
    const p = await project({ router: "  workers: 2" });
    await up(p);
    const plane = readDataPlaneInfo(stateDir(p));
    const dataPlanePid = plane?.pid as number;
    const log = () => readFileSync(join(stateDir(p), "dataplane.log"), "utf8");
    const listening = log()
      .split("\n")
      .find((line) => line.includes("router listening in 2 processes"));
    expect(listening).toBeDefined();
    const workers = (JSON.parse(listening as string) as { pids: number[] }).pids;
    expect(workers).toHaveLength(2);
    // The workers are the data plane process's children (the replicas' guards are its children too).
    expect(childrenOf(dataPlanePid)).toEqual(expect.arrayContaining(workers));

    // New connections, so that both workers take a share of them.
    const load = steadyLoad(`http://127.0.0.1:${p.listen}`, { ratePerSecond: 150, freshConnections: true });
    await answered(load, 100, "before the deploy");
    p.release("2.0.0");
    const deploy = await runCli(p, "deploy", "2.0.0");
    expect(deploy.code, deploy.stderr).toBe(0);
    await answered(load, 100, "after the deploy");
    const result = await load.stop();
    expectNoFailures(result);
    expect((await status(p)).active).toBe("green");
    // Both workers switched: "switched blue -> green" once from each, then once for all of them.
    const switched = log()
      .split("\n")
      .filter((line) => line.includes('"event":"switch"'));
    expect(switched.filter((line) => line.includes('"worker":')).length).toBe(2);
    expect(switched.some((line) => line.includes("in every worker"))).toBe(true);
    // The router's metrics, as the daemon serves them, are both workers' added up.
    const token = readFileSync(join(stateDir(p), "token"), "utf8").trim();
    const scrape = await fetch(`http://127.0.0.1:${p.admin}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const metrics = await scrape.text();
    const count = (colour: string) =>
      Number(
        metrics
          .split("\n")
          .find((line) => line.startsWith(`cutover_requests_total{colour="${colour}",status="200"}`))
          ?.split(" ")
          .at(-1) ?? 0,
      );
    expect(count("blue") + count("green"), metrics).toBeGreaterThanOrEqual(result.statuses.get(200) ?? 0);
    expect(metrics).toContain("cutover_switches_total 1");

    const down = await runCli(p, "down");
    expect(down.code, down.stderr).toBe(0);
    for (const pid of [dataPlanePid, ...workers])
      await eventually(`process ${pid} is gone after \`cutover down\``, () => !isAlive(pid), 20_000);
  });
});
