/**
 * A cluster on this machine, in the background: `tsmr cluster start`,
 * `status` and `stop`. One detached supervisor process
 * (`local-supervisor.ts`) is the parent of a coordinator and N workers, all
 * on 127.0.0.1 with a fresh random token; the state file
 * (`cluster-state.ts`) lets `submit`, `status` and `cancel` find them.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ErrorCode, TsmrError, usageError } from '../../errors.ts';
import { createClusterClient, resolveConnection } from './client.ts';
import { readClusterState, removeClusterState, writeNewToken } from './cluster-state.ts';
import type { ClusterProcess, LocalClusterState } from './cluster-state.ts';
import { tsmrCommand } from './local-supervisor.ts';
import type { SupervisorOptions } from './local-supervisor.ts';

/** How long `start` waits for every process to be ready, ms. */
export const START_TIMEOUT_MS = 60_000;
/** How long `stop` waits for every process to exit before it SIGKILLs the rest, ms. */
export const STOP_TIMEOUT_MS = 20_000;

/**
 * True while a tsmr process with this pid runs: not a zombie (exited, not yet
 * reaped), and, where `/proc` tells, running `tsmr.js` (a pid from an old
 * state file may have been reused by another program, which must not be
 * signalled).
 */
export function isRunning(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    if (/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('tsmr.js');
  } catch {
    return process.platform !== 'linux';
  }
}

/** The processes of the local cluster, each with whether it still runs. */
export function clusterProcesses(
  state: LocalClusterState,
): Array<ClusterProcess & { state: 'running' | 'exited' }> {
  return state.processes.map((p) => ({ ...p, state: isRunning(p.pid) ? 'running' : 'exited' }));
}

/**
 * Starts a local cluster in `opts.dir` and returns once every process is
 * ready. Its processes outlive this one.
 * @throws TsmrError `TSMR_USAGE` when one is already running there; when a
 *   process exits before it is ready or is not ready within
 *   {@link START_TIMEOUT_MS} (`TSMR_INTERNAL`, naming its log file), after
 *   stopping the others.
 */
export async function startLocalCluster(
  opts: Omit<SupervisorOptions, 'tokenFile'>,
): Promise<LocalClusterState> {
  const existing = readClusterState(opts.dir);
  if (existing !== undefined) {
    const live = clusterProcesses(existing).filter((p) => p.state === 'running');
    if (live.length > 0) {
      throw usageError(
        `a local cluster is already running (coordinator ${existing.url}, ${live.length} processes, state in ${opts.dir}): ` +
          'stop it first with tsmr cluster stop',
      );
    }
    removeClusterState(opts.dir);
  }
  const tokenFile = writeNewToken(opts.dir);
  mkdirSync(join(opts.dir, 'logs'), { recursive: true });
  const logFd = openSync(join(opts.dir, 'logs', 'supervisor.log'), 'a');
  const args = [
    ...['cluster', 'supervise', '--dir', opts.dir, '--token-file', tokenFile],
    ...['--workers', String(opts.workers), '--slots', String(opts.slots), '--port', String(opts.port)],
    ...(opts.workDir === undefined ? [] : ['--work-dir', opts.workDir]),
    ...(opts.chaosMs === undefined ? [] : ['--chaos', `${opts.chaosMs}ms`]),
  ];
  const supervisor = spawn(...tsmrCommand(args), {
    detached: true,
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  closeSync(logFd);
  try {
    const answer = await new Promise<{ ready?: LocalClusterState; error?: string }>((resolve) => {
      const timer = setTimeout(
        () => resolve({ error: `not ready within ${START_TIMEOUT_MS / 1000} s` }),
        START_TIMEOUT_MS,
      );
      supervisor.once('message', (m: { ready?: LocalClusterState; error?: string }) => {
        clearTimeout(timer);
        resolve(m);
      });
      supervisor.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ error: `the supervisor exited (code ${code})` });
      });
    });
    if (answer.ready !== undefined) return answer.ready;
    supervisor.kill('SIGTERM');
    throw new TsmrError(
      ErrorCode.INTERNAL,
      `the local cluster did not start: ${answer.error}; logs in ${join(opts.dir, 'logs')}`,
    );
  } finally {
    if (supervisor.connected) supervisor.disconnect();
    supervisor.unref();
  }
}

/**
 * Stops the local cluster in `dir`: `Shutdown` to its coordinator (which
 * drains the workers), then waits for every process to exit, SIGKILLs what is
 * left after `timeoutMs`, and removes the state file and the token.
 * @returns the processes and whether each had to be killed.
 * @throws TsmrError `TSMR_USAGE` when no local cluster was started there.
 */
export async function stopLocalCluster(
  dir: string,
  timeoutMs = STOP_TIMEOUT_MS,
): Promise<Array<ClusterProcess & { killed: boolean }>> {
  const state = readClusterState(dir);
  if (state === undefined) throw usageError(`no local cluster is running (no state in ${dir})`);
  const client = createClusterClient(
    resolveConnection({ coordinator: state.url, tokenFile: state.tokenFile }),
  );
  try {
    await client.shutdown('tsmr cluster stop');
  } catch {
    // Not answering: its processes are signalled below.
  } finally {
    client.close();
  }
  const deadline = Date.now() + timeoutMs;
  const live = (): ClusterProcess[] =>
    (readClusterState(dir) ?? state).processes.filter((p) => isRunning(p.pid));
  while (live().length > 0 && Date.now() < deadline) await delay(100);
  const killed = new Set<number>();
  const kill = (p: ClusterProcess): void => {
    process.kill(p.pid, 'SIGKILL');
    killed.add(p.pid);
  };
  // The supervisor first, so that it restarts nothing; then what is left (the state may name new pids).
  live()
    .filter((p) => p.role === 'supervisor')
    .forEach(kill);
  live().forEach(kill);
  const reaped = Date.now() + 5000;
  while (live().length > 0 && Date.now() < reaped) await delay(50);
  const final = readClusterState(dir) ?? state;
  removeClusterState(dir);
  rmSync(state.tokenFile, { force: true });
  return final.processes.map((p) => ({ ...p, killed: killed.has(p.pid) }));
}
