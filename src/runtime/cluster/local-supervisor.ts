/**
 * The supervisor of a local cluster (`tsmr cluster supervise`, started by
 * `tsmr cluster start`): the parent of its coordinator and workers, for the
 * cluster's whole life.
 *
 * - It starts the coordinator (`tsmr coordinator --host 127.0.0.1`), reads
 *   its URL from its ready line, then starts the workers and waits for each
 *   one's ready line; every child's stdout and stderr go to its log file.
 * - Once all are ready it writes the state file and tells its parent
 *   (`process.send({ ready })`, over the IPC channel `cluster start` opened);
 *   a child that exits first fails the start (`{ error }`).
 * - `--chaos <ms>`: at that interval it SIGKILLs a random worker and starts
 *   it again under the same worker id (failure injection).
 * - When the coordinator exits (a `Shutdown` RPC, `tsmr cluster stop`) it
 *   waits for the drained workers to exit (SIGTERM after
 *   {@link DRAIN_GRACE_MS}, SIGKILL after as long again), then exits.
 *   SIGTERM or SIGINT does the same, SIGTERMing the coordinator first.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { writeClusterState } from './cluster-state.ts';
import type { ClusterProcess, LocalClusterState } from './cluster-state.ts';

/** The `tsmr` command of this installation. */
export const TSMR_BIN = fileURLToPath(new URL('../../../bin/tsmr.js', import.meta.url));

/**
 * How this process runs `tsmr <args>`: Node, this process's `--conditions`
 * (so that `bin/tsmr.js` need not start Node again, which would lose an IPC
 * channel), `bin/tsmr.js`.
 */
export function tsmrCommand(args: readonly string[]): [string, string[]] {
  const conditions = process.execArgv.filter((a) => a.startsWith('--conditions'));
  return [process.execPath, [...conditions, TSMR_BIN, ...args]];
}

/** How long drained workers get to exit after the coordinator did, ms (then SIGTERM, then SIGKILL). */
export const DRAIN_GRACE_MS = 10_000;

export interface SupervisorOptions {
  dir: string;
  tokenFile: string;
  workers: number;
  slots: number;
  port: number;
  /** Where the coordinator and workers keep their files (default `<dir>/work`). */
  workDir?: string;
  chaosMs?: number;
}

const COORDINATOR_READY = /^tsmr coordinator: listening on (\S+)$/;
const WORKER_READY = /^tsmr worker (\S+): registered with \S+ \(incarnation \d+\), shuffle on (\S+)$/;

interface Child {
  entry: ClusterProcess;
  args: string[];
  process: ChildProcess;
  ready: boolean;
  exited: Promise<void>;
  log: WriteStream;
}

