import { COLOURS, type Colour } from "../colour.js";

const COLOUR_CELL = 0;
const SWITCHES_CELL = 1;

/**
 * The router's pointer to the active colour, in shared memory: the router reads it once per request, and
 * any thread holding the same buffer can move it. A thread whose event loop is never busy (an admin worker)
 * can so switch the colour while the proxy's own loop is saturated with I/O; requests that arrive after the
 * store go to the new colour. The buffer also counts the switches, for cutover_switches_total.
 */
export class SharedActiveColour {
  /** Pass this to another thread (workerData or postMessage) and wrap it there with `new SharedActiveColour(buffer)`. */
  readonly buffer: SharedArrayBuffer;
  readonly #cells: Int32Array;

  /** A new pointer at `initial`, or a view of one another thread made. */
  constructor(initial: Colour | SharedArrayBuffer) {
    if (typeof initial === "string") {
      this.buffer = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
      this.#cells = new Int32Array(this.buffer);
      Atomics.store(this.#cells, COLOUR_CELL, COLOURS.indexOf(initial));
    } else {
      this.buffer = initial;
      this.#cells = new Int32Array(initial);
    }
  }

  get colour(): Colour {
    return COLOURS[Atomics.load(this.#cells, COLOUR_CELL)] ?? "blue";
  }

  /** Times the colour changed (a switch to the colour already active does not count). */
  get switches(): number {
    return Atomics.load(this.#cells, SWITCHES_CELL);
  }

  /** Moves the pointer to `colour` in one atomic step; returns the colour it pointed to before. */
  switchTo(colour: Colour): Colour {
    const next = COLOURS.indexOf(colour);
    const previous = Atomics.exchange(this.#cells, COLOUR_CELL, next);
    if (previous !== next) Atomics.add(this.#cells, SWITCHES_CELL, 1);
    return COLOURS[previous] ?? "blue";
  }
}
