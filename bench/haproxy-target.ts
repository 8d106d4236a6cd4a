import { join } from "node:path";
import type { Colour } from "../src/colour.js";
import { HaproxyRouter } from "../src/router/haproxy/haproxy-router.js";
import type { BenchProcesses } from "./bench-processes.js";
import type { BenchTarget } from "./bench-target.js";
import type { DemoUpstream } from "./demo-upstreams.js";

/**
 * HAProxy as cutover drives it with `router: haproxy` (src/router/haproxy), on one thread: config written
 * once, keep-alive both ways, X-Forwarded-For and the colour header added; switched by `set map` on the
 * runtime API, no reload.
 */
export async function startHaproxyTarget(
  processes: BenchProcesses,
  version: string,
  upstreams: Readonly<Record<Colour, DemoUpstream>>,
  dir: string,
): Promise<BenchTarget> {
  const router = new HaproxyRouter({
    listen: { host: "127.0.0.1", port: 0 },
    preview: null,
    sticky: false,
    initialActive: "blue",
    slots: 2,
    haproxy: { kind: "start", dir: join(dir), threads: 1 },
  });
  processes.onStop(() => router.close());
  for (const colour of ["blue", "green"] as const) {
    router.setEndpoints(colour, [{ id: colour, host: "127.0.0.1", port: upstreams[colour].port }]);
  }
  await router.start();
  const { host, port } = router.address();
  return {
    name: "haproxy",
    label: `HAProxy ${version}, 1 thread (cutover's router: haproxy)`,
    url: `http://${host}:${port}/`,
    pids: () => (router.pid === null ? [] : [router.pid]),
    switchMethod: "runtime API `set map` on the colour map the frontend's use_backend reads (no reload)",
    switchTo: async (colour) => {
      await router.switchTo(colour);
    },
  };
}