/** Runs the supervisor in this process until the cluster has stopped. */
export async function runSupervisor(opts: SupervisorOptions): Promise<void> {
  const logs = join(opts.dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const work = opts.workDir ?? join(opts.dir, 'work');
  let stopping = false;
  const state: LocalClusterState = {
    url: '',
    tokenFile: opts.tokenFile,
    startedAt: Date.now(),
    chaosMs: opts.chaosMs,
    processes: [
      {
        role: 'supervisor',
        id: 'supervisor',
        pid: process.pid,
        log: join(logs, 'supervisor.log'),
        restarts: 0,
      },
    ],
  };
  const children: Child[] = [];
  const save = (): void => writeClusterState(opts.dir, state);

  /** Starts a child; resolves with its ready line's captures, rejects if it exits first. */
  const start = (
    entry: ClusterProcess,
    args: string[],
    ready: RegExp,
  ): { child: Child; ready: Promise<RegExpExecArray> } => {
    const log = createWriteStream(entry.log, { flags: 'a' });
    const proc = spawn(...tsmrCommand(args), { stdio: ['ignore', 'pipe', 'pipe'] });
    entry.pid = proc.pid ?? 0;
    proc.stderr?.pipe(log, { end: false });
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const child: Child = { entry, args, process: proc, ready: false, exited, log };
    const readyLine = new Promise<RegExpExecArray>((resolve, reject) => {
      createInterface({ input: proc.stdout! }).on('line', (line) => {
        log.write(`${line}\n`);
        const m = ready.exec(line);
        if (m) {
          child.ready = true;
          resolve(m);
        }
      });
      proc.once('exit', (code, signal) =>
        reject(
          new Error(`${entry.id} exited (${signal ?? `code ${code}`}) before it was ready; see ${entry.log}`),
        ),
      );
    });
    readyLine.catch(() => {});
    return { child, ready: readyLine };
  };

  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const coordinator = children.find((c) => c.entry.role === 'coordinator');
    coordinator?.process.kill('SIGTERM');
    await coordinator?.exited;
    const workers = children.filter((c) => c.entry.role === 'worker');
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const all = Promise.all(workers.map((w) => w.exited));
      const timer = new Promise((resolve) => setTimeout(resolve, DRAIN_GRACE_MS).unref());
      if ((await Promise.race([all.then(() => true), timer.then(() => false)])) === true) break;
      for (const w of workers) w.process.kill(signal);
    }
    await Promise.all(workers.map((w) => w.exited));
  };
  process.on('SIGTERM', () => void stopAll());
  process.on('SIGINT', () => void stopAll());

  try {
    const coordinatorEntry: ClusterProcess = {
      role: 'coordinator',
      id: 'coordinator',
      pid: 0,
      log: join(logs, 'coordinator.log'),
      restarts: 0,
    };
    const c = start(
      coordinatorEntry,
      [
        ...['coordinator', '--host', '127.0.0.1', '--port', String(opts.port)],
        ...['--token-file', opts.tokenFile, '--work-dir', join(work, 'coordinator')],
      ],
      COORDINATOR_READY,
    );
    children.push(c.child);
    state.processes.push(coordinatorEntry);
    state.url = coordinatorEntry.address = (await c.ready)[1];
    const workersReady = Array.from({ length: opts.workers }, (_, i) => {
      const id = `local-${i + 1}`;
      const entry: ClusterProcess = { role: 'worker', id, pid: 0, log: join(logs, `${id}.log`), restarts: 0 };
      const args = [
        ...['worker', '--coordinator', state.url, '--token-file', opts.tokenFile],
        ...[
          '--slots',
          String(opts.slots),
          '--host',
          '127.0.0.1',
          '--work-dir',
          join(work, id),
          '--worker-id',
          id,
        ],
      ];
      const w = start(entry, args, WORKER_READY);
      children.push(w.child);
      state.processes.push(entry);
      return w.ready.then((m) => void (entry.address = m[2]));
    });
    await Promise.race([
      Promise.all(workersReady),
      c.child.exited.then(() =>
        Promise.reject(new Error(`the coordinator exited; see ${coordinatorEntry.log}`)),
      ),
    ]);
    save();
    process.send?.({ ready: state });
  } catch (error) {
    process.send?.({ error: (error as Error).message });
    await stopAll();
    process.exitCode = 1;
    return;
  } finally {
    process.disconnect?.();
  }

  const chaos =
    opts.chaosMs === undefined
      ? undefined
      : setInterval(() => {
          const live = children.filter(
            (ch) => ch.entry.role === 'worker' && ch.ready && ch.process.exitCode === null,
          );
          const victim = live[Math.floor(Math.random() * live.length)];
          if (victim === undefined || stopping) return;
          process.stdout.write(`chaos: SIGKILL ${victim.entry.id} (pid ${victim.entry.pid})\n`);
          victim.process.kill('SIGKILL');
          void victim.exited.then(() => {
            if (stopping) return;
            const again = start(victim.entry, victim.args, WORKER_READY);
            children[children.indexOf(victim)] = again.child;
            victim.entry.restarts++;
            save();
            again.ready.then(
              (m) => {
                victim.entry.address = m[2];
                save();
              },
              (error: Error) => process.stdout.write(`chaos: ${error.message}\n`),
            );
          });
        }, opts.chaosMs);

  const coordinator = children.find((ch) => ch.entry.role === 'coordinator')!;
  await coordinator.exited;
  clearInterval(chaos);
  await stopAll();
}
