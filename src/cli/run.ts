/**
 * `tsmr run`: runs a job module, a pipeline module, or streaming commands, on this machine.
 */
import { rename, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Pipeline } from '../api/pipeline.ts';
import type { JobReport, PipelineReport } from '../engine/job-report.ts';
import { usageError } from '../errors.ts';
import { chooseProgressMode, createProgressDisplay } from '../observe/progress.ts';
import { renderJobMetrics, renderPipelineMetrics } from '../observe/job-metrics.ts';
import { formatPipelineReport, formatReport, formatSkippedInputs } from '../observe/report.ts';
import { type JobHandle, runJob } from '../runtime/run-job.ts';
import type { RunOptions } from '../runtime/run-options.ts';
import { type PipelineHandle, runPipeline } from '../runtime/run-pipeline.ts';
import { findPipelineExport } from '../task/load-job.ts';
import type { JobRef } from '../task/messages.ts';
import {
  collectParam,
  collectValue,
  parsePositive,
  parseCount,
  parseRate,
  parseSize,
  parseTimeout,
} from './options.ts';
import { type ObserverFlags, startRunObservers } from './run-observers.ts';
import { interruptOnSignals } from './signals.ts';

/** Flags that go to `runJob` as they are (commander names them like the options). */
type EngineFlags = Pick<
  RunOptions,
  | 'output'
  | 'overwrite'
  | 'workers'
  | 'reducers'
  | 'splitSize'
  | 'sortBuffer'
  | 'mergeFanIn'
  | 'maxAttempts'
  | 'taskTimeout'
  | 'simulateFailures'
  | 'seed'
  | 'skipBadRecords'
  | 'verify'
  | 'tmpDir'
  | 'totalOrder'
>;

interface RunFlags extends EngineFlags, ObserverFlags {
  input?: string[];
  file: string[];
  param: Record<string, string>;
  mapper?: string;
  combiner?: string;
  reducer?: string;
  metricsFile?: string;
  keepIntermediate?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('run')
    .summary('run a job on this machine, on all cores')
    .description(
      'Run a MapReduce job on this machine: map tasks on all cores, shuffle, merge, reduce, commit.\n' +
        'The job is a module exporting defineJob({ map, combine?, reduce }), or streaming commands\n' +
        '(--mapper/--reducer, Hadoop Streaming style), or a pipeline: a module exporting definePipeline([...steps]),\n' +
        'whose steps run one after the other, each reading the output of the one before.\n' +
        'Output: <output>/part-r-NNNNN (part-m-NNNNN for a map-only job), _SUCCESS, _job.json.',
    )
    .argument('[job]', 'job module (.ts or .js) exporting defineJob(...) or definePipeline([...])')
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
      'reduce tasks R; 0 = map-only, part-m-NNNNN files (default: the job’s reducers, else --workers)',
      parseCount,
    )
    .option(
      '-w, --workers <n>',
      'worker threads; 0 runs in-process, in sequence (default: all cores)',
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
    .option('--split-size <size>', 'bytes per input split, e.g. 64m (default 64m)', parseSize)
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
    .option('--verify', 're-run sequentially in-process and compare the outputs byte for byte')
    .option(
      '--keep-intermediate',
      'pipelines: keep the output of every step but the last, in <output>/_steps/<i>-<name>/ (default: removed)',
    )
    .option('--tmp-dir <dir>', 'directory for spills and map outputs (default: the OS temp dir)')
    .option(
      '--metrics-file <path>',
      'write job counters and timings in Prometheus text format (node_exporter textfile)',
    )
    .option('--dashboard', 'serve a live web dashboard on 127.0.0.1 while the job runs (prints its URL)')
    .option('--dashboard-port <port>', 'port of --dashboard (default: any free port)', parseCount)
    .option('--monitor-workers', 'show a live table of the workers under the progress bars')
    .option('--json', 'print the job report as JSON on stdout')
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  tsmr run examples/wordcount.ts --input corpus/ --output out/wc\n' +
        "  tsmr run examples/grep.ts -i logs/ -o out/grep --param pattern='ERROR .*'\n" +
        '  tsmr run --mapper \'tr -s " " "\\n"\' --reducer \'uniq -c\' -i in/ -o out/\n' +
        '  tsmr run examples/terasort.ts -i tera/in -o tera/out   (total order; see tsmr teragen --help)\n' +
        '  tsmr run examples/genre-top-words.ts -i .data/corpus/brown -o out/top   (a two-step pipeline)\n' +
        '\nExit codes: 0 success, 1 job failed, 2 bad usage or input (nothing written), 130 interrupted.',
    )
    .action(async (jobPath: string | undefined, flags: RunFlags) => {
      await run(jobPath, flags);
    });
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

