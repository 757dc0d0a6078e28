/**
 * Splitting a streaming command's output into lines, and lines into
 * `key \t value` pairs (Hadoop Streaming conventions).
 */

/** Byte of `\n`. */
const NL = 0x0a;
/** Byte of `\t`. */
const TAB = 0x09;

/**
 * Cuts a byte stream into lines at `\n`. A line's bytes are passed on without
 * the `\n`, otherwise unchanged (a `\r` before it stays). A last line without
 * a final `\n` is passed on by {@link LineSplitter.end}.
 *
 * Memory: only the unfinished last line of the stream is kept between chunks.
 */
export class LineSplitter {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private readonly onLine: (buf: Buffer, start: number, end: number) => void;

  /** `onLine(buf, start, end)`: the line is `buf[start, end)`; `buf` is not modified later. */
  constructor(onLine: (buf: Buffer, start: number, end: number) => void) {
    this.onLine = onLine;
  }

  push(chunk: Buffer): void {
    let start = 0;
    let nl = chunk.indexOf(NL);
    if (nl === -1) {
      this.keep(chunk);
      return;
    }
    if (this.carryBytes > 0) {
      this.carry.push(chunk.subarray(0, nl));
      const line = Buffer.concat(this.carry, this.carryBytes + nl);
      this.carry = [];
      this.carryBytes = 0;
      this.onLine(line, 0, line.length);
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    while (nl !== -1) {
      this.onLine(chunk, start, nl);
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
  }

  /** Ends the stream: passes on a last line that had no `\n`. */
  end(): void {
    if (this.carryBytes === 0) return;
    const line = Buffer.concat(this.carry, this.carryBytes);
    this.carry = [];
    this.carryBytes = 0;
    this.onLine(line, 0, line.length);
  }

  private keep(part: Buffer): void {
    this.carry.push(part);
    this.carryBytes += part.length;
  }
}

/**
 * Splits the line `buf[start, end)` at its first tab and calls
 * `emit(key, value)`: the key is a new `Buffer` of the bytes before the tab
 * (possibly empty), the value the bytes after it as a latin1 string (one
 * character per byte, so every byte survives; see `streaming-job-body.ts`).
 * A line without a tab is a key with an empty value.
 */
export function splitKeyValue(
  buf: Buffer,
  start: number,
  end: number,
  emit: (key: Buffer, value: string) => void,
): void {
  let tab = start;
  while (tab < end && buf[tab] !== TAB) tab++;
  // A copy: the key must not pin the whole output chunk it came from.
  const key = Buffer.from(buf.subarray(start, tab));
  emit(key, tab < end ? buf.toString('latin1', tab + 1, end) : '');
}
