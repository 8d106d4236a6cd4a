import type { Platform } from "../engine/ports/platform.js";

/** The ready replicas of a colour, as addresses to scrape. */
export function readyReplicas(platform: Pick<Platform, "status">) {
  return (colour: Parameters<Platform["status"]>[0]) =>
    platform
      .status(colour)
      .replicas.filter((replica) => replica.ready)
      .map((replica) => ({ id: replica.id, host: replica.host, port: replica.port }));
}
