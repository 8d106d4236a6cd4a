import type { Command } from "commander";
import type { ControlPlane } from "../../control/control-plane.js";
import { formatDuration } from "../../duration.js";
import type { HoldResult, HoldState } from "../../engine/ports/traffic-router.js";
import type { Output } from "../output.js";

export interface PauseCommandContext {
  readonly output: () => Output;
  readonly withControl: <T>(action: (control: ControlPlane) => Promise<T>) => Promise<T>;
}

/** `cutover pause [--timeout 30s]`: new requests wait at the router, sent to no colour. */
export function registerPauseCommand(program: Command, context: PauseCommandContext): void {
  program
    .command("pause")
    .description(
      "hold new requests at the router (sent to no colour) until `cutover resume`, or until the timeout releases them",
    )
    .option(
      "--timeout <duration>",
      'release them by themselves after this long (default "30s", at most "10m")',
    )
    .action(async (options: { timeout?: string }) => {
      const state = await context.withControl((control) => control.pause(options.timeout));
      context.output().result(state, () => describeHold(state));
    });
}

/** `cutover resume`: the held requests go to the live colour, in arrival order. */
export function registerResumeCommand(program: Command, context: PauseCommandContext): void {
  program
    .command("resume")
    .description("release the requests `cutover pause` held to the live colour, in arrival order")
    .action(async () => {
      const result = await context.withControl((control) => control.resume());
      context.output().result(result, () => describeRelease(result));
    });
}

function describeHold(state: HoldState): string {
  const until = new Date(state.releaseAt).toISOString();
  return `holding new requests (${state.reason}) until \`cutover resume\`, or until ${until} (in ${formatDuration(state.releaseAt - state.since)}) when they are released by themselves`;
}

export function describeRelease(result: HoldResult): string {
  if (result.held === 0 && result.heldMs === 0) return "no requests were held: nothing to resume";
  const notes = [
    result.gone > 0 ? `${result.gone} client(s) left while held` : "",
    result.refused > 0 ? `${result.refused} refused with 503 (the hold was full)` : "",
  ].filter(Boolean);
  return (
    `released ${result.held} held request(s) to ${result.colour}, held for ${formatDuration(result.heldMs)}` +
    (notes.length > 0 ? ` (${notes.join(", ")})` : "")
  );
}
