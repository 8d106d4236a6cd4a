/**
 * The data planes the router guarantees are checked against, side by side: the built-in router and
 * HAProxy driven through its runtime API. Each is started on free loopback ports, blue active.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Colour } from "../../src/colour.js";
import type { Address } from "../../src/config/schema.js";
import type { Endpoint } from "../../src/engine/ports/platform.js";
import type { TrafficRouter } from "../../src/engine/ports/traffic-router.js";
import { whichExecutable } from "../../src/router/haproxy/haproxy-binary.js";
import { HaproxyRouter, type HaproxyRouterOptions } from "../../src/router/haproxy/haproxy-router.js";
import { Router } from "../../src/router/router.js";
import { freePort } from "../helpers/project.js";

export const DATA_PLANE_NAMES = ["builtin", "haproxy"] as const;
export type DataPlaneName = (typeof DATA_PLANE_NAMES)[number];

/** A started data plane, with the calls the tests make on either. */
export interface DataPlane {
  readonly name: DataPlaneName;
  readonly router: TrafficRouter & { metrics(): Promise<string> };
  /** Puts `endpoints` in rotation and resolves once the data plane has them. */
  setEndpoints(colour: Colour, endpoints: readonly Endpoint[]): Promise<void>;
  readonly mainUrl: string;
  readonly previewUrl: string;
  close(): Promise<void>;
}

const url = (address: Address | null): string => {
  if (address === null) throw new Error("no preview listener");
  return `http://${address.host}:${address.port}`;
};

/** Whether HAProxy can be used here; under CI=true its absence is a failure, not a skip. */
export const haproxyInstalled = whichExecutable("haproxy") !== null;
export const mustHaveHaproxy = process.env.CI === "true";

/** The data planes this machine can run: HAProxy only when it is installed. */
export function availableDataPlanes(): DataPlaneName[] {
  return haproxyInstalled ? [...DATA_PLANE_NAMES] : ["builtin"];
}

export async function startDataPlane(name: DataPlaneName): Promise<DataPlane> {
  return name === "builtin" ? startBuiltin() : startHaproxy();
}

async function startBuiltin(): Promise<DataPlane> {
  const router = new Router({
    // Ports below the kernel's ephemeral range (helpers/project.ts): never one a replica of another test held
    // a moment ago, whose health checks or clients would then be answered, and counted, here.
    listen: { host: "127.0.0.1", port: await freePort() },
    preview: { host: "127.0.0.1", port: await freePort() },
    sticky: false,
    initialActive: "blue",
  });
  await router.start();
  return {
    name: "builtin",
    router,
    async setEndpoints(colour, endpoints) {
      router.setEndpoints(colour, endpoints);
    },
    mainUrl: url(router.address()),
    previewUrl: url(router.previewAddress()),
    close: () => router.close(),
  };
}

/** A HAProxy data plane of its own, with its files in a fresh temporary folder. */
export async function startHaproxyRouter(
  options: Partial<HaproxyRouterOptions> = {},
): Promise<{ router: HaproxyRouter; dir: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "cutover-haproxy-"));
  const router = new HaproxyRouter({
    // Ports below the kernel's ephemeral range (helpers/project.ts): never one a replica of another test held
    // a moment ago, whose health checks or clients would then be answered, and counted, here.
    listen: { host: "127.0.0.1", port: await freePort() },
    preview: { host: "127.0.0.1", port: await freePort() },
    sticky: false,
    initialActive: "blue",
    slots: 4,
    haproxy: { kind: "start", dir },
    ...options,
  });
  try {
    await router.start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    router,
    dir,
    async close() {
      await router.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startHaproxy(): Promise<DataPlane> {
  const { router, close } = await startHaproxyRouter();
  return {
    name: "haproxy",
    router,
    async setEndpoints(colour, endpoints) {
      router.setEndpoints(colour, endpoints);
      await router.settled();
    },
    mainUrl: url(router.address()),
    previewUrl: url(router.previewAddress()),
    close,
  };
}
