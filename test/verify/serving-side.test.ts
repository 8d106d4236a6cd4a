/**
 * Who serves before a switch, as `cutover verify` records it with a switch command (it cannot ask the router):
 * the answer to the request sent last, not the last answer to arrive.
 */
import { describe, expect, it } from "vitest";
import type { LoadSample } from "../../src/verify/load-generator.js";
import { servingSide } from "../../src/verify/switch-drill.js";

function answer(colour: string | null, sentAt: number, latencyMs: number, status = 200): LoadSample {
  return {
    sentAt,
    endedAt: sentAt + latencyMs,
    latencyMs,
    status,
    version: null,
    colour,
    error: status === 0 ? "ECONNRESET" : null,
    errorKind: status === 0 ? "reset" : null,
    connection: "keep-alive",
  };
}

/** In the order the answers arrived, as the load generator keeps them. */
const arrived = (...samples: LoadSample[]) => [...samples].sort((a, b) => a.endedAt - b.endedAt);

describe("servingSide", () => {
  it("is the side of the request sent last, even when an older one's answer arrived after it", () => {
    // green serves since t=100; a slow request blue took at t=90 ends during its drain, at t=150.
    const samples = arrived(answer("blue", 80, 5), answer("blue", 90, 60), answer("green", 120, 3));
    expect(samples.at(-1)?.colour).toBe("blue"); // the last to arrive: what verify used to take
    expect(servingSide(samples)).toBe("green");
  });

  it("skips failed requests and answers that name no side; null before any answer", () => {
    expect(servingSide([])).toBeNull();
    expect(servingSide(arrived(answer("blue", 10, 2), answer(null, 20, 1, 0)))).toBe("blue");
    expect(servingSide(arrived(answer("green", 10, 2), answer(null, 20, 1)))).toBe("green");
  });

  it("stops looking back only where no earlier answer can have been sent later", () => {
    // A slow blue answer sent at t=5 arrives last but one; the search must not stop at the first blue one.
    const early = arrived(answer("blue", 1, 1), answer("green", 3, 1), answer("blue", 2, 50));
    expect(servingSide([...early, answer("green", 10, 45)])).toBe("green");
    const many = Array.from({ length: 10_000 }, (_, i) => answer("blue", i, 1));
    expect(servingSide([...many, answer("green", 20_000, 1)])).toBe("green");
  });
});
