/** The real `cutover` CLI run against the stand-in, as a CI job runs it, and what it leaves on the Service. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI } from "../helpers/project.js";
import type { ClusterFixture } from "./cluster-fixture.js";
import type { JsonObject } from "./stand-in/json.js";

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

const running = new Set<ChildProcess>();

/** Kills (by pid) every CLI run a test started that is still going: for afterEach. */
export function stopCliRuns(): void {
  for (const child of running)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  running.clear();
}

/** `cutover deploy <version>` in its own process, as a CI job runs it. */
export function cliDeploy(
  c: ClusterFixture,
  version: string,
): { child: ChildProcess; exited: Promise<Exit> } {
  const dir = mkdtempSync(join(tmpdir(), "cutover-k8s-cli-"));
  writeFileSync(join(dir, "cutover.yaml"), c.yaml);
  const child = spawn(process.execPath, [CLI, "--config", join(dir, "cutover.yaml"), "deploy", version], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  running.add(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<Exit>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, exited };
}

export const annotationsOf = (c: ClusterFixture) =>
  ((c.standIn.get("services", "shop")?.metadata as JsonObject | undefined)?.annotations ?? {}) as JsonObject;
export const currentOf = (c: ClusterFixture) => {
  const text = annotationsOf(c)["cutover.dev/state"];
  return text ? (JSON.parse(String(text)).current as JsonObject | null) : null;
};
export const lockOf = (c: ClusterFixture) => {
  const text = annotationsOf(c)["cutover.dev/lock"];
  return text ? (JSON.parse(String(text)) as { token: string; holder: string; renewedAt: string }) : null;
};
export const runningStepOf = (c: ClusterFixture) =>
  ((currentOf(c)?.steps as JsonObject[] | undefined) ?? []).find((s) => s.state === "running")?.name;
