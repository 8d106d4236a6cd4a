/**
 * SQL text addressed the way libpg_query addresses it: by UTF-8 byte offset. Turns byte offsets into
 * text and into 1-based line and column numbers.
 */
export class SqlText {
  readonly text: string;
  readonly #bytes: Buffer;
  readonly #lineStarts: readonly number[];

  constructor(text: string) {
    this.text = text;
    this.#bytes = Buffer.from(text, "utf8");
    const starts = [0];
    for (let i = 0; i < this.#bytes.length; i++) if (this.#bytes[i] === 0x0a) starts.push(i + 1);
    this.#lineStarts = starts;
  }

  get byteLength(): number {
    return this.#bytes.length;
  }

  byteAt(byte: number): number {
    return this.#bytes[byte] ?? -1;
  }

  slice(startByte: number, endByte: number): string {
    return this.#bytes.subarray(startByte, endByte).toString("utf8");
  }

  /** 1-based line of a byte offset. */
  lineOf(byte: number): number {
    let low = 0;
    let high = this.#lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.#lineStarts[mid] ?? 0) <= byte) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  }

  /** 1-based column (in characters) of a byte offset. */
  columnOf(byte: number): number {
    const start = this.#lineStarts[this.lineOf(byte) - 1] ?? 0;
    return this.slice(start, byte).length + 1;
  }
}
