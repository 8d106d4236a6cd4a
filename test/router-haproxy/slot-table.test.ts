import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { whichExecutable } from "../../src/router/haproxy/haproxy-binary.js";
import {
  DEFAULT_HAPROXY_TIMEOUTS,
  renderColourMap,
  renderHaproxyConfig,
} from "../../src/router/haproxy/haproxy-config.js";
import { HaproxyNames } from "../../src/router/haproxy/haproxy-names.js";
import { SlotsExhaustedError, SlotTable } from "../../src/router/haproxy/slot-table.js";

const at = (port: number) => ({ id: `r${port}`, host: "127.0.0.1", port });

describe("SlotTable", () => {
  it("keeps a replica in its slot while it stays in rotation, and adds before it removes", () => {
    const table = new SlotTable("blue", 4);
    expect(table.plan([at(1), at(2)])).toEqual({
      assign: [
        { slot: 1, host: "127.0.0.1", port: 1, readdress: true },
        { slot: 2, host: "127.0.0.1", port: 2, readdress: true },
      ],
      release: [],
    });
    expect(table.plan([at(2), at(3)])).toEqual({
      assign: [{ slot: 3, host: "127.0.0.1", port: 3, readdress: true }],
      release: [1],
    });
    expect(table.inRotation()).toEqual([2, 3]);
  });

  it("gives a returning replica its old slot without a new address, and reuses the slot idle longest", () => {
    const table = new SlotTable("blue", 3);
    table.plan([at(1), at(2), at(3)]);
    table.plan([at(3)]);
    expect(table.plan([at(3), at(1)]).assign).toEqual([
      { slot: 1, host: "127.0.0.1", port: 1, readdress: false },
    ]);
    table.plan([at(3)]);
    expect(table.plan([at(3), at(9)]).assign).toEqual([
      { slot: 2, host: "127.0.0.1", port: 9, readdress: true },
    ]);
  });

  it("refuses more replicas than slots with an error that says what to raise", () => {
    const table = new SlotTable("green", 2);
    expect(() => table.plan([at(1), at(2), at(3)])).toThrow(SlotsExhaustedError);
    expect(() => table.plan([at(1), at(2), at(3)])).toThrow(/green needs 3 servers .* 2 server slots; raise/);
  });

  it("adopts what a running HAProxy has, so attaching changes nothing that is already right", () => {
    const table = new SlotTable("blue", 2);
    table.adopt(2, "127.0.0.1:7", true);
    expect(table.plan([at(7)])).toEqual({ assign: [], release: [] });
  });
});

describe.skipIf(whichExecutable("haproxy") === null)("renderHaproxyConfig", () => {
  it("writes configs HAProxy accepts: sticky, one thread, IPv6, no preview", () => {
    const dir = mkdtempSync(join(tmpdir(), "cutover-haproxy-config-"));
    try {
      const names = new HaproxyNames("shop");
      const mapPath = join(dir, names.mapFileName);
      writeFileSync(mapPath, renderColourMap("green"));
      expect(renderColourMap("green")).toBe("main green\npreview blue\n");
      for (const variant of [
        { sticky: true, threads: 1, listen: { host: "::1", port: 8080 }, preview: null },
        {
          sticky: false,
          threads: null,
          listen: { host: "127.0.0.1", port: 8080 },
          preview: { host: "127.0.0.1", port: 8081 },
        },
      ]) {
        const file = join(dir, "haproxy.cfg");
        const text = renderHaproxyConfig({
          names,
          socketPath: join(dir, "admin.sock"),
          mapPath,
          slots: 3,
          timeouts: DEFAULT_HAPROXY_TIMEOUTS,
          ...variant,
        });
        expect(text).toContain("server-template s 1-3 127.0.0.1:1 disabled");
        writeFileSync(file, text);
        const binary = whichExecutable("haproxy") as string;
        expect(execFileSync(binary, ["-c", "-f", file], { encoding: "utf8" })).toContain("valid");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
