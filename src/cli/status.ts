/**
 * `tsmr status`: a cluster's jobs and workers (`GetStatus`), once or, with
 * `--watch`, refreshed every second: redrawn in place on a terminal, printed
 * every 5 s otherwise (one JSON object a line with `--json`).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import { formatClusterStatus } from '../observe/cluster-status.ts';
import type { PhaseTracker } from '../observe/phase-view.ts';
import { PLAIN_INTERVAL_MS } from '../observe/progress.ts';
import type { ClusterClient } from '../runtime/cluster/client.ts';
import type { ClusterStatus } from '../runtime/cluster/wire-status.ts';
import { addConnectionFlags, type ConnectionFlags, clientOf } from './cluster-flags.ts';

interface StatusFlags extends ConnectionFlags {
  job?: string;
  workers?: boolean;
  json?: boolean;
  watch?: boolean;
}

/** `--watch` asks for the status this often, ms. */
const WATCH_INTERVAL_MS = 1000;

export function register(program: Command): void {
  const command = program
    .command('status')
    .summary("a cluster's jobs and workers")
    .description(
      'Show the jobs a coordinator knows (state, phase, progress by bytes, ETA) and, with --workers, its\n' +
        'workers (state, last heartbeat, slots, attempts, map outputs, bytes served). --job shows one job in\n' +
        'full: phases, counters, failed attempts with their messages.',
    )
    .option('--job <id>', 'show this job in full')
    .option('--workers', 'list the workers')
    .option('--json', 'print the status as JSON (with --watch: one object a line)')
    .option('--watch', 'refresh every second until Ctrl-C (with --job: until the job ends)');
  addConnectionFlags(command).action(async (flags: StatusFlags) => {
    const client = clientOf(flags);
    try {
      if (flags.watch) await watch(client, flags);
      else print(await client.status(flags.job), client, flags);
    } finally {
      client.close();
    }
  });
}

function render(
  status: ClusterStatus,
  client: ClusterClient,
  flags: StatusFlags,
  trackers?: Map<string, PhaseTracker>,
): string {
  if (flags.json) return `${JSON.stringify(status)}\n`;
  const lines = formatClusterStatus(status, {
    url: client.url,
    now: Date.now(),
    workers: flags.workers,
    job: flags.job,
    trackers,
  });
  return `${lines.join('\n')}\n`;
}

function print(status: ClusterStatus, client: ClusterClient, flags: StatusFlags): void {
  process.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : render(status, client, flags));
}

const ended = new Set(['succeeded', 'failed', 'cancelled']);

async function watch(client: ClusterClient, flags: StatusFlags): Promise<void> {
  const tty = process.stdout.isTTY === true && !flags.json;
  const trackers = new Map<string, PhaseTracker>();
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let drawn = 0;
  let printedAt = -Infinity;
  try {
    while (!stop.signal.aborted) {
      const status = await client.status(flags.job);
      const text = render(status, client, flags, trackers);
      const done = flags.job !== undefined && status.jobs.every((j) => ended.has(j.state));
      if (tty) {
        // Back to the first line drawn, clear to the end of the screen, draw again.
        process.stdout.write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[0J` : ''}${text}`);
        drawn = text.split('\n').length - 1;
      } else if (flags.json || done || Date.now() - printedAt >= PLAIN_INTERVAL_MS) {
        process.stdout.write(flags.json ? text : `${text}\n`);
        printedAt = Date.now();
      }
      if (done) return;
      await delay(WATCH_INTERVAL_MS, undefined, { signal: stop.signal }).catch(() => {});
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
