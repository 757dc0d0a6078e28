/**
 * The flags that `tsmr run` and `tsmr submit` share (a job, its inputs and
 * output, its settings, how the report is printed), what they turn into for
 * `runJob`, and how both commands show a running job: the progress display,
 * the skipped-inputs warning, the report (text or `--json`) and
 * `--metrics-file`.
 */
import { rename, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { JobReport, PipelineReport } from '../engine/job-report.ts';
import { usageError } from '../errors.ts';
import { renderJobMetrics, renderPipelineMetrics } from '../observe/job-metrics.ts';
import { chooseProgressMode, createProgressDisplay } from '../observe/progress.ts';
import { formatPipelineReport, formatReport, formatSkippedInputs } from '../observe/report.ts';
import type { JobHandle } from '../runtime/run-job.ts';
import type { PipelineHandle } from '../runtime/run-pipeline.ts';
import type { RunOptions } from '../runtime/run-options.ts';
import type { JobRef } from '../task/messages.ts';
import {
  collectParam,
  collectValue,
  parseCount,
  parsePositive,
  parseRate,
  parseSize,
  parseTimeout,
} from './options.ts';

/** Shared flags that go to `runJob` as they are (commander names them like the options). */
const ENGINE_FLAGS = [
  'output',
  'overwrite',
  'reducers',
  'splitSize',
  'sortBuffer',
  'mergeFanIn',
  'maxAttempts',
  'taskTimeout',
  'simulateFailures',
  'seed',
  'skipBadRecords',
  'totalOrder',
] as const satisfies ReadonlyArray<keyof RunOptions>;

export type SharedEngineFlags = Pick<RunOptions, (typeof ENGINE_FLAGS)[number]>;

/** The shared flags as commander parses them. */
export interface JobFlags extends SharedEngineFlags {
  input?: string[];
  file: string[];
  param: Record<string, string>;
  mapper?: string;
  combiner?: string;
  reducer?: string;
  metricsFile?: string;
  json?: boolean;
  quiet?: boolean;
}

/** Adds the shared flags to `command` (after its own `[job]` argument). */
export function addJobFlags(command: Command): Command {
  return command
    .option(
      '-i, --input <paths...>',
      'input files, directories (recursive; .* and _* skipped) or globs (required unless the job names its inputs)',
    )
    .requiredOption('-o, --output <dir>', 'output directory (must not exist unless --overwrite)')
    .option('--mapper <command>', 'streaming: command that maps stdin lines to key\\tvalue lines')
    .option('--combiner <command>', 'streaming: command run on sorted map output before the shuffle')
    .option(
      '--reducer <command>',
      'streaming: command that reduces sorted key\\tvalue lines (default: identity)',
    )
    .option(
      '-r, --reducers <n>',
      'reduce tasks R; 0 = map-only, part-m-NNNNN files (default: the job’s reducers, else the number of workers)',
      parseCount,
    )
    .option(
      '-p, --param <name=value>',
      'job parameter ctx.params.name, always a string (repeatable)',
      collectParam,
      {},
    )
    .option(
      '--file <path[#name]>',
      'side file shipped to every task, read there as ctx.file(name) (repeatable; Hadoop’s -files)',
      collectValue,
      [],
    )
    .option('--overwrite', 'replace the output directory if it exists')
    .option(
      '--total-order',
      'sample the input, then partition by key ranges: part files concatenated are sorted (replaces the job’s partition)',
    )
    .option('--split-size <size>', 'bytes per input split, e.g. 64m (default 128m)', parseSize)
    .option('--sort-buffer <size>', 'map-side sort buffer per task, e.g. 64m (default 64m)', parseSize)
    .option('--merge-fan-in <n>', 'segments merged at once (default 64)', parsePositive)
    .option('--max-attempts <n>', 'attempts per task before the job fails (default 4)', parsePositive)
    .option(
      '--task-timeout <duration>',
      'kill and retry an attempt that makes no progress for this long, e.g. 30s, 10m; 0 = never (default 10m)',
      parseTimeout,
    )
    .option(
      '--simulate-failures <rate>',
      'crash this fraction of attempts on purpose, 0 to 1 (a task’s last attempt never crashes)',
      parseRate,
    )
    .option(
      '--seed <n>',
      'seed of --simulate-failures and of the --total-order sampler (default 1)',
      parseCount,
    )
    .option(
      '--skip-bad-records <max>',
      'skip up to <max> input records that map fails on, writing them to <output>/_skipped/ (default: off)',
      parsePositive,
    )
    .option(
      '--metrics-file <path>',
      'write job counters and timings in Prometheus text format (node_exporter textfile)',
    )
    .option('--json', 'print the job report as JSON on stdout')
    .option('-q, --quiet', 'print nothing but errors');
}

/**
 * The job the flags name: the module `jobPath`, or streaming commands.
 * @throws TsmrError `TSMR_USAGE` for both or neither, or a streaming job without `--mapper`.
 */
export function jobFrom(command: string, jobPath: string | undefined, flags: JobFlags): string | JobRef {
  const streaming = flags.mapper !== undefined || flags.reducer !== undefined || flags.combiner !== undefined;
  if (streaming && jobPath !== undefined) {
    throw usageError('give either a job module or --mapper/--reducer commands, not both');
  }
  if (streaming) {
    if (flags.mapper === undefined) throw usageError('a streaming job needs --mapper <command>');
    return { kind: 'streaming', mapper: flags.mapper, combiner: flags.combiner, reducer: flags.reducer };
  }
  if (jobPath === undefined) throw usageError(`missing job: tsmr ${command} <job.ts> --input … --output …`);
  return jobPath;
}

/** The `runJob` options of the shared flags, and the flags left for the command itself. */
export function splitJobFlags<F extends JobFlags>(
  flags: F,
): { options: RunOptions; rest: Omit<F, keyof JobFlags> } {
  const { input, file, param, mapper, combiner, reducer, metricsFile, json, quiet, ...others } = flags;
  const engine: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(others)) {
    ((ENGINE_FLAGS as readonly string[]).includes(name) ? engine : rest)[name] = value;
  }
  return {
    options: { ...(engine as SharedEngineFlags), input, files: file, params: param },
    rest: rest as Omit<F, keyof JobFlags>,
  };
}

