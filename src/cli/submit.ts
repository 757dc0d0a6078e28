/**
 * `tsmr submit`: runs a job on a cluster. Without `--wait` it prints the job
 * id and returns once the coordinator has queued the job; with `--wait` it
 * follows the job as `tsmr run` does (progress, report, exit codes), and
 * Ctrl-C cancels it on the cluster.
 */
import type { Command } from 'commander';
import { usageError } from '../errors.ts';
import { followClusterJob, submitToCluster } from '../runtime/cluster/client-submit.ts';
import { JobHandle } from '../runtime/run-job.ts';
import { addConnectionFlags, type ConnectionFlags, connectionOf } from './cluster-flags.ts';
import { addJobFlags, type JobFlags, jobFrom, showJob, splitJobFlags } from './job-flags.ts';
import { addObserverFlags, type ObserverFlags, startRunObservers } from './run-observers.ts';
import { interruptOnSignals } from './signals.ts';

interface SubmitFlags extends JobFlags, ConnectionFlags, ObserverFlags {
  wait?: boolean;
  /** False with `--no-speculation`. */
  speculation: boolean;
}

export function register(program: Command): void {
  const command = program
    .command('submit')
    .summary('run a job on a cluster (tsmr coordinator + tsmr worker, or tsmr cluster start)')
    .description(
      'Submit a MapReduce job to a coordinator. The job module is bundled (with its imports) and uploaded;\n' +
        'inputs, output and --file paths must be on a file system every worker reads (relative paths are\n' +
        'made absolute here). Prints the job id, or with --wait follows the job as tsmr run does.',
    )
    .argument('[job]', 'job module (.ts or .js) exporting defineJob(...)');
  addJobFlags(command);
  addConnectionFlags(command)
    .option('--wait', 'follow the job: progress, report, exit code; Ctrl-C cancels it')
    .option('--no-speculation', 'no speculative backup attempts for stragglers (default: on)');
  addObserverFlags(command)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  tsmr submit examples/wordcount.ts -i /shared/in -o /shared/out -r 8 --wait\n' +
        '  tsmr submit examples/wordcount.ts -i /shared/in -o /shared/out --wait --dashboard --monitor-workers\n' +
        '  tsmr submit examples/wordcount.ts --coordinator http://coord:7070 --token-file secret -i /shared/in -o /shared/out\n' +
        '  tsmr submit --mapper \'tr -s " " "\\n"\' --reducer \'uniq -c\' -i /shared/in -o /shared/out --wait\n' +
        '\nExit codes: 0 submitted (with --wait: succeeded), 1 job failed or coordinator unreachable,\n' +
        '2 bad usage, job or token (nothing submitted), 130 interrupted (the job is cancelled).',
    )
    .action(async (jobPath: string | undefined, flags: SubmitFlags) => {
      await submit(jobPath, flags);
    });
}

async function submit(jobPath: string | undefined, flags: SubmitFlags): Promise<void> {
  const job = jobFrom('submit', jobPath, flags);
  if ((flags.dashboard || flags.monitorWorkers) && !flags.wait) {
    throw usageError('--dashboard and --monitor-workers follow the job: give --wait too');
  }
  const { options } = splitJobFlags(flags);
  const { url, token } = connectionOf(flags);
  const abort = new AbortController();
  const stopWatching = interruptOnSignals(abort);
  try {
    const submitted = await submitToCluster(job, {
      ...options,
      coordinator: url,
      token,
      speculation: flags.speculation ? undefined : false,
    });
    const { jobId } = submitted;
    if (!flags.wait) {
      submitted.client.close();
      if (flags.json) process.stdout.write(`${JSON.stringify({ jobId, coordinator: url })}\n`);
      else process.stdout.write(`${jobId}\n`);
      if (!flags.quiet && !flags.json) {
        process.stderr.write(
          `tsmr: submitted to ${url}; follow it with: tsmr status --job ${jobId} --watch\n`,
        );
      }
      return;
    }
    if (!flags.quiet && !flags.json) {
      process.stderr.write(`tsmr: submitted ${jobId} to ${url} (Ctrl-C cancels it)\n`);
    }
    const observers = await startRunObservers(flags, {
      kind: 'cluster',
      status: () => submitted.client.status(),
    });
    const handle = new JobHandle((h) => followClusterJob(h, submitted, abort.signal));
    observers.watch(handle);
    try {
      await showJob(handle, flags, observers.extraLines);
    } finally {
      await observers.close();
    }
  } finally {
    stopWatching();
  }
}
