/**
 * Where a cluster worker listens and what it calls itself, when not told.
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { ErrorCode, TsmrError } from '../../errors.ts';

/**
 * The address of this machine's interface that reaches `url`'s host: a UDP
 * socket is connected to it (which sends nothing; the kernel only picks the
 * route and source address) and its local address read. Loopback for a
 * coordinator on this machine.
 * @throws TsmrError `TSMR_IO` when the host does not resolve or has no route.
 */
export async function addressTowards(url: string): Promise<string> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  let socket: dgram.Socket | undefined;
  try {
    const { address, family } = await lookup(host);
    const udp = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    socket = udp;
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.connect(Number(target.port) || 80, address, () => resolve());
    });
    return udp.address().address;
  } catch (cause) {
    throw new TsmrError(
      ErrorCode.IO,
      `cannot find the local address that reaches the coordinator ${url}: ${(cause as Error).message}; give --host`,
      { cause, details: { url } },
    );
  } finally {
    socket?.close();
  }
}

/** True for `0.0.0.0`, `::` and the empty host: bind every interface. */
export function isWildcardHost(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
}

/**
 * The default worker id, `<host name>-<shuffle port>`, made to fit the
 * worker-id pattern of `wire-check.ts` (`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`):
 * other characters become `-`, and a name that does not start with a letter
 * or digit gets a `w` in front.
 */
export function defaultWorkerId(port: number, host = hostname()): string {
  let id = `${host}-${port}`.replace(/[^A-Za-z0-9._-]/g, '-');
  if (!/^[A-Za-z0-9]/.test(id)) id = `w${id}`;
  return id.length > 128 ? `${id.slice(0, 127 - String(port).length)}-${port}` : id;
}
