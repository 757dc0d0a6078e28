/**
 * What a streaming command writes to stderr: Hadoop Streaming's reporter
 * protocol, and a bounded tail of everything else for error messages.
 *
 * - `reporter:counter:<group>,<name>,<n>` adds the integer `n` to counter `group/name`;
 * - `reporter:status:<text>` sets the attempt's status line;
 * - any other line is kept in the tail (the last {@link STDERR_TAIL_LINES} lines,
 *   each cut to {@link STDERR_LINE_MAX} bytes).
 *
 * Memory is bounded whatever the command writes: an endless line is cut.
 */

/** Lines of stderr kept for an error message. */
export const STDERR_TAIL_LINES = 20;
/** Longest stderr line kept, in bytes; longer lines are cut and marked with `…`. */
export const STDERR_LINE_MAX = 1024;

export interface ReporterTarget {
  counter(group: string, name: string, n: number): void;
  status(text: string): void;
}

const counterLine = /^reporter:counter:([^,]*),([^,]*),(-?\d+)$/;
const statusPrefix = 'reporter:status:';

export class StderrReporter {
  private readonly target: ReporterTarget;
  private readonly tail: string[] = [];
  /** Bytes of the current unfinished line (at most STDERR_LINE_MAX + 1 kept). */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private partialCut = false;
  /** Total stderr bytes seen. */
  bytes = 0;

  constructor(target: ReporterTarget) {
    this.target = target;
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      this.append(chunk, start, nl);
      this.finishLine();
      start = nl + 1;
    }
    if (start < chunk.length) this.append(chunk, start, chunk.length);
  }

  /** Ends the stream: handles a last line without `\n`. */
  end(): void {
    if (this.partialBytes > 0 || this.partialCut) this.finishLine();
  }

  /** The last lines that were not reporter lines, oldest first. */
  lines(): string[] {
    return [...this.tail];
  }

  private append(chunk: Buffer, start: number, end: number): void {
    const room = STDERR_LINE_MAX + 1 - this.partialBytes;
    if (room <= 0) {
      if (end > start) this.partialCut = true;
      return;
    }
    const stop = Math.min(end, start + room);
    if (stop > start) {
      // A copy: chunks are not kept.
      this.partial.push(Buffer.from(chunk.subarray(start, stop)));
      this.partialBytes += stop - start;
    }
    if (stop < end) this.partialCut = true;
  }

  private finishLine(): void {
    let line = Buffer.concat(this.partial, this.partialBytes).toString('utf8');
    const cut = this.partialCut || this.partialBytes > STDERR_LINE_MAX;
    this.partial = [];
    this.partialBytes = 0;
    this.partialCut = false;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (!cut && this.report(line)) return;
    if (cut) line = `${line.slice(0, STDERR_LINE_MAX)}…`;
    this.tail.push(line);
    if (this.tail.length > STDERR_TAIL_LINES) this.tail.shift();
  }

  private report(line: string): boolean {
    if (!line.startsWith('reporter:')) return false;
    if (line.startsWith(statusPrefix)) {
      this.target.status(line.slice(statusPrefix.length));
      return true;
    }
    const m = counterLine.exec(line);
    if (m === null) return false;
    const n = Number(m[3]);
    if (!Number.isSafeInteger(n)) return false;
    this.target.counter(m[1], m[2], n);
    return true;
  }
}
