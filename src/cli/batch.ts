/**
 * `tsmr batch`: parallel batch processing of the built-in workloads —
 * `compare` (sequential vs parallel), `parallel` (with a live progress bar)
 * and `benchmark` (the fixed scenarios of issue 4). See docs/batch.md.
 */
import { availableParallelism } from 'node:os';
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { parseDuration } from '../batch/parse-duration.ts';
import type { ProgressDisplay } from '../batch/progress-display.ts';
import type { WorkloadName, WorkloadSpec } from '../batch/workload-items.ts';
import { ErrorCode, ExitCode, TsmrError } from '../errors.ts';
import { parseCount, parsePositive } from './options.ts';

interface WorkloadFlags {
  workload: WorkloadName;
  latency: number;
  failureRate: number;
  seed: number;
  batchSize: number | 'auto';
  retries: number;
  timeout?: number;
  json?: boolean;
  progress: boolean;
}

const workloadNames = ['io', 'text', 'numeric'] as const satisfies readonly WorkloadName[];

/** The batch modules (threads, corpus…) load only when a batch command runs, not with every `tsmr` command. */
async function load() {
  const [compare, benchmark, format, progress] = await Promise.all([
    import('../batch/compare.ts'),
    import('../batch/benchmark.ts'),
    import('../batch/format-report.ts'),
    import('../batch/progress-display.ts'),
  ]);
  return { ...compare, ...benchmark, ...format, ...progress };
}

export function register(program: Command): void {
  const batch = program
    .command('batch')
    .summary('process a list of items in parallel: compare, parallel, benchmark')
    .description(
      'Parallel batch processing (runBatch) on built-in workloads:\n' +
        '  io       waits --latency ± 20% per item, like a remote call (async, <workers> in flight)\n' +
        '  text     word statistics of real documents (Brown corpus, SpamAssassin e-mails; worker threads)\n' +
        '  numeric  primality test and factorisation of 13-digit numbers (worker threads)',
    );

  workloadCommand(batch, 'compare')
    .summary('run a workload sequentially and in parallel; print speedup and efficiency')
    .description(
      'Run <count> items of a workload one at a time, then with <workers> in parallel, on the same items,\n' +
        'and print both times, speedup, efficiency (speedup / workers), throughputs, errors, and whether\n' +
        'every item had the same outcome in both runs. Exit code 1 when the results differ.',
    )
    .action(async (count: number, workers: number | undefined, flags: WorkloadFlags) => {
      const { compareWorkload, createProgressDisplay, formatCompare } = await load();
      const spec = specOf(count, flags);
      const n = workers ?? defaultWorkers(spec.workload);
      let display: ProgressDisplay | undefined;
      const tty = process.stderr.isTTY === true && flags.progress;
      const report = await withInterrupt((signal) =>
        compareWorkload(spec, {
          ...runFlags(flags),
          workers: n,
          signal,
          onPhase: (phase) => {
            display?.stop();
            display = tty ? createProgressDisplay({ label: phase.padEnd(10) }) : undefined;
          },
          onProgress: (p) => display?.update(p),
        }),
      ).finally(() => display?.stop());
      print(flags.json ? JSON.stringify(report, null, 2) : formatCompare(report));
      if (!report.match) {
        process.stderr.write('tsmr: the sequential and the parallel run gave different results\n');
        process.exitCode = ExitCode.JOB_FAILED;
      }
    });

  workloadCommand(batch, 'parallel')
    .summary('run a workload in parallel with a live progress bar (rate, ETA)')
    .description(
      'Run <count> items of a workload with <workers> in parallel, showing progress on stderr (a bar on a\n' +
        'terminal, a line a second otherwise), then print a summary: time, throughput, failures, latency\n' +
        'percentiles. Exit code 1 when some items failed.',
    )
    .action(async (count: number, workers: number | undefined, flags: WorkloadFlags) => {
      const { createProgressDisplay, formatRun, runWorkload } = await load();
      const spec = specOf(count, flags);
      const display = flags.progress ? createProgressDisplay({ label: spec.workload }) : undefined;
      const report = await withInterrupt((signal) =>
        runWorkload(spec, {
          ...runFlags(flags),
          parallel: true,
          workers: workers ?? defaultWorkers(spec.workload),
          signal,
          onProgress: (p) => display?.update(p),
        }),
      ).finally(() => display?.stop());
      print(flags.json ? JSON.stringify({ spec, ...report }, null, 2) : formatRun(spec, report));
      if (report.failed > 0) process.exitCode = ExitCode.JOB_FAILED;
    });

  batch
    .command('benchmark')
    .summary('run the fixed scenarios (io, text, numeric) and print the table')
    .description(
      'Compare sequential and parallel runs on fixed scenarios: numeric on all cores and text over the\n' +
        'whole corpus (best of 3 runs each), io 1000 × 20 ms with 16 and 250 workers; print speedup,\n' +
        'efficiency and the targets. Takes about a minute (the sequential io run alone is 20 s).\n' +
        'Exit code 1 when results differ.',
    )
    .option('--quick', 'a smoke run: about a tenth of the work, speed targets not judged')
    .option('--json', 'print the rows as JSON on stdout')
    .action(async (flags: { quick?: boolean; json?: boolean }) => {
      const { formatBenchmark, runBenchmark } = await load();
      const rows = await runBenchmark({
        quick: flags.quick,
        onRow: (row) => {
          if (!flags.json) process.stderr.write(`done: ${row.name}\n`);
        },
      });
      const cores = availableParallelism();
      print(
        flags.json ? JSON.stringify({ cores, rows }, null, 2) : `cores: ${cores}\n\n${formatBenchmark(rows)}`,
      );
      if (rows.some((r) => !r.match)) process.exitCode = ExitCode.JOB_FAILED;
    });
}

