/**
 * Shows batch progress to a person: a live bar (cli-progress) on a terminal,
 * plain lines now and then when the output is a file or a pipe.
 */
import cliProgress from 'cli-progress';
import { formatEta, formatRate } from '../observe/units.ts';
import type { BatchProgress } from './types.ts';

export interface ProgressDisplay {
  update(progress: BatchProgress): void;
  /** Draws the last state and releases the terminal line. */
  stop(): void;
}

export interface ProgressDisplayOptions {
  /** Default `process.stderr`. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Default: whether `stream` is a terminal. */
  tty?: boolean;
  /** Printed before the bar or line, e.g. `parallel`. */
  label?: string;
  /** Off a terminal: least time between two lines, ms (default 1000). */
  lineInterval?: number;
  /** Clock for line throttling (default `performance.now`). */
  now?: () => number;
}

export function createProgressDisplay(options: ProgressDisplayOptions = {}): ProgressDisplay {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  const label = options.label === undefined ? '' : `${options.label} `;
  return tty ? barDisplay(stream, label) : lineDisplay(stream, label, options);
}

function eta(p: BatchProgress): string {
  return p.etaSeconds === undefined ? '?' : formatEta(p.etaSeconds * 1000);
}

function barDisplay(stream: NodeJS.WritableStream, label: string): ProgressDisplay {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label}{bar} {percentage}% | {value}/{total} | {rateText} | ETA {etaText} | failed {failed}`,
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let last: BatchProgress | undefined;
  const payload = (p: BatchProgress) => ({
    rateText: formatRate(p.rate, 'items'),
    etaText: eta(p),
    failed: p.failed,
  });
  return {
    update(p) {
      last = p;
      if (!started) {
        started = true;
        bar.start(p.total ?? 0, p.done, payload(p));
        return;
      }
      if (p.total !== undefined) bar.setTotal(p.total);
      bar.update(p.done, payload(p));
    },
    stop() {
      if (!started) return;
      if (last !== undefined) bar.update(last.done, payload(last));
      bar.stop();
    },
  };
}

function lineDisplay(
  stream: NodeJS.WritableStream,
  label: string,
  options: ProgressDisplayOptions,
): ProgressDisplay {
  const interval = options.lineInterval ?? 1000;
  const now = options.now ?? (() => performance.now());
  let lastLine = -Infinity;
  let last: BatchProgress | undefined;
  let printed: BatchProgress | undefined;
  const print = (p: BatchProgress): void => {
    printed = p;
    const of =
      p.total === undefined ? '' : `/${p.total} (${((p.done / Math.max(p.total, 1)) * 100).toFixed(1)}%)`;
    stream.write(
      `${label}${p.done}${of} done, ${formatRate(p.rate, 'items')}, ETA ${eta(p)}, failed ${p.failed}\n`,
    );
  };
  return {
    update(p) {
      last = p;
      const t = now();
      if (t - lastLine >= interval || (p.total !== undefined && p.done === p.total)) {
        lastLine = t;
        print(p);
      }
    },
    stop() {
      if (last !== undefined && last !== printed) print(last);
    },
  };
}
