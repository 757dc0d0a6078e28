/**
 * `tsmr coordinator`: runs a cluster's coordinator in the foreground
 * (`src/runtime/cluster/coordinator.ts`) until SIGINT/SIGTERM or a
 * `Shutdown` RPC (`tsmr cluster stop`).
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { usageError } from '../errors.ts';
import { createLogger } from '../observe/logger.ts';
import { coordinatorDefaults, startCoordinator } from '../runtime/cluster/coordinator.ts';
import { readClusterToken } from '../runtime/cluster/token.ts';
import { parsePositive, parseTimeout } from './options.ts';

interface CoordinatorFlags {
  host: string;
  port: number;
  tokenFile?: string;
  heartbeatInterval: number;
  missedHeartbeats: number;
  workDir?: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel?: string;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('must be a port number from 0 to 65535 (0: a free one)');
  }
  return port;
}

function parseInterval(text: string): number {
  const ms = parseTimeout(text);
  if (ms < 10) throw new InvalidArgumentError('must be at least 10ms');
  return ms;
}

export function register(program: Command): void {
  program
    .command('coordinator')
    .summary('run the coordinator of a cluster (workers register with it; jobs are submitted to it)')
    .description(
      'Serve the cluster’s control plane on one port: workers register, send heartbeats and take task\n' +
        'leases; clients upload jobs, submit them and watch them (tsmr submit, status, cancel). Jobs run\n' +
        'one at a time in submission order on every worker’s slots, with the scheduler of tsmr run.\n' +
        'Inputs and outputs must be on a file system every worker and the coordinator see.\n' +
        'Without a token (--token-file or TSMR_TOKEN) it listens on loopback only.',
    )
    .option('--host <addr>', 'address to listen on', coordinatorDefaults.host)
    .option('--port <n>', 'port to listen on (0: a free one)', parsePort, coordinatorDefaults.port)
    .option('--token-file <path>', 'file holding the cluster token (mode 0600; or env TSMR_TOKEN)')
    .option(
      '--heartbeat-interval <duration>',
      'how often workers send heartbeats (e.g. 2s, 500ms)',
      parseInterval,
      coordinatorDefaults.heartbeatIntervalMs,
    )
    .option(
      '--missed-heartbeats <n>',
      'heartbeat intervals without one before a worker is declared dead',
      parsePositive,
      coordinatorDefaults.missedHeartbeats,
    )
    .option('--work-dir <dir>', 'holds uploaded job bundles and job scratch (default: under the OS temp dir)')
    .option('--tls-cert <file>', 'serve TLS with this PEM certificate (needs --tls-key)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option('--log-level <level>', 'log level on stderr (default: env TSMR_LOG_LEVEL, else info)')
    .addHelpText(
      'after',
      '\nExample:\n  tsmr coordinator --host 0.0.0.0 --port 7070 --token-file secret\n' +
        '\nPrints "tsmr coordinator: listening on <url>" once it listens; SIGINT/SIGTERM shut it down.',
    )
    .action(async (flags: CoordinatorFlags) => {
      if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
        throw usageError('--tls-cert and --tls-key go together');
      }
      const token = readClusterToken({ tokenFile: flags.tokenFile })?.token;
      const log = createLogger({ level: flags.logLevel ?? process.env.TSMR_LOG_LEVEL ?? 'info' });
      const coordinator = await startCoordinator({
        host: flags.host,
        port: flags.port,
        token,
        tls: flags.tlsCert
          ? { cert: readFileSync(flags.tlsCert), key: readFileSync(flags.tlsKey!) }
          : undefined,
        heartbeatIntervalMs: flags.heartbeatInterval,
        missedHeartbeats: flags.missedHeartbeats,
        workDir: flags.workDir ?? join(tmpdir(), `tsmr-coordinator-${process.pid}`),
        log,
      });
      process.stdout.write(`tsmr coordinator: listening on ${coordinator.url}\n`);
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (++signals > 1) process.exit(130);
        process.stderr.write(`tsmr coordinator: ${signal}: shutting down (again to stop at once)\n`);
        void coordinator.close(`received ${signal}`);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      await coordinator.closed;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });
}
