/**
 * The state file of the local cluster that `tsmr cluster start` runs on this
 * machine: where its coordinator listens, where its token is, and its
 * processes. `submit`, `status` and `cancel` read it to find the cluster
 * without flags; `tsmr cluster stop` removes it.
 *
 * Directory: `$TSMR_CLUSTER_DIR`, else `$XDG_STATE_HOME/tsmr/cluster`, else
 * `~/.local/state/tsmr/cluster` (the XDG Base Directory rule for state that
 * outlives a process but is not worth a backup). It holds `cluster.json`,
 * the `token` (mode 0600), and `logs/`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { usageError } from '../../errors.ts';

/** Overrides the directory of the local cluster (tests use a temporary one). */
export const CLUSTER_DIR_ENV = 'TSMR_CLUSTER_DIR';

export type ClusterRole = 'supervisor' | 'coordinator' | 'worker';

/** One process of the local cluster. */
export interface ClusterProcess {
  role: ClusterRole;
  /** `supervisor`, `coordinator`, or the worker id (`local-1`…). */
  id: string;
  pid: number;
  /** The coordinator's URL, a worker's shuffle URL. */
  address?: string;
  /** Its log file (stdout and stderr). */
  log: string;
  /** Times the supervisor restarted it (`--chaos`). */
  restarts: number;
}

export interface LocalClusterState {
  /** The coordinator's URL, e.g. `http://127.0.0.1:7070`. */
  url: string;
  /** The cluster token's file. */
  tokenFile: string;
  startedAt: number;
  /** `--chaos`: a random worker is SIGKILLed and restarted every this many ms. */
  chaosMs?: number;
  processes: ClusterProcess[];
}

/** The directory of the local cluster for `env`. */
export function clusterDir(env: Record<string, string | undefined> = process.env): string {
  const given = env[CLUSTER_DIR_ENV];
  if (given !== undefined && given !== '') return given;
  const state = env.XDG_STATE_HOME;
  return join(
    state !== undefined && state !== '' ? state : join(homedir(), '.local', 'state'),
    'tsmr',
    'cluster',
  );
}

export function statePath(dir: string): string {
  return join(dir, 'cluster.json');
}

/**
 * The state of the local cluster in `dir`, or undefined when none was started.
 * @throws TsmrError `TSMR_USAGE` when the file is not a state file.
 */
export function readClusterState(dir: string): LocalClusterState | undefined {
  let text: string;
  try {
    text = readFileSync(statePath(dir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw usageError(`cannot read the local cluster's state ${statePath(dir)}: ${(error as Error).message}`);
  }
  let state: Partial<LocalClusterState>;
  try {
    state = JSON.parse(text) as Partial<LocalClusterState>;
  } catch {
    state = {};
  }
  if (
    typeof state.url !== 'string' ||
    typeof state.tokenFile !== 'string' ||
    !Array.isArray(state.processes)
  ) {
    throw usageError(
      `${statePath(dir)} is not the state of a local cluster: remove it (rm ${statePath(dir)})`,
    );
  }
  return state as LocalClusterState;
}

/** Writes the state atomically (a temporary file renamed into place). */
export function writeClusterState(dir: string, state: LocalClusterState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${statePath(dir)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, statePath(dir));
}

export function removeClusterState(dir: string): void {
  rmSync(statePath(dir), { force: true });
}

/** Writes a new random cluster token (256 bits, hex) to `<dir>/token`, mode 0600; returns its path. */
export function writeNewToken(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'token');
  rmSync(path, { force: true });
  writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return path;
}
