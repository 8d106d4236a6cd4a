import { Router, type RouterOptions } from "../../src/router/router.js";
import { freePort } from "./project.js";

/** A Router on free loopback ports (main and preview), started; blue active unless told otherwise. */
export async function startRouter(options: Partial<RouterOptions> = {}): Promise<Router> {
  const router = new Router({
    // Ports below the kernel's ephemeral range (helpers/project.ts): never one a replica of another test held
    // a moment ago, whose health checks or clients would then be answered, and counted, here.
    listen: { host: "127.0.0.1", port: await freePort() },
    preview: { host: "127.0.0.1", port: await freePort() },
    sticky: false,
    initialActive: "blue",
    ...options,
  });
  await router.start();
  return router;
}

/** "http://host:port" of the router's main listener. */
export function mainUrl(router: Router): string {
  const { host, port } = router.address();
  return `http://${host}:${port}`;
}

/** "http://host:port" of the router's preview listener. */
export function previewUrl(router: Router): string {
  const address = router.previewAddress();
  if (address === null) throw new Error("the router has no preview listener");
  return `http://${address.host}:${address.port}`;
}
