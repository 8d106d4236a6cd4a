/**
 * The engine's side of attachAlertsAndReports in tests of the analysis on its own: the deploy events the
 * engine emits (onEvent with { type: "deploy", record }), driven by the test as the engine would drive them.
 * The engine's own end-to-end test uses the real Engine.
 */
import type { DeployRecordView } from "../../src/report/deploy-journal-format.js";

type Listener = (event: { readonly type: string; readonly record?: DeployRecordView }) => void;

export class DeployEvents {
  readonly #listeners = new Set<Listener>();
  record: DeployRecordView;

  constructor(record: DeployRecordView) {
    this.record = record;
  }

  onEvent(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Changes the record and emits it, as the engine does after every change. */
  update(change: Partial<DeployRecordView>): void {
    this.record = { ...this.record, ...change };
    for (const listener of this.#listeners)
      listener({ type: "deploy", record: structuredClone(this.record) });
  }
}
