/**
 * `tsmr run`: runs a job module, or streaming commands, on this machine.
 */
import type { Command } from 'commander';
import { runJob } from '../runtime/run-job.ts';
import type { RunOptions } from '../runtime/run-options.ts';
import { addJobFlags, type JobFlags, jobFrom, showJob, splitJobFlags } from './job-flags.ts';
import { parseCount } from './options.ts';
import { addObserverFlags, type ObserverFlags, startRunObservers } from './run-observers.ts';
import { interruptOnSignals } from './signals.ts';

interface RunFlags extends JobFlags, ObserverFlags, Pick<RunOptions, 'workers' | 'verify' | 'tmpDir'> {}

export function register(program: Command): void {
  const command = program
    .command('run')
    .summary('run a job on this machine, on all cores')
    .description(
      'Run a MapReduce job on this machine: map tasks on all cores, shuffle, merge, reduce, commit.\n' +
        'The job is a module exporting defineJob({ map, combine?, reduce }), or streaming commands\n' +
        '(--mapper/--reducer, Hadoop Streaming style). Output: <output>/part-r-NNNNN, _SUCCESS, _job.json.',
    )
    .argument('[job]', 'job module (.ts or .js) exporting defineJob(...)');
  addJobFlags(command)
    .option(
      '-w, --workers <n>',
      'worker threads; 0 runs in-process, in sequence (default: all cores)',
      parseCount,
    )
    .option('--verify', 're-run sequentially in-process and compare the outputs byte for byte')
    .option('--tmp-dir <dir>', 'directory for spills and map outputs (default: the OS temp dir)');
  addObserverFlags(command)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  tsmr run examples/wordcount.ts --input corpus/ --output out/wc\n' +
        "  tsmr run examples/grep.ts -i logs/ -o out/grep --param pattern='ERROR .*'\n" +
        '  tsmr run --mapper \'tr -s " " "\\n"\' --reducer \'uniq -c\' -i in/ -o out/\n' +
        '  tsmr run examples/terasort.ts -i tera/in -o tera/out   (total order; see tsmr teragen --help)\n' +
        '\nExit codes: 0 success, 1 job failed, 2 bad usage or input (nothing written), 130 interrupted.',
    )
    .action(async (jobPath: string | undefined, flags: RunFlags) => {
      await run(jobPath, flags);
    });
}

async function run(jobPath: string | undefined, flags: RunFlags): Promise<void> {
  const job = jobFrom('run', jobPath, flags);
  const observers = await startRunObservers(flags);
  const abort = new AbortController();
  const stopWatching = interruptOnSignals(abort);
  const { options, rest } = splitJobFlags(flags);
  const { dashboard, dashboardPort, monitorWorkers, ...local } = rest;
  const handle = runJob(job, { ...options, ...local, signal: abort.signal });
  observers.watch(handle);
  try {
    await showJob(handle, flags, observers.extraLines);
  } finally {
    stopWatching();
    await observers.close();
  }
}
