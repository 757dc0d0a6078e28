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

/** A `Buffer` method Node has always had but does not declare: bytes → a one-byte string. */
type Latin1Slicer = Buffer & { latin1Slice(start: number, end: number): string };

/** The 256 one-character latin1 strings (values like `1` are the common case). */
const oneByte = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b));

/** The bytes `buf[start, end)` as a latin1 string: one character per byte. */
export function latin1(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return '';
  if (n === 1) return oneByte[buf[start]];
  return (buf as Latin1Slicer).latin1Slice(start, end);
}

/**
 * Splits the line `buf[start, end)` at its first tab and calls
 * `emit(key, value)` with the bytes before the tab (possibly none) and after
 * it, as latin1 strings (one character per byte: every byte survives, and
 * string order is byte order; see `streaming-job-body.ts`). A line without a
 * tab is a key with an empty value.
 */
export function splitKeyValue(
  buf: Buffer,
  start: number,
  end: number,
  emit: (key: string, value: string) => void,
): void {
  let tab = start;
  while (tab < end && buf[tab] !== TAB) tab++;
  emit(latin1(buf, start, tab), tab < end ? latin1(buf, tab + 1, end) : '');
}
