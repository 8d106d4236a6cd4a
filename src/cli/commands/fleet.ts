import { constants } from "node:os";
import { destination, type Logger, pino } from "pino";
import { redactSecrets } from "../../config/interpolate.js";
import type { LoadedConfig } from "../../config/load.js";
import type { ControlPlane } from "../../control/control-plane.js";
import type { DeployRecord } from "../../engine/lifecycle.js";
import { CutoverError } from "../../errors.js";
import { Fleet } from "../../fleet/fleet-runner.js";
import { liveVersion } from "../../fleet/live-version.js";
import type { FleetRecord } from "../../fleet/model/fleet-record.js";
import { readFleetView } from "../../fleet/read-fleet-view.js";
import { regionNamed } from "../../fleet/regions-for-config.js";
import type { Output } from "../output.js";
import { summary } from "../render.js";
import { fleetChanges, renderFleetRecord, renderFleetStatus } from "../render-fleet.js";

/*
 * The CLI's commands on a fleet (cutover.yaml with regions:): deploy in waves, and status, abort, rollback,
 * promote and history across every region. With --region NAME the usual single-region commands go to that
 * region's cutover instead (main.ts routes them).
 */

function fleetLogger(): Logger {
  return pino(
    { level: process.env.CUTOVER_LOG_LEVEL ?? "warn", hooks: { streamWrite: redactSecrets } },
    destination(2),
  );
}

async function withFleet<T>(loaded: LoadedConfig, action: (fleet: Fleet) => Promise<T>): Promise<T> {
  const fleet = await Fleet.open(loaded, fleetLogger());
  try {
    return await action(fleet);
  } finally {
    await fleet.close();
  }
}

/**
 * `cutover deploy <version>` on a fleet. A first SIGINT or SIGTERM (Ctrl-C, a cancelled CI job, `cutover
 * abort`) halts it: every region it switched goes back; the same signal again ends the process at once, and
 * `cutover abort` finishes the job later. Exit 0 when every region is on the new version, 1 when halted.
 */
