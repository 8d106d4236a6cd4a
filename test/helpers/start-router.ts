import { Router, type RouterOptions } from "../../src/router/router.js";

/** A Router on free loopback ports (main and preview), started; blue active unless told otherwise. */
export async function startRouter(options: Partial<RouterOptions> = {}): Promise<Router> {
  const router = new Router({
    listen: { host: "127.0.0.1", port: 0 },
    preview: { host: "127.0.0.1", port: 0 },
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
