/** The `kubectl rollout status` rules, in kubectl's order and words (§5 of the reference). */
import type { V1Deployment, V1DeploymentStatus } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { rolloutVerdict } from "../../src/platforms/kubernetes/rollout-status.js";

function deployment(generation: number, status: V1DeploymentStatus, replicas = 3): V1Deployment {
  return { metadata: { name: "web", generation }, spec: { replicas, selector: {}, template: {} }, status };
}

describe("rolloutVerdict", () => {
  it("waits until the spec update is observed, before anything else", () => {
    const v = rolloutVerdict(
      deployment(2, { observedGeneration: 1, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }),
    );
    expect(v).toEqual({ state: "waiting", message: "Waiting for deployment spec update to be observed..." });
  });

  it("fails on ProgressDeadlineExceeded", () => {
    const conditions = [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }];
    expect(rolloutVerdict(deployment(2, { observedGeneration: 2, conditions }))).toEqual({
      state: "failed",
      message: 'deployment "web" exceeded its progress deadline',
    });
  });

  it("waits for updated, then old replicas to go, then available ones; readyReplicas is never read", () => {
    const head = 'Waiting for deployment "web" rollout to finish:';
    expect(
      rolloutVerdict(deployment(1, { observedGeneration: 1, updatedReplicas: 1, replicas: 4 })).message,
    ).toBe(`${head} 1 out of 3 new replicas have been updated...`);
    expect(
      rolloutVerdict(deployment(1, { observedGeneration: 1, updatedReplicas: 3, replicas: 4 })).message,
    ).toBe(`${head} 1 old replicas are pending termination...`);
    expect(
      rolloutVerdict(
        deployment(1, {
          observedGeneration: 1,
          updatedReplicas: 3,
          replicas: 3,
          availableReplicas: 2,
          readyReplicas: 3,
        }),
      ).message,
    ).toBe(`${head} 2 of 3 updated replicas are available...`);
    expect(
      rolloutVerdict(
        deployment(1, {
          observedGeneration: 1,
          updatedReplicas: 3,
          replicas: 3,
          availableReplicas: 3,
          readyReplicas: 0,
        }),
      ),
    ).toEqual({
      state: "done",
      message: 'deployment "web" successfully rolled out',
    });
  });

  it("counts a Deployment scaled to zero as rolled out", () => {
    expect(rolloutVerdict(deployment(3, { observedGeneration: 3 }, 0)).state).toBe("done");
  });
});
