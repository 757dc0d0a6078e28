/**
 * `tsmr worker`: runs a cluster worker on this machine until the coordinator
 * drains it or a signal stops it (`src/runtime/cluster/worker.ts`).
 *
 * Once registered it prints one line on stdout, which `tsmr cluster start`
 * reads:
 * `tsmr worker <id>: registered with <coordinator> (incarnation <n>), shuffle on <shuffleUrl>`.
 * Logs (pino JSON lines with worker, job, task and attempt ids) go to stderr.
 * Exit codes: 0 drained or stopped by SIGINT/SIGTERM, 1 refused or failed,
 * 2 bad usage.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { ErrorCode, ExitCode, isTsmrError, usageError } from '../errors.ts';
import { createLogger } from '../observe/logger.ts';
import { NAME } from '../runtime/cluster/wire-check.ts';
import { parseCount, parsePositive } from './options.ts';
import { interruptOnSignals } from './signals.ts';

/** The environment variable read when no `--coordinator` is given. */
export const COORDINATOR_ENV = 'TSMR_COORDINATOR';

interface WorkerFlags {
  coordinator?: string;
  tokenFile?: string;
  slots?: number;
  host?: string;
  port?: number;
  workDir?: string;
  workerId?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel?: string;
}

function parseWorkerId(text: string): string {
  if (!NAME.test(text)) {
    throw new InvalidArgumentError(
      `a worker id is 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit; got '${text}'`,
    );
  }
  return text;
}

function parsePort(text: string): number {
  const port = parseCount(text);
  if (port > 65_535) throw new InvalidArgumentError(`expected a port from 0 to 65535, got '${text}'`);
  return port;
}

export function register(program: Command): void {
  program
    .command('worker')
    .summary('run a cluster worker: task attempts for a coordinator, and a shuffle server')
    .description(
      'Run a cluster worker on this machine: it registers with the coordinator, runs the task attempts\n' +
        'it leases in --slots threads, and serves its map outputs to the other workers (HTTP, signed per\n' +
        'job with a key derived from the cluster token). Input and output paths must be on a file system\n' +
        'every worker shares. Runs until the coordinator drains it, or SIGINT/SIGTERM.',
    )
    .option('--coordinator <url>', `coordinator URL, http(s)://host:port (default: $${COORDINATOR_ENV})`)
    .option(
      '--token-file <path>',
      'file holding the cluster token (default: $TSMR_TOKEN; none: loopback only)',
    )
    .option('--slots <n>', 'task slots (threads running attempts) (default: all cores)', parsePositive)
    .option(
      '--host <addr>',
      'address the shuffle server binds and advertises (default: the interface that reaches the coordinator)',
    )
    .option('--port <n>', 'shuffle (and /metrics) port; 0 picks a free one (default 0)', parsePort)
    .option(
      '--work-dir <dir>',
      'map outputs, attempt scratch and the job bundle cache (default: a new directory in the OS temp dir, deleted at exit)',
    )
    .option('--worker-id <id>', 'name of this worker (default: <host name>-<shuffle port>)', parseWorkerId)
    .option('--tls-ca <file>', 'PEM CA certificate to trust for an https coordinator and shuffle servers')
    .option('--tls-cert <file>', 'PEM certificate to serve the shuffle over HTTPS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (default: info)')
    .addHelpText(
      'after',
      '\nExample:\n' +
        '  tsmr worker --coordinator http://coord:7070 --token-file secret --slots 2\n' +
        '\nOnce registered it prints:\n' +
        '  tsmr worker <id>: registered with <url> (incarnation <n>), shuffle on <shuffle url>\n' +
        '\nExit codes: 0 drained by the coordinator or stopped by a signal, 1 refused or failed, 2 bad usage.',
    )
    .action(async (flags: WorkerFlags) => {
      await runWorker(flags);
    });
}

function readPem(path: string | undefined, flag: string): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw usageError(`cannot read ${flag} ${path}: ${(error as Error).message}`);
  }
}

async function runWorker(flags: WorkerFlags): Promise<void> {
  const coordinator = flags.coordinator ?? process.env[COORDINATOR_ENV];
  if (coordinator === undefined || coordinator === '') {
    throw usageError(`give the coordinator's URL: --coordinator http://host:port (or $${COORDINATOR_ENV})`);
  }
  const [{ startWorker }, { readClusterToken }] = await Promise.all([
    import('../runtime/cluster/worker.ts'),
    import('../runtime/cluster/token.ts'),
  ]);
  const token = readClusterToken({ tokenFile: flags.tokenFile })?.token;
  const tls = {
    ca: readPem(flags.tlsCa, '--tls-ca'),
    cert: readPem(flags.tlsCert, '--tls-cert'),
    key: readPem(flags.tlsKey, '--tls-key'),
  };
  const log = createLogger({
    level: flags.logLevel ?? (process.env.TSMR_LOG_LEVEL?.trim() ? undefined : 'info'),
  });
  const ownWorkDir = flags.workDir === undefined ? mkdtempSync(join(tmpdir(), 'tsmr-worker-')) : undefined;
  const stop = new AbortController();
  const stopWatching = interruptOnSignals(stop, { action: 'stopping the worker', watchParent: false });
  try {
    const worker = await startWorker({
      coordinator,
      token,
      slots: flags.slots,
      host: flags.host,
      port: flags.port,
      workDir: ownWorkDir ?? resolve(flags.workDir as string),
      workerId: flags.workerId,
      tls,
      log,
      signal: stop.signal,
    });
    process.stdout.write(
      `tsmr worker ${worker.id}: registered with ${coordinator} (incarnation ${worker.incarnation()}), ` +
        `shuffle on ${worker.shuffleUrl}\n`,
    );
    await worker.closed;
  } catch (error) {
    // Stopped by a signal while registering: as after it, a clean stop.
    if (!(stop.signal.aborted && isTsmrError(error) && error.code === ErrorCode.CANCELLED)) throw error;
  } finally {
    stopWatching();
    if (ownWorkDir !== undefined) rmSync(ownWorkDir, { recursive: true, force: true });
  }
  process.exitCode = ExitCode.OK;
}