function workloadCommand(batch: Command, name: string): Command {
  return batch
    .command(name)
    .argument('<count>', 'items to process', parsePositive)
    .argument(
      '[workers]',
      'items in flight (io) or worker threads (text, numeric); default 16 for io, all cores otherwise',
      parsePositive,
    )
    .addOption(new Option('--workload <name>', 'what each item does').choices(workloadNames).default('io'))
    .option(
      '--latency <duration>',
      'io: mean time of one call, e.g. 500ms, 2s (±20% per item)',
      duration,
      500,
    )
    .option(
      '--failure-rate <rate>',
      'probability that an attempt fails on purpose, 0-1 (seeded per item)',
      rate,
      0,
    )
    .option('--seed <n>', 'seed of latencies, numbers and failures', parseCount, 1)
    .option('--batch-size <n>', "threads: items per message, or 'auto'", batchSize, 'auto')
    .option(
      '--retries <n>',
      'retries per failed item (exponential backoff from 10 ms, full jitter)',
      parseCount,
      0,
    )
    .option('--timeout <duration>', 'time limit per attempt, e.g. 2s', positiveDuration)
    .option('--no-progress', 'no progress on stderr')
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText(
      'after',
      `\nExamples:\n  tsmr batch ${name} 100 8 --latency 20ms\n  tsmr batch ${name} 2000 --workload numeric --json\n` +
        `  tsmr batch ${name} 500 50 --failure-rate 0.05 --retries 2 --seed 7`,
    );
}

function specOf(count: number, flags: WorkloadFlags): WorkloadSpec {
  return {
    workload: flags.workload,
    count,
    latencyMs: flags.latency,
    failureRate: flags.failureRate,
    seed: flags.seed,
  };
}

function runFlags(flags: WorkloadFlags) {
  return { batchSize: flags.batchSize, retries: flags.retries, timeout: flags.timeout };
}

function defaultWorkers(workload: WorkloadName): number {
  return workload === 'io' ? 16 : availableParallelism();
}

/** Runs `task` with a signal that Ctrl-C (SIGINT) and SIGTERM abort. */
async function withInterrupt<X>(task: (signal: AbortSignal) => Promise<X>): Promise<X> {
  const controller = new AbortController();
  const stop = (): void => controller.abort(new TsmrError(ErrorCode.CANCELLED, 'interrupted'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await task(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

function duration(text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function positiveDuration(text: string): number {
  const ms = duration(text);
  if (ms <= 0) throw new InvalidArgumentError(`the timeout must be more than 0, got '${text}'`);
  return ms;
}

function rate(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !(n >= 0 && n <= 1)) {
    throw new InvalidArgumentError(`expected a probability between 0 and 1 (e.g. 0.05), got '${text}'`);
  }
  return n;
}

function batchSize(text: string): number | 'auto' {
  return text === 'auto' ? 'auto' : parsePositive(text);
}
