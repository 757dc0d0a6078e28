/**
 * The flags that find a coordinator (`--coordinator`, `--token-file`), for
 * `tsmr submit`, `status` and `cancel`.
 */
import type { Command } from 'commander';
import { createClusterClient, resolveConnection } from '../runtime/cluster/client.ts';
import type { ClusterClient, ClusterConnection } from '../runtime/cluster/client.ts';

export interface ConnectionFlags {
  coordinator?: string;
  tokenFile?: string;
}

export function addConnectionFlags(command: Command): Command {
  return command
    .option(
      '--coordinator <url>',
      'the coordinator, http://host:port (default: $TSMR_COORDINATOR, else the cluster of tsmr cluster start)',
    )
    .option(
      '--token-file <file>',
      'file holding the cluster token (default: $TSMR_TOKEN, else the token of tsmr cluster start)',
    );
}

/** The coordinator and token the flags, the environment or the local cluster name. */
export function connectionOf(flags: ConnectionFlags): ClusterConnection {
  return resolveConnection({ coordinator: flags.coordinator, tokenFile: flags.tokenFile });
}

/** A client of the coordinator the flags name; close it when done. */
export function clientOf(flags: ConnectionFlags): ClusterClient {
  return createClusterClient(connectionOf(flags));
}
