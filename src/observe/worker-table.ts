/**
 * `tsmr run --monitor-workers`: a table of the workers for the terminal, one
 * row per worker, under the progress bars (redrawn in place with them):
 *
 * ```text
 * worker  state  slots  running                           done  failed   records/s      RSS
 * local   alive    4/4  m-00012_0 m-00013_0 m-00014_1 +1    11       2  1.2M rec/s  412 MiB
 * ```
 *
 * `slots` is busy/total; `running` names up to three running attempts;
 * `done` and `failed` count attempts (see {@link WorkerRow}).
 *
 * @module
 */
import { alignColumns } from './columns.ts';
import type { WorkerRow } from './dashboard/views.ts';
import { formatBytes, formatCount, formatRate } from './units.ts';

/** Running attempts named in a row; the rest are counted. */
const NAMED_RUNNING = 3;

/** The header and one line per worker. */
export function formatWorkerTable(rows: readonly WorkerRow[]): string[] {
  const header = ['worker', 'state', 'slots', 'running', 'done', 'failed', 'records/s', 'RSS'];
  const body = rows.map((w) => {
    const named = w.running.slice(0, NAMED_RUNNING);
    if (w.running.length > named.length) named.push(`+${w.running.length - named.length}`);
    return [
      w.workerId,
      w.state,
      `${w.running.length}/${w.slots}`,
      named.join(' ') || '-',
      formatCount(w.done),
      formatCount(w.failed),
      formatRate(w.recordsPerSec, 'rec'),
      w.rssBytes === undefined ? '-' : formatBytes(w.rssBytes),
    ];
  });
  return alignColumns([header, ...body], [false, false, true, false, true, true, true, true]);
}
