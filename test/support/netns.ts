/**
 * Separate hosts for tests: Linux network namespaces made by the test, one
 * per host, each with a veth pair whose other end sits on a bridge in a
 * namespace of its own (DESIGN.md §9). Addresses are 10.200.<subnet>.0/24
 * and exist inside these namespaces only; nothing is routed outside them.
 * The file system is shared, as a cluster's shared file system would be.
 *
 * Needs root and `ip` (iproute2); {@link netnsUnavailable} says why not.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export interface NetHost {
  /** Namespace name. */
  readonly ns: string;
  readonly address: string;
  /** The bridge-side end of its veth pair (in the bridge namespace): cut it to cut the host off. */
  readonly link: string;
}

/** Why network namespaces cannot be made here, or undefined when they can. */
export const netnsUnavailable: string | undefined = (() => {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = `tsmr-probe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error !== undefined) return `no ip command (iproute2): ${add.error.message}`;
  if (add.status !== 0) return `ip netns add failed: ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
})();

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A bridge and hosts on it; `close()` deletes every namespace (their veths go with them). */
export class NetLab {
  readonly hosts: NetHost[] = [];
  readonly #bridgeNs: string;
  readonly #prefix: string;
  readonly #subnet: number;

  /** @param subnet third octet of 10.200.x.0/24 (one per test file running at once). */
  constructor(subnet: number) {
    this.#subnet = subnet;
    this.#prefix = `tsmr${process.pid % 100000}`;
    this.#bridgeNs = `${this.#prefix}-br`;
    ip('netns', 'add', this.#bridgeNs);
    ip('-n', this.#bridgeNs, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', this.#bridgeNs, 'link', 'set', 'br0', 'up');
  }

  /** Adds host `name` at 10.200.<subnet>.<octet>. */
  addHost(name: string, octet: number): NetHost {
    const ns = `${this.#prefix}-${name}`;
    const link = `${name}-br`;
    const address = `10.200.${this.#subnet}.${octet}`;
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', link, 'netns', this.#bridgeNs);
    ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', this.#bridgeNs, 'link', 'set', link, 'master', 'br0');
    ip('-n', this.#bridgeNs, 'link', 'set', link, 'up');
    const host = { ns, address, link };
    this.hosts.push(host);
    return host;
  }

  /** Cuts (`up = false`) or heals the link between `host` and the bridge. */
  setLink(host: NetHost, up: boolean): void {
    ip('-n', this.#bridgeNs, 'link', 'set', host.link, up ? 'up' : 'down');
  }

  /** The command line that runs `argv` inside `host`'s namespace. */
  exec(host: NetHost, argv: readonly string[]): string[] {
    return ['ip', 'netns', 'exec', host.ns, ...argv];
  }

  close(): void {
    for (const ns of [...this.hosts.map((h) => h.ns), this.#bridgeNs]) {
      spawnSync('ip', ['netns', 'del', ns]);
    }
    this.hosts.length = 0;
  }
}