/**
 * Shows a running job (or pipeline) as `tsmr run` does: progress on stderr
 * (bars on a terminal, lines otherwise, nothing with `--quiet`), a warning
 * for skipped inputs, then the report on stdout (text, or JSON with `--json`;
 * also for a failed job, whose error is then rethrown), and `--metrics-file`.
 * `extraLines` go under the bars (`--monitor-workers`).
 */
export async function showJob(
  handle: JobHandle | PipelineHandle,
  flags: Pick<JobFlags, 'json' | 'quiet' | 'metricsFile'>,
  extraLines?: () => readonly string[],
): Promise<JobReport | PipelineReport> {
  const display = createProgressDisplay({
    mode: chooseProgressMode({ quiet: flags.quiet, json: flags.json, isTTY: process.stderr.isTTY }),
    extraLines,
  });
  handle.on('progress', (snapshot) => display.update(snapshot));
  handle.on('inputsSkipped', (skipped) => {
    if (!flags.quiet) process.stderr.write(`tsmr: warning: ${formatSkippedInputs(skipped)}\n`);
  });
  try {
    const report = await handle.done.finally(() => writeMetrics(handle.report, flags.metricsFile));
    display.stop();
    if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else if (!flags.quiet) process.stdout.write(`${formatAny(report)}\n`);
    return report;
  } catch (error) {
    display.stop();
    if (handle.report !== undefined && !flags.quiet) {
      const text = flags.json ? JSON.stringify(handle.report, null, 2) : formatAny(handle.report);
      process.stdout.write(`${text}\n`);
    }
    throw error;
  }
}

/** Writes the metrics file atomically (temp file, then rename), so a scraper never reads half of it. */
async function writeMetrics(
  report: JobReport | PipelineReport | undefined,
  path: string | undefined,
): Promise<void> {
  if (report === undefined || path === undefined) return;
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, 'kind' in report ? renderPipelineMetrics(report) : renderJobMetrics(report));
  await rename(tmp, path);
}

function formatAny(report: JobReport | PipelineReport): string {
  return 'kind' in report ? formatPipelineReport(report) : formatReport(report);
}
