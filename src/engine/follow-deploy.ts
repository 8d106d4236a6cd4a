import { CutoverError } from "../errors.js";
import type { EngineEvent } from "./engine-options.js";
import { type DeployRecord, followEnds, waitsForPerson } from "./lifecycle.js";

/** What following needs of the engine. */
export interface DeployEvents {
  onEvent(listener: (event: EngineEvent) => void): () => void;
}

/**
 * Yields deploy `id`'s record as it is now, then at every change, until `followEnds` says to stop: it
 * ended, or it waits for a person. `find` gives the record as the engine holds it, with the end of its run
 * when this process runs it (null when it does not: a deploy another process holds, or one already over).
 */
export async function* followDeploy(
  id: string,
  events: DeployEvents,
  find: () => { readonly record: DeployRecord; readonly done: Promise<unknown> | null } | null,
): AsyncGenerator<DeployRecord> {
  const queue: DeployRecord[] = [];
  let wake: (() => void) | null = null;
  // Listening starts before the first look, so no change falls between the two.
  const unsubscribe = events.onEvent((event) => {
    if (event.type !== "deploy" || event.record.id !== id) return;
    queue.push(event.record);
    wake?.();
  });
  try {
    const found = find();
    if (!found) throw new CutoverError("NO_DEPLOY", `there is no deploy ${id}; see \`cutover history\``);
    yield structuredClone(found.record);
    if (followEnds(found.record)) return;
    // The engine may let go of a run without a last change (a paused deploy released): its end ends this.
    let over = found.done === null;
    void found.done?.then(() => {
      over = true;
      wake?.();
    });
    while (true) {
      const record = queue.shift();
      if (record) {
        yield record;
        if (followEnds(record)) return;
        continue;
      }
      if (over) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = null;
    }
  } finally {
    unsubscribe();
  }
}

/**
 * What `cutover promote` and `cutover abort` answer with: deploy `id`'s record once its run is over (its
 * colours stopped or kept, its history written), or as soon as it waits for a person again (e.g. an
 * inconclusive analysis after the switch), where following it would end too.
 */
export function settled(
  events: DeployEvents,
  id: string,
  done: Promise<DeployRecord>,
): Promise<DeployRecord> {
  return new Promise((resolve) => {
    const unsubscribe = events.onEvent((event) => {
      if (event.type !== "deploy" || event.record.id !== id || !waitsForPerson(event.record)) return;
      unsubscribe();
      resolve(event.record);
    });
    void done.then((record) => {
      unsubscribe();
      resolve(record);
    });
  });
}
