import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { Colour } from "../colour.js";
import type { LoadedConfig } from "../config/load.js";
import { CutoverError } from "../errors.js";
import type { FoundRun } from "../platforms/local/local-platform.js";
import { isProcessAlive } from "../process/process-alive.js";
import { rotateIfFull } from "../process/rotating-log.js";
import { compiledWorker } from "../worker-path.js";
import { DataPlaneClient } from "./dataplane-client.js";
import {
  isDataPlaneProcess,
  readDataPlaneInfo,
  removeDataPlaneFiles,
  routerSettingsHash,
} from "./dataplane-files.js";
import type { StartMessage, StartReply } from "./dataplane-main.js";
import { DATAPLANE_LOG, type DataPlaneInfo, M, PROTOCOL, type RouterSnapshot } from "./protocol.js";
import { RemoteDataPlane } from "./remote-data-plane.js";
import { RemoteRunner } from "./remote-runner.js";

/** How long a new data plane process has to listen (HAProxy's start included). */
const START_TIMEOUT_MS = 30_000;
/** How long the data plane process has to answer hello, attach and the first snapshot. */
const ANSWER_TIMEOUT_MS = 10_000;

/** The data plane process this daemon drives, and what an earlier daemon left running in it. */
export interface AttachedDataPlane {
  readonly dataPlane: RemoteDataPlane;
  readonly runner: RemoteRunner;
  readonly info: DataPlaneInfo;
  /** Whether it was running already (this daemon took it over) rather than started now. */
  readonly adopted: boolean;
  /** The replicas' runs it holds, for the local platform to adopt. */
  readonly found: readonly FoundRun[];
}

/**
 * Attaches to the data plane process of this state folder when one runs (a restarted or upgraded daemon),
 * after checking it is what .cutover/dataplane.json says; else starts one. Refuses a live process the file
 * names that cannot be verified, rather than adopt what it cannot trust.
 */
export async function attachDataPlane(loaded: LoadedConfig, logger: Logger): Promise<AttachedDataPlane> {
  const { stateDir } = loaded;
  const existing = readDataPlaneInfo(stateDir);
  if (existing && isProcessAlive(existing.pid)) {
    const client = await verified(existing, stateDir);
    logger.info({ pid: existing.pid, since: existing.startedAt }, "attaching to the running data plane");
    if (
      existing.routerSettings !== undefined &&
      existing.routerSettings !== routerSettingsHash(loaded.config.router)
    )
      logger.warn(
        { pid: existing.pid, since: existing.startedAt },
        "cutover.yaml's router: settings changed since the data plane process started; it serves the ones it started with until `cutover down && cutover up`",
      );
    return attached(client, existing, true);
  }
  if (existing) removeDataPlaneFiles(stateDir, existing);
  const info = await startDataPlane(loaded);
  logger.info({ pid: info.pid }, "started the data plane process");
  try {
    return await attached(await DataPlaneClient.connect(info.socket), info, false);
  } catch (error) {
    // Started for this daemon, which cannot drive it: it must not serve on by itself.
    process.kill(info.pid, "SIGTERM");
    removeDataPlaneFiles(stateDir, info);
    throw error;
  }
}

async function attached(
  client: DataPlaneClient,
  info: DataPlaneInfo,
  adopted: boolean,
): Promise<AttachedDataPlane> {
  try {
    await client.request(M.attach, null, ANSWER_TIMEOUT_MS);
    const snapshot = await client.request<RouterSnapshot>(M.snapshot, null, ANSWER_TIMEOUT_MS);
    const runner = new RemoteRunner(client);
    const found = adopted ? foundRuns(await runner.found(), snapshot) : [];
    return { dataPlane: new RemoteDataPlane(client, info, snapshot), runner, info, adopted, found };
  } catch (error) {
    client.close();
    throw error;
  }
}

function foundRuns(runs: Awaited<ReturnType<RemoteRunner["found"]>>, snapshot: RouterSnapshot): FoundRun[] {
  return runs.flatMap(({ info, run }) => {
    const { colour, index, version, port, run: runNumber } = info.labels;
    if (colour !== "blue" && colour !== "green") return [];
    const id = `${colour}-${index}`;
    return [
      {
        colour: colour as Colour,
        index: Number(index),
        version: String(version),
        port: Number(port),
        runNumber: Number(runNumber),
        inRotation: info.exit === null && snapshot.endpoints[colour as Colour].includes(id),
        run,
      },
    ];
  });
}

