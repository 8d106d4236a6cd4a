/**
 * Where finished deploy journals are kept for runners that did not run the deploy: on Kubernetes, where
 * every `cutover` command may run on a CI runner that is thrown away, one ConfigMap per deploy
 * (platforms/kubernetes/journal-config-maps.ts implements this structurally: it may not import report/).
 * The journal on disk stays the source; the shelf holds a copy.
 */
export interface JournalShelf {
  /** Keeps the journal at `journalPath` as deploy `deployId`'s, replacing any kept before. */
  put(deployId: string, journalPath: string): Promise<void>;
  /** Writes deploy `deployId`'s journal to `journalPath` (creating its folder); false when the shelf has none. */
  get(deployId: string, journalPath: string): Promise<boolean>;
  /** The id of the newest deploy kept, or null when the shelf is empty. */
  latest(): Promise<string | null>;
  /** Where the shelf keeps a deploy's journal (or, given null, all of them), for messages. */
  where(deployId: string | null): string;
}
