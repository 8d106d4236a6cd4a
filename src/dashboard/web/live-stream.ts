import type { LiveMessage } from "../live-message.js";

export type StreamState = "connecting" | "live" | "retrying" | "refused";

export interface LiveStreamOptions {
  readonly url: string;
  readonly token: string;
  readonly onMessage: (message: LiveMessage) => void;
  readonly onState: (state: StreamState, detail: string) => void;
  /** Without a line for this long the connection counts as dead (the server pings every 15 s). */
  readonly silenceMs?: number;
}

/**
 * One long fetch of the live NDJSON stream with the bearer header (EventSource cannot send one). When it
 * breaks it reconnects after 1, 2, 4 ... 10 s and gets a fresh snapshot; a 401 stops it for good.
 */
export class LiveStream {
  readonly #o: LiveStreamOptions;
  #controller: AbortController | null = null;
  #stopped = false;
  #failures = 0;

  constructor(options: LiveStreamOptions) {
    this.#o = options;
  }

  start(): void {
    void this.#run();
  }

  stop(): void {
    this.#stopped = true;
    this.#controller?.abort();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const problem = await this.#once();
      if (this.#stopped || problem === "refused") return;
      this.#failures += 1;
      const waitMs = Math.min(10_000, 1000 * 2 ** (this.#failures - 1));
      this.#o.onState("retrying", `${problem}; trying again in ${Math.round(waitMs / 1000)} s`);
      await new Promise((resolve) => window.setTimeout(resolve, waitMs));
    }
  }

  /** Reads the stream until it ends; says why it ended. */
  async #once(): Promise<string> {
    const controller = new AbortController();
    this.#controller = controller;
    let silence = 0;
    const watch = () => {
      window.clearTimeout(silence);
      silence = window.setTimeout(() => controller.abort(), this.#o.silenceMs ?? 40_000);
    };
    this.#o.onState("connecting", "connecting");
    try {
      watch();
      const response = await fetch(this.#o.url, {
        headers: { authorization: `Bearer ${this.#o.token}` },
        cache: "no-store",
        signal: controller.signal,
      });
      if (response.status === 401) {
        this.#o.onState("refused", "the daemon refused the token (401)");
        return "refused";
      }
      if (!response.ok || response.body === null) return `the daemon answered ${response.status}`;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffered = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return "the daemon closed the stream";
        watch();
        buffered += value;
        let newline = buffered.indexOf("\n");
        while (newline >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim() !== "") this.#deliver(JSON.parse(line) as LiveMessage);
          newline = buffered.indexOf("\n");
        }
      }
    } catch (error) {
      return controller.signal.aborted && !this.#stopped
        ? "no news from the daemon for too long"
        : `the daemon is unreachable (${(error as Error).message})`;
    } finally {
      window.clearTimeout(silence);
    }
  }

  #deliver(message: LiveMessage): void {
    if (message.type === "hello") {
      this.#failures = 0;
      this.#o.onState("live", "live");
    }
    this.#o.onMessage(message);
  }
}
