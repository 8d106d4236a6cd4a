/** A region's health from its probes, by thresholds as Kubernetes counts them. */
import { describe, expect, it } from "vitest";
import { ProbeVerdict } from "../../src/front/probe-verdict.js";

/** Records each probe ("+" passed, "-" failed); the verdict after each: "?" undecided, "H" healthy, "U" unhealthy. */
const run = (verdict: ProbeVerdict, results: string): string =>
  [...results]
    .map((r) => {
      verdict.record(r === "+");
      return verdict.healthy === null ? "?" : verdict.healthy ? "H" : "U";
    })
    .join("");

describe("the probe verdict", () => {
  it("is undecided until successThreshold passes or failureThreshold failures in a row", () => {
    expect(run(new ProbeVerdict({ successThreshold: 2, failureThreshold: 3 }), "+-+-++")).toBe("?????H");
    expect(run(new ProbeVerdict({ successThreshold: 2, failureThreshold: 3 }), "--+---")).toBe("?????U");
  });

  it("turns unhealthy only after failureThreshold failures in a row, healthy again after successThreshold passes", () => {
    const verdict = new ProbeVerdict({ successThreshold: 2, failureThreshold: 3 });
    expect(run(verdict, "++")).toBe("?H");
    expect(run(verdict, "--+--")).toBe("HHHHH");
    expect(run(verdict, "-")).toBe("U");
    expect(run(verdict, "+-+")).toBe("UUU");
    expect(run(verdict, "+")).toBe("H");
  });

  it("says when a probe changed the verdict", () => {
    const verdict = new ProbeVerdict({ successThreshold: 1, failureThreshold: 1 });
    const changes = [true, true, false, false].map((passed) => verdict.record(passed));
    expect(changes).toEqual([true, false, true, false]);
  });
});