export async function fleetDeployCommand(
  loaded: LoadedConfig,
  version: string,
  out: Output,
): Promise<number> {
  const controller = new AbortController();
  const seen = new Set<string>();
  const onSignal = (signal: "SIGINT" | "SIGTERM") => {
    if (seen.has(signal)) process.exit(128 + constants.signals[signal]);
    seen.add(signal);
    process.stderr.write(
      `cutover: got ${signal}; halting the fleet deploy and sending the regions it switched back; ${signal} again to quit at once (then \`cutover abort\` finishes it)\n`,
    );
    controller.abort(
      new CutoverError(
        "INTERRUPTED",
        `the runner got ${signal} (\`cutover abort\`, Ctrl-C, or its job was cancelled)`,
      ),
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let previous: FleetRecord | null = null;
  const onChange = (record: FleetRecord) => {
    if (!out.json) for (const line of fleetChanges(previous, record)) process.stderr.write(`${line}\n`);
    previous = structuredClone(record);
  };
  try {
    const record = await withFleet(loaded, (fleet) => fleet.deploy(version, controller.signal, onChange));
    out.result(record, () => renderFleetRecord(record).join("\n"));
    return record.phase === "Healthy" ? 0 : 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** `cutover status` on a fleet: every region's colours and versions, and the fleet deploy in progress or last. */
export async function fleetStatusCommand(loaded: LoadedConfig, out: Output): Promise<number> {
  return withFleet(loaded, async (fleet) => {
    const view = await readFleetView(fleetViewSource(loaded, fleet), REGION_ANSWER_MS);
    if (view.fleetDeployError) throw new CutoverError("STATE_CORRUPT", view.fleetDeployError);
    const record = view.fleetDeploy;
    out.result(
      {
        ...view,
        regions: view.regions.map((v) =>
          "error" in v ? v : { ...v, ...v.status, liveVersion: liveVersion(v.status) },
        ),
      },
      () => renderFleetStatus(view.regions, record, view.runnerGone),
    );
    return view.regions.some((v) => "error" in v) ? 1 : 0;
  });
}

/** How long `cutover status` waits for a region before it shows it as not answering. */
const REGION_ANSWER_MS = 10_000;

const fleetViewSource = (loaded: LoadedConfig, fleet: Fleet) => ({
  service: loaded.config.service,
  regions: fleet.regions,
  store: fleet.store,
});

/** `cutover abort` on a fleet: halts the fleet deploy in progress (its runner, or here if it is gone). */
export async function fleetAbortCommand(loaded: LoadedConfig, out: Output): Promise<number> {
  const record = await withFleet(loaded, (fleet) => fleet.abort());
  out.result(record, () => renderFleetRecord(record).join("\n"));
  return 0;
}

/**
 * `cutover rollback` on a fleet: every region that serves the last fleet deploy's version goes back to the
 * version it had before it (its other colour). Regions on another version are left alone.
 */
export async function fleetRollbackCommand(loaded: LoadedConfig, out: Output): Promise<number> {
  return withFleet(loaded, async (fleet) => {
    const record = fleet.store.current();
    if (!record)
      throw new CutoverError(
        "NOTHING_TO_ROLL_BACK",
        "no fleet deploy is recorded here; roll one region back with `cutover rollback --region NAME`",
      );
    if (record.phase === "Progressing")
      throw new CutoverError(
        "DEPLOY_IN_PROGRESS",
        `fleet deploy ${record.id} is in progress; run \`cutover abort\` instead`,
      );
    const results = await Promise.all(
      fleet.regions.map(async (region) => {
        const before = record.regions[region.name]?.fromVersion ?? null;
        const status = await region.control.status();
        const live = liveVersion(status);
        if (live !== record.version || before === record.version)
          return { region: region.name, outcome: `left on ${live}` };
        let last: DeployRecord | null = null;
        for await (const step of region.control.follow("rollback")) last = step;
        return { region: region.name, outcome: last ? summary(last) : "no answer", phase: last?.phase };
      }),
    );
    out.result(results, () => results.map((r) => `${r.region}: ${r.outcome}`).join("\n"));
    return results.some((r) => r.phase === "Aborted") ? 1 : 0;
  });
}

/** `cutover promote` on a fleet: every region whose deploy waits for a person goes on. */
export async function fleetPromoteCommand(loaded: LoadedConfig, out: Output): Promise<number> {
  return withFleet(loaded, async (fleet) => {
    const paused: string[] = [];
    const view = await readFleetView(fleetViewSource(loaded, fleet), REGION_ANSWER_MS);
    for (const region of view.regions)
      if ("status" in region && region.status.deploy?.phase === "Paused") paused.push(region.region);
    if (paused.length === 0)
      throw new CutoverError("NOT_PAUSED", "no region has a paused deploy (see `cutover status`)");
    const records = await Promise.all(paused.map((name) => fleet.region(name).control.promote()));
    out.result(records, () => records.map((r, i) => `${paused[i]}: ${summary(r)}`).join("\n"));
    return 0;
  });
}

/** `cutover history` on a fleet: the fleet deploys this runner recorded, oldest first. */
export async function fleetHistoryCommand(loaded: LoadedConfig, out: Output, limit?: number): Promise<void> {
  await withFleet(loaded, async (fleet) => {
    const history = fleet.store.history();
    const shown = limit === undefined ? history : history.slice(-limit);
    out.result(shown, () =>
      shown.length === 0
        ? "no fleet deploy has ended yet"
        : shown.map((r) => renderFleetRecord(r).join("\n")).join("\n\n"),
    );
  });
}

/** The control plane of one region of the fleet (`--region NAME`). */
export async function regionControl(loaded: LoadedConfig, name: string): Promise<ControlPlane> {
  return (await regionNamed(loaded, name, fleetLogger())).control;
}
