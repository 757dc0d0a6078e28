/**
 * A cluster of real processes for tests: one `tsmr coordinator` and N
 * `tsmr worker`s on loopback, each a child process the test can SIGKILL,
 * SIGSTOP and restart; `stop()` leaves none behind.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ClientService } from '../../src/runtime/cluster/gen/tsmr/cluster/v1/client_service_pb.js';
import { createRpcClient, createRpcTransport } from '../../src/runtime/cluster/rpc-client.ts';
import { type ClusterStatus, statusFromWire } from '../../src/runtime/cluster/wire-status.ts';
import { pollUntil } from './poll.ts';
import { repoRoot } from './run-cli.ts';

type Child = ChildProcessByStdio<null, Readable, Readable>;

export interface ClusterProcess {
  readonly role: 'coordinator' | 'worker';
  readonly name: string;
  child: Child;
  /** Everything it wrote to stdout and stderr so far (for failure messages). */
  output(): string;
}

export interface TestClusterOptions {
  workers: number;
  slots?: number;
  /** Coordinator `--heartbeat-interval`, ms (default 200: tests find dead workers fast). */
  heartbeatIntervalMs?: number;
  /** Coordinator `--missed-heartbeats` (default 5). */
  missedHeartbeats?: number;
  /** Extra environment of every process. */
  env?: NodeJS.ProcessEnv;
  /**
   * Where each process runs (default: here, on 127.0.0.1): a command prefix
   * (e.g. `ip netns exec <ns>`) and the address it listens on and advertises.
   */
  placement?: { coordinator?: Placement; workers?: Array<Placement | undefined> };
  /** How to get the coordinator's status when the test cannot reach it (another network namespace). */
  status?: (url: string) => Promise<ClusterStatus>;
}

export interface Placement {
  prefix: string[];
  /** Default 127.0.0.1. */
  host?: string;
}

/** The token every test cluster uses. */
export const CLUSTER_TOKEN = 'test-cluster-token-0123456789abcdef';

export class TestCluster {
  readonly dir: string;
  readonly tokenFile: string;
  url = '';
  coordinator!: ClusterProcess;
  readonly workers: ClusterProcess[] = [];
  readonly #opts: TestClusterOptions;
  readonly #all: ClusterProcess[] = [];

  constructor(opts: TestClusterOptions) {
    this.#opts = opts;
    this.dir = mkdtempSync(join(tmpdir(), 'tsmr-test-cluster-'));
    this.tokenFile = join(this.dir, 'token');
    writeFileSync(this.tokenFile, `${CLUSTER_TOKEN}\n`, { mode: 0o600 });
  }

  /** Starts the coordinator and the workers; resolves when every worker is registered. */
  async start(): Promise<this> {
    const place = this.#opts.placement?.coordinator;
    this.coordinator = this.#spawn('coordinator', 'coordinator', place?.prefix ?? [], [
      'coordinator',
      '--host',
      place?.host ?? '127.0.0.1',
      '--port',
      '0',
      '--token-file',
      this.tokenFile,
      '--heartbeat-interval',
      `${this.#opts.heartbeatIntervalMs ?? 200}ms`,
      '--missed-heartbeats',
      String(this.#opts.missedHeartbeats ?? 5),
      '--work-dir',
      join(this.dir, 'coordinator'),
    ]);
    const line = await this.#readyLine(this.coordinator, /listening on (\S+)/);
    this.url = line[1]!;
    for (let i = 0; i < this.#opts.workers; i++) this.workers.push(this.startWorker(i));
    await this.waitForWorkers(this.#opts.workers);
    return this;
  }

  /** Starts worker `w<index>` (again, after a kill: same id and work dir). */
  startWorker(index: number): ClusterProcess {
    const name = `w${index}`;
    const workDir = join(this.dir, name);
    mkdirSync(workDir, { recursive: true });
    const place = this.#opts.placement?.workers?.[index];
    const worker = this.#spawn('worker', name, place?.prefix ?? [], [
      'worker',
      '--coordinator',
      this.url,
      '--token-file',
      this.tokenFile,
      '--slots',
      String(this.#opts.slots ?? 1),
      '--host',
      place?.host ?? '127.0.0.1',
      '--worker-id',
      name,
      '--work-dir',
      workDir,
    ]);
    this.workers[index] = worker;
    return worker;
  }

  /** The coordinator's `GetStatus`. */
  async status(): Promise<ClusterStatus> {
    if (this.#opts.status) return this.#opts.status(this.url);
    const transport = createRpcTransport({ baseUrl: this.url, token: CLUSTER_TOKEN });
    try {
      return statusFromWire(await createRpcClient(ClientService, { transport }).getStatus({}));
    } finally {
      transport.close();
    }
  }

  /** Waits until `n` workers are alive. */
  async waitForWorkers(n: number, timeoutMs = 30_000): Promise<void> {
    await pollUntil(
      `${n} live workers`,
      async () => (await this.status()).workers.filter((w) => w.state === 'alive').length >= n,
      { timeoutMs, everyMs: 100 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${this.logs()}`);
    });
  }

  /** Waits until the coordinator reports worker `id` as `state`. */
  async waitForWorkerState(id: string, state: string, timeoutMs = 30_000): Promise<void> {
    await pollUntil(
      `worker ${id} ${state}`,
      async () => (await this.status()).workers.find((w) => w.workerId === id)?.state === state,
      { timeoutMs, everyMs: 50 },
    );
  }

  /** What every process wrote (for assertion messages). */
  logs(): string {
    return this.#all.map((p) => `--- ${p.name} ---\n${p.output().slice(-4000)}`).join('\n');
  }

  /** Kills every process (SIGKILL after SIGCONT for stopped ones), waits for each, deletes the directory. */
  async stop(): Promise<void> {
    for (const p of this.#all) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      p.child.kill('SIGCONT');
      p.child.kill('SIGKILL');
      await once(p.child, 'close');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  #spawn(role: 'coordinator' | 'worker', name: string, prefix: string[], args: string[]): ClusterProcess {
    const argv = [...prefix, process.execPath, join(repoRoot, 'bin/tsmr.js'), ...args];
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TSMR_LOG_LEVEL: 'info', ...this.#opts.env },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
    const p: ClusterProcess = { role, name, child, output: () => out };
    this.#all.push(p);
    return p;
  }

  async #readyLine(p: ClusterProcess, pattern: RegExp): Promise<RegExpMatchArray> {
    return pollUntil(
      `${p.name} to be ready`,
      () => {
        if (p.child.exitCode !== null)
          throw new Error(`${p.name} exited ${p.child.exitCode}:\n${p.output()}`);
        return p.output().match(pattern) ?? undefined;
      },
      { timeoutMs: 30_000 },
    );
  }
}
