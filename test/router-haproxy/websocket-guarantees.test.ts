/** WebSockets across a switch, on every data plane this machine has (the built-in router and HAProxy). */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { startUpstream, type TestUpstream } from "../helpers/upstream.js";
import { openWebSocket } from "../helpers/websocket-client.js";
import { availableDataPlanes, type DataPlane, type DataPlaneName, startDataPlane } from "./data-planes.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function twoColours(name: DataPlaneName): Promise<DataPlane> {
  const upstreams: TestUpstream[] = [await startUpstream("blue-0"), await startUpstream("green-0")];
  cleanups.push(async () => {
    for (const upstream of upstreams) await upstream.stop();
  });
  const plane = await startDataPlane(name);
  cleanups.push(() => plane.close());
  await plane.setEndpoints("blue", [(upstreams[0] as TestUpstream).endpoint]);
  await plane.setEndpoints("green", [(upstreams[1] as TestUpstream).endpoint]);
  return plane;
}

const wsUrl = (plane: DataPlane) => `${plane.mainUrl.replace("http", "ws")}/ws`;

describe.each(availableDataPlanes())("%s data plane: WebSockets", (name) => {
  it("keeps a WebSocket opened before the switch working until drain closes it at the deadline", async () => {
    const plane = await twoColours(name);
    const before = await openWebSocket(wsUrl(plane));
    expect(before.colour).toBe("blue");
    expect(before.hello).toBe("hello from blue-0");

    await plane.router.switchTo("green");
    before.socket.send("still there?");
    expect(await before.next()).toBe("blue-0: still there?");

    const after = await openWebSocket(wsUrl(plane));
    expect(after.colour).toBe("green");
    expect(after.hello).toBe("hello from green-0");
    cleanups.push(async () => after.socket.terminate());

    await expect.poll(() => plane.router.inFlight("blue")).toBe(1);
    const closed = new Promise<number>((resolve) => before.socket.once("close", resolve));
    const started = Date.now();
    const drained = plane.router.drain("blue", 600);
    await sleep(300);
    before.socket.send("during the drain");
    expect(await before.next()).toBe("blue-0: during the drain");
    expect(await drained).toEqual({ completed: 0, cancelled: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(590);
    await closed;
    await expect.poll(() => plane.router.inFlight("blue")).toBe(0);

    after.socket.send("new colour");
    expect(await after.next()).toBe("green-0: new colour");
  });

  it("counts a WebSocket closed before the deadline as completed", async () => {
    const plane = await twoColours(name);
    const before = await openWebSocket(wsUrl(plane));
    await expect.poll(() => plane.router.inFlight("blue")).toBe(1);
    await plane.router.switchTo("green");
    const drained = plane.router.drain("blue", 5_000);
    await sleep(100);
    before.socket.close();
    expect(await drained).toEqual({ completed: 1, cancelled: 0 });
  });
});