function jobFrom(jobPath: string | undefined, flags: RunFlags): string | JobRef {
  const streaming = flags.mapper !== undefined || flags.reducer !== undefined || flags.combiner !== undefined;
  if (streaming && jobPath !== undefined) {
    throw usageError('give either a job module or --mapper/--reducer commands, not both');
  }
  if (streaming) {
    if (flags.mapper === undefined) throw usageError('a streaming job needs --mapper <command>');
    return { kind: 'streaming', mapper: flags.mapper, combiner: flags.combiner, reducer: flags.reducer };
  }
  if (jobPath === undefined) throw usageError('missing job: tsmr run <job.ts> --input … --output …');
  return jobPath;
}

async function run(jobPath: string | undefined, flags: RunFlags): Promise<void> {
  const job = jobFrom(jobPath, flags);
  const pipeline = typeof job === 'string' ? await findPipelineExport(job) : undefined;
  if (flags.keepIntermediate && pipeline === undefined) {
    throw usageError(
      '--keep-intermediate keeps the steps’ outputs of a pipeline; this job is not a pipeline (definePipeline)',
    );
  }
  const observers = await startRunObservers(flags);
  const abort = new AbortController();
  const stopWatching = interruptOnSignals(abort);
  const display = createProgressDisplay({
    mode: chooseProgressMode({ quiet: flags.quiet, json: flags.json, isTTY: process.stderr.isTTY }),
    extraLines: observers.extraLines,
  });
  const {
    input,
    file,
    param,
    mapper,
    combiner,
    reducer,
    metricsFile,
    keepIntermediate,
    json,
    quiet,
    dashboard,
    dashboardPort,
    monitorWorkers,
    ...engine
  } = flags;
  const options = { ...engine, input, files: file, params: param, signal: abort.signal };
  const handle = start(job, pipeline, { ...options, keepIntermediate }, observers.watch);
  handle.on('progress', (snapshot) => display.update(snapshot));
  handle.on('inputsSkipped', (skipped) => {
    if (!flags.quiet) process.stderr.write(`tsmr: warning: ${formatSkippedInputs(skipped)}\n`);
  });
  try {
    const report = await handle.done.finally(() => writeMetrics(handle.report, flags.metricsFile));
    display.stop();
    if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else if (!flags.quiet) process.stdout.write(`${formatAny(report)}\n`);
  } catch (error) {
    display.stop();
    if (handle.report !== undefined && !flags.quiet) {
      const text = flags.json ? JSON.stringify(handle.report, null, 2) : formatAny(handle.report);
      process.stdout.write(`${text}\n`);
    }
    throw error;
  } finally {
    stopWatching();
    await observers.close();
  }
}

/** Starts the job, or the pipeline (whose steps the observers watch one by one). */
function start(
  job: string | JobRef,
  pipeline: Pipeline | undefined,
  options: RunOptions & { keepIntermediate?: boolean },
  watch: (handle: JobHandle) => void,
): JobHandle | PipelineHandle {
  if (pipeline === undefined) {
    const handle = runJob(job, options);
    watch(handle);
    return handle;
  }
  const handle = runPipeline(pipeline, options);
  handle.on('step', (step) => watch(step.handle));
  return handle;
}
