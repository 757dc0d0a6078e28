/**
 * Log analysis on the SpamAssassin public corpus: messages per folder, per
 * sender domain and per hour of day, from the email headers.
 *
 * Each input file is one raw email. Its header is the lines before the first
 * empty line (followed line by line, see `email-header.ts`). From it the job takes:
 * - the first `From:` line (name matched case-insensitively): the sender domain
 *   is the run of `[A-Za-z0-9.-]` after the line's last `@`, lowercased, without
 *   trailing dots (a message whose `From:` has no `@` has no domain);
 * - the first `Date:` line: the hour is the first `H:MM` or `HH:MM` in it, as
 *   written (the sender's local clock), when it is 0–23.
 * Folded continuation lines are not read. Every file counts once for its folder.
 *
 * Output (one `part-r-00000`, the job asks for one reduce task), sorted by the
 * tuple key `[kind, value]` — kinds `domain`, `folder`, `hour`; hours numerically:
 * `kind\tvalue\tmessages`.
 *
 *   npx tsmr run examples/spam-headers.ts --input .data/corpus/spam --output out/spam-headers --overwrite
 */
import { basename, dirname } from 'node:path';
import { defineJob } from '../src/index.ts';
import { HeaderLines, senderDomain } from './email-header.ts';

type HeaderKey = [kind: 'domain' | 'folder', name: string] | [kind: 'hour', hour: number];

const fromHeader = /^from:/i;
const dateHeader = /^date:/i;
const clockTime = /\b(\d{1,2}):\d\d/;

/** Where this worker thread is in the file it reads (tasks of one thread run one at a time). */
const header = new HeaderLines();
const seen = { from: false, date: false };

/** Hour of day (0–23) of a `Date:` line, or undefined. */
function hourOfDay(line: string): number | undefined {
  const match = clockTime.exec(line);
  const hour = match === null ? NaN : Number(match[1]);
  return hour <= 23 ? hour : undefined;
}

export default defineJob<number, string, HeaderKey, number, string, number>({
  name: 'spam-headers',
  inputFormat: { type: 'text', encoding: 'latin1' },
  outputFormat: { type: 'text', encoding: 'latin1' },
  reducers: 1,

  map(offset, line, ctx) {
    if (offset === 0) {
      Object.assign(seen, { from: false, date: false });
      ctx.emit(['folder', basename(dirname(ctx.inputFile))], 1);
    }
    if (!header.isHeader(ctx.inputFile, offset, line)) return;
    if (!seen.from && fromHeader.test(line)) {
      seen.from = true;
      const domain = senderDomain(line);
      if (domain !== undefined) ctx.emit(['domain', domain], 1);
    } else if (!seen.date && dateHeader.test(line)) {
      seen.date = true;
      const hour = hourOfDay(line);
      if (hour !== undefined) ctx.emit(['hour', hour], 1);
    }
  },

  combine(key, counts, ctx) {
    let n = 0;
    for (const c of counts) n += c;
    ctx.emit(key, n);
  },

  reduce([kind, value], counts, ctx) {
    let n = 0;
    for (const c of counts) n += c;
    ctx.emit(`${kind}\t${value}`, n);
  },
});
