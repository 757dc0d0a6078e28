/**
 * Reading email headers one line at a time, shared by the SpamAssassin
 * examples (`spam-headers.ts`, `sender-timeline.ts`). Not a job.
 *
 * Each input file is one raw email; its header is the lines before the first
 * empty line. Records arrive one line at a time (key = byte offset in the
 * file), so a job follows each file from the line at offset 0 to its first
 * empty line. A file that a split begins in the middle of (only files larger
 * than `--split-size`) has no header in that split. Folded continuation
 * lines are not read.
 */

const domainAfterAt = /^[A-Za-z0-9.-]*/;

/**
 * Tells header lines from the rest, for the lines of one map task in input
 * order. Keep one per worker thread (tasks of one thread run one at a time).
 */
export class HeaderLines {
  private file = '';
  private lastOffset = -1;
  private inHeader = false;

  /** True when `line`, at byte `offset` of `file`, is a line of its email's header. */
  isHeader(file: string, offset: number, line: string): boolean {
    if (offset === 0) {
      this.file = file;
      this.inHeader = true;
    } else if (file !== this.file || offset <= this.lastOffset) {
      // A split that starts inside a file, or a new attempt of a task: no header here.
      this.file = file;
      this.inHeader = false;
    }
    this.lastOffset = offset;
    if (line === '') this.inHeader = false;
    return this.inHeader;
  }
}

/**
 * Sender domain of a `From:` line: the run of `[A-Za-z0-9.-]` after the
 * line's last `@`, lowercased, without trailing dots; undefined when the line
 * has no `@` or the run is empty.
 */
export function senderDomain(line: string): string | undefined {
  const at = line.lastIndexOf('@');
  if (at < 0) return undefined;
  const domain = domainAfterAt
    .exec(line.slice(at + 1))![0]
    .toLowerCase()
    .replace(/\.+$/, '');
  return domain === '' ? undefined : domain;
}
