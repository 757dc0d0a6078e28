/**
 * `tsmr cluster start|status|stop`: a coordinator and workers on this
 * machine, in the background (`src/runtime/cluster/local-cluster.ts`), and
 * the hidden `tsmr cluster supervise` that parents them.
 */
import { Command } from 'commander';
import { alignColumns } from '../observe/columns.ts';
import { clusterDir, readClusterState } from '../runtime/cluster/cluster-state.ts';
import { clusterProcesses, startLocalCluster, stopLocalCluster } from '../runtime/cluster/local-cluster.ts';
import { runSupervisor } from '../runtime/cluster/local-supervisor.ts';
import { usageError } from '../errors.ts';
import { parseCount, parsePositive, parseTimeout } from './options.ts';

interface StartFlags {
  workers: number;
  slots: number;
  port: number;
  chaos?: number;
  workDir?: string;
}

export function register(program: Command): void {
  const cluster = program
    .command('cluster')
    .summary('a coordinator and workers on this machine, in the background')
    .description(
      'Run a whole cluster on this machine: tsmr cluster start, then tsmr submit/status/cancel find it\n' +
        'without flags (its URL and token are in $TSMR_CLUSTER_DIR, else $XDG_STATE_HOME/tsmr/cluster,\n' +
        'else ~/.local/state/tsmr/cluster), and tsmr cluster stop ends every process.',
    );
  cluster
    .command('start')
    .summary('start a coordinator and workers in the background')
    .option('--workers <n>', 'worker processes', parsePositive, 3)
    .option('--slots <n>', 'task slots per worker', parsePositive, 1)
    .option('--port <n>', 'port of the coordinator (default: a free one)', parseCount, 0)
    .option(
      '--chaos <interval>',
      'SIGKILL a random worker at this interval (e.g. 15s) and restart it',
      parseTimeout,
    )
    .option('--work-dir <dir>', 'where the processes keep their files (default: in the cluster directory)')
    .action(async (flags: StartFlags) => {
      if (flags.chaos === 0) throw usageError('--chaos needs an interval above 0, e.g. 15s');
      const dir = clusterDir();
      const state = await startLocalCluster({ dir, ...flags, chaosMs: flags.chaos });
      const workers = state.processes.filter((p) => p.role === 'worker').length;
      process.stdout.write(
        `tsmr: local cluster ready: coordinator ${state.url}, ${workers} worker${workers === 1 ? '' : 's'}` +
          `${flags.chaos === undefined ? '' : `, chaos every ${flags.chaos} ms`} (logs in ${dir}/logs)\n` +
          '  submit a job: tsmr submit examples/wordcount.ts -i <input> -o <output> --wait\n' +
          '  watch it:     tsmr status --workers --watch\n' +
          '  stop it:      tsmr cluster stop\n',
      );
    });
  cluster
    .command('status')
    .summary('the processes of the local cluster')
    .option('--json', 'print them as JSON')
    .action((flags: { json?: boolean }) => {
      const dir = clusterDir();
      const state = readClusterState(dir);
      if (state === undefined) throw usageError(`no local cluster is running (no state in ${dir})`);
      const processes = clusterProcesses(state);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ...state, processes }, null, 2)}\n`);
        return;
      }
      const rows = processes.map((p) => [
        p.role,
        p.id,
        String(p.pid),
        p.address ?? '-',
        p.state,
        String(p.restarts),
      ]);
      const table = alignColumns(
        [['role', 'id', 'pid', 'address', 'state', 'restarts'], ...rows],
        [false, false, true, false, false, true],
      );
      process.stdout.write(`local cluster ${state.url} (state in ${dir})\n${table.join('\n')}\n`);
    });
  cluster
    .command('stop')
    .summary('stop the local cluster: every process ends')
    .action(async () => {
      const dir = clusterDir();
      const processes = await stopLocalCluster(dir);
      const killed = processes.filter((p) => p.killed);
      process.stdout.write(
        `tsmr: local cluster stopped (${processes.length} processes` +
          `${killed.length > 0 ? `; SIGKILLed ${killed.map((p) => p.id).join(', ')}` : ''})\n`,
      );
    });
  cluster.addCommand(
    new Command('supervise')
      .requiredOption('--dir <dir>')
      .requiredOption('--token-file <file>')
      .requiredOption('--workers <n>', '', parsePositive)
      .requiredOption('--slots <n>', '', parsePositive)
      .requiredOption('--port <n>', '', parseCount)
      .option('--chaos <interval>', '', parseTimeout)
      .option('--work-dir <dir>')
      .action(async (flags: StartFlags & { dir: string; tokenFile: string }) => {
        await runSupervisor({ ...flags, chaosMs: flags.chaos });
      }),
    { hidden: true },
  );
}
