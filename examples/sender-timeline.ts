/**
 * Secondary sort on the SpamAssassin public corpus: each sender domain's
 * messages in time order, with the time since the domain's previous message.
 *
 * From each email's header (followed line by line, see `email-header.ts`) the
 * job takes the sender domain of the first `From:` line (as `spam-headers.ts`
 * does) and the time of the first `Date:` line (`Date.parse` of the text
 * after `Date:`; a message whose date does not parse to a year 0–9999 is
 * counted as `sender-timeline/undated` and left out). With `--param strict=true`
 * such a `Date:` line makes `map` throw instead, which fails the job, unless
 * skip mode leaves those lines out (`--skip-bad-records <max>`: they are then
 * listed, with the error, in `<out>/_skipped/`).
 *
 * The map emits the composite key `[domain, time, file]` (time in ms since
 * the epoch; `file` as `folder/name`, which breaks ties). `groupBy: 1` makes
 * `reduce` run once per domain, its messages in ascending time order (the
 * rest of the key), and the default partitioner hashes only the domain, so
 * all of a domain's messages meet in one reduce task: Hadoop's secondary sort
 * (composite key, grouping comparator, partitioner on the natural key) in one
 * setting. The order comes from the shuffle's sort; `reduce` holds one
 * message at a time, however many a domain has.
 *
 * Output, one line per message, each part file sorted by domain, then time:
 * `domain\tISO time (UTC)\tfolder/file\tseconds since the domain's previous message`
 * (empty for its first).
 *
 *   npx tsmr run examples/sender-timeline.ts --input .data/corpus/spam --output out/sender-timeline --overwrite
 *   npx tsmr run examples/sender-timeline.ts --input .data/corpus/spam --output out/sender-timeline-strict \
 *     --overwrite --param strict=true --skip-bad-records 100
 */
import { basename, dirname } from 'node:path';
import { defineJob, type MapContext } from '../src/index.ts';
import { HeaderLines, senderDomain } from './email-header.ts';

type MessageKey = [domain: string, time: number, file: string];

const fromHeader = /^from:/i;
const dateHeader = /^date:/i;

/** Where this worker thread is in the file it reads (tasks of one thread run one at a time). */
const header = new HeaderLines();
const current = { domain: undefined as string | undefined, time: undefined as number | undefined };
const seen = { from: false, date: false };

/** Ms since the epoch of a `Date:` line, or undefined unless it parses to a year 0–9999. */
function timeOf(line: string): number | undefined {
  const time = Date.parse(line.slice('date:'.length));
  return Number.isFinite(time) && /^\d{4}-/.test(new Date(time).toISOString()) ? time : undefined;
}

export default defineJob({
  name: 'sender-timeline',
  inputFormat: { type: 'text', encoding: 'latin1' },
  outputFormat: { type: 'text', encoding: 'latin1' },
  groupBy: 1,

  map(offset: number, line: string, ctx: MapContext<MessageKey, null>) {
    if (offset === 0) {
      Object.assign(seen, { from: false, date: false });
      Object.assign(current, { domain: undefined, time: undefined });
    }
    if (!header.isHeader(ctx.inputFile, offset, line)) return;
    if (!seen.from && fromHeader.test(line)) {
      seen.from = true;
      current.domain = senderDomain(line);
      if (current.domain === undefined) ctx.counter('sender-timeline', 'no-domain').increment();
    } else if (!seen.date && dateHeader.test(line)) {
      seen.date = true;
      current.time = timeOf(line);
      if (current.time === undefined && String(ctx.params.strict) === 'true') {
        throw new Error(`the Date: header does not parse as a date: ${line}`);
      }
      if (current.time === undefined) ctx.counter('sender-timeline', 'undated').increment();
    } else {
      return;
    }
    if (seen.from && seen.date && current.domain !== undefined && current.time !== undefined) {
      const file = `${basename(dirname(ctx.inputFile))}/${basename(ctx.inputFile)}`;
      ctx.emit([current.domain, current.time, file], null);
    }
  },

  reduce([domain], messages, ctx) {
    let previous: number | undefined;
    for (const [[, time, file]] of messages.entries()) {
      const gap = previous === undefined ? '' : String((time - previous) / 1000);
      ctx.emit(domain, `${new Date(time).toISOString()}\t${file}\t${gap}`);
      previous = time;
    }
  },
});