/** Connects to the process `info` names and checks it is that process: its pid, its nonce, a protocol this speaks. */
async function verified(info: DataPlaneInfo, stateDir: string): Promise<DataPlaneClient> {
  const stranger = (why: string) =>
    new CutoverError(
      "DATAPLANE_STRANGER",
      `${join(stateDir, "dataplane.json")} names pid ${info.pid}, which runs but ${why}. If it is cutover's data plane of another version, stop it (\`kill ${info.pid}\` stops its replicas too) and run \`cutover up\` again; if it is not cutover's, remove ${join(stateDir, "dataplane.json")}.`,
    );
  if (!isDataPlaneProcess(info.pid)) throw stranger("is not cutover's data plane process");
  let client: DataPlaneClient;
  try {
    client = await DataPlaneClient.connect(info.socket);
  } catch (error) {
    throw stranger(`does not answer on ${info.socket} (${(error as Error).message})`);
  }
  const hello = await client.request<DataPlaneInfo>(M.hello, null, ANSWER_TIMEOUT_MS).catch(() => null);
  const why =
    hello === null
      ? "does not answer hello"
      : hello.pid !== info.pid || hello.nonce !== info.nonce
        ? `answers as another process (pid ${hello.pid})`
        : hello.protocol !== PROTOCOL
          ? `speaks protocol ${hello.protocol}, this cutover ${PROTOCOL}`
          : hello.stateDir !== stateDir
            ? `serves ${hello.stateDir}`
            : null;
  if (why !== null) {
    client.close();
    throw stranger(why);
  }
  return client;
}

/** Starts a data plane process, detached; resolves with what it wrote to dataplane.json once it serves. */
async function startDataPlane(loaded: LoadedConfig): Promise<DataPlaneInfo> {
  const { stateDir } = loaded;
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const logPath = join(stateDir, DATAPLANE_LOG);
  rotateIfFull(logPath, { maxBytes: loaded.config.logs.maxSize, keep: loaded.config.logs.keep });
  const log = openSync(logPath, "a");
  // The compiled script: under the TypeScript sources (tests), dist/'s copy.
  const main = compiledWorker(import.meta.url, "dataplane/dataplane-main.js");
  const child = spawn(process.execPath, [main], {
    detached: true,
    stdio: ["ignore", log, log, "ipc"],
    cwd: loaded.dir,
  });
  closeSync(log);
  try {
    const reply = await new Promise<StartReply>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`it did not answer within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      child.once("message", (message: StartReply) => {
        clearTimeout(timer);
        resolve(message);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`it exited (${signal ?? `code ${code}`}); see ${logPath}`));
      });
      child.send({ type: "start", loaded } satisfies StartMessage);
    });
    if (reply.type === "failed") throw new CutoverError(reply.code as "DATAPLANE_FAILED", reply.message);
  } catch (error) {
    child.kill("SIGKILL");
    if (error instanceof CutoverError) throw error;
    throw new CutoverError(
      "DATAPLANE_FAILED",
      `the data plane process did not start: ${(error as Error).message}`,
    );
  } finally {
    child.removeAllListeners();
    if (child.connected) child.disconnect();
    child.unref();
  }
  const info = readDataPlaneInfo(stateDir);
  if (info === null || info.pid !== child.pid)
    throw new CutoverError(
      "DATAPLANE_FAILED",
      `the data plane process did not write ${join(stateDir, "dataplane.json")}`,
    );
  return info;
}

/**
 * `cutover down` without a daemon: asks the data plane process of `stateDir` to stop its replicas and
 * itself, and waits until it has exited. Null when none runs.
 */
export async function stopDataPlane(stateDir: string, timeoutMs = 60_000): Promise<number | null> {
  const info = readDataPlaneInfo(stateDir);
  if (info === null) return null;
  if (!isProcessAlive(info.pid)) {
    removeDataPlaneFiles(stateDir, info);
    return null;
  }
  const client = await verified(info, stateDir);
  await client.shutdown();
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(info.pid) && Date.now() < deadline) await sleep(50);
  if (isProcessAlive(info.pid))
    throw new CutoverError("STOP_TIMEOUT", `the data plane process (pid ${info.pid}) is still running`);
  return info.pid;
}
