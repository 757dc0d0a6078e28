/**
 * `tsmr cancel <jobId>`: cancels a queued or running job on a cluster
 * (`CancelJob`) and prints its state after the call: `cancelled`, or how it
 * had already ended.
 */
import type { Command } from 'commander';
import { addConnectionFlags, type ConnectionFlags, clientOf } from './cluster-flags.ts';

export function register(program: Command): void {
  const command = program
    .command('cancel')
    .summary('cancel a job on a cluster')
    .argument('<jobId>', 'the job, as tsmr submit printed it')
    .option('--reason <text>', 'why, for the job report (default: cancelled by <user> with tsmr cancel)');
  addConnectionFlags(command).action(async (jobId: string, flags: ConnectionFlags & { reason?: string }) => {
    const client = clientOf(flags);
    try {
      const reason = flags.reason ?? `cancelled by ${process.env.USER ?? 'a user'} with tsmr cancel`;
      const state = await client.cancel(jobId, reason);
      process.stdout.write(`${jobId}: ${state}\n`);
    } finally {
      client.close();
    }
  });
}
