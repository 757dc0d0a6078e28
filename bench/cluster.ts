/**
 * Cluster benchmark (issue 9, item 10; DESIGN.md §9).
 *
 * In one run, word count (`examples/wordcount.ts`) on the 1 GiB corpus file
 * (`ensureBenchFile`), R = {@link REDUCERS}, default split size (128 MiB, 8 maps):
 *  (a) local mode, 2 threads (all cores);
 *  (b) local mode, 3 threads: the cluster's concurrency on the same cores;
 *  (c) a `tsmr coordinator` and 3 `tsmr worker` processes with 1 slot each on
 *      loopback (the default 2 s heartbeat, speculation on), the job submitted
 *      with `runJob(job, { coordinator })`;
 *  (d) the same, with one worker SIGKILLed when the map phase has done half of
 *      its bytes (by the job's progress events); it is not restarted during the
 *      job, so the job ends on 2 workers.
 * Every row runs {@link REPEATS} times, interleaved; each keeps its fastest
 * run. Wall time is from `runJob` to `done` in this process (the cluster is
 * started before and stays up; a killed worker is restarted between runs).
 * Every cluster output must be byte-identical to local mode's (part files
 * compared by SHA-256). Targets: (c) ≤ 1.25 × local time, (d) ≤ 1.3 × (c).
 *
 * Fairness: this machine has 2 cores, and 3 workers need at least 3 slots,
 * so the cluster runs 3 attempts at once on 2 cores. The target is checked
 * against the faster of (a) and (b), so that neither the oversubscription nor
 * the extra thread counts for or against the cluster: what remains is its
 * own cost (processes, RPC, the shuffle over HTTP, scheduling latency).
 *
 *   npx node --conditions=tsmr-source bench/cluster.ts   (or `npm run bench`)
 */
import { createHash } from 'node:crypto';
import { type ChildProcess, execFileSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { runJob } from '../src/index.ts';
import type { JobReport } from '../src/engine/job-report.ts';
import { CLUSTER_TOKEN, TestCluster } from '../test/support/cluster.ts';
import { ensureBenchFile, GiB, repoRoot } from './corpus.ts';

/** Runs of each configuration; the fastest counts. */
const REPEATS = 3;
/** Reduce tasks of every run (one per worker), so that part files can be compared. */
const REDUCERS = 3;
const WORKERS = 3;
const SLOTS = 1;

const job = join(repoRoot, 'examples/wordcount.ts');
const outRoot = join(repoRoot, '.bench', 'out', 'cluster');

interface Run {
  wallMs: number;
  /** CPU time of every process of the run (for the cluster: client, coordinator, workers), ms. */
  cpuMs: number;
  report: JobReport;
  out: string;
  /** The kill run: ms from the start to the SIGKILL. */
  killedAtMs?: number;
}

/** SHA-256 of each part file of `dir`, name → hex. */
async function partDigests(dir: string): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const name of (await readdir(dir)).filter((f) => f.startsWith('part-')).sort()) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(join(dir, name))) hash.update(chunk as Buffer);
    digests.set(name, hash.digest('hex'));
  }
  return digests;
}

function sameDigests(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([name, digest]) => b.get(name) === digest);
}

/** Clock ticks per second of `/proc/<pid>/stat` times. */
const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** CPU time (user + system, all threads) of process `pid` so far, ms. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

/** A cluster run: the processes whose CPU time counts, and the worker to SIGKILL at half the maps. */
interface OnCluster {
  pids: number[];
  victim?: ChildProcess;
}

/** Runs a job from `start` to `done`; CPU time is this process's plus `cluster.pids`'. */
async function timed(out: string, start: () => ReturnType<typeof runJob>, cluster?: OnCluster): Promise<Run> {
  await rm(out, { recursive: true, force: true });
  const pids = cluster?.pids ?? [];
  const cpuBefore = new Map(pids.map((pid) => [pid, processCpuMs(pid)]));
  const cpuAfter = new Map<number, number>();
  const ownCpu = process.cpuUsage();
  const t0 = performance.now();
  const handle = start();
  let killedAtMs: number | undefined;
  const victim = cluster?.victim;
  if (victim) {
    handle.on('progress', (p) => {
      const map = p.phases.map;
      if (killedAtMs === undefined && map.bytesTotal > 0 && map.bytesDone >= map.bytesTotal / 2) {
        cpuAfter.set(victim.pid!, processCpuMs(victim.pid!));
        victim.kill('SIGKILL');
        killedAtMs = performance.now() - t0;
      }
    });
  }
  const report = await handle.done;
  const wallMs = performance.now() - t0;
  if (victim && killedAtMs === undefined) throw new Error('the map phase ended before half of it was seen');
  const { user, system } = process.cpuUsage(ownCpu);
  let cpuMs = (user + system) / 1000;
  for (const pid of pids) cpuMs += (cpuAfter.get(pid) ?? processCpuMs(pid)) - cpuBefore.get(pid)!;
  return { wallMs, cpuMs, report, out, killedAtMs };
}

function local(input: string, workers: number, i: number): Promise<Run> {
  const out = join(outRoot, `local-${workers}t-${i}`);
  return timed(out, () => runJob(job, { input, output: out, workers, reducers: REDUCERS }));
}

function onCluster(cluster: TestCluster, input: string, label: string, victim?: ChildProcess): Promise<Run> {
  const out = join(outRoot, label);
  const options = { coordinator: cluster.url, token: CLUSTER_TOKEN, input, output: out, reducers: REDUCERS };
  const pids = [cluster.coordinator, ...cluster.workers].map((p) => p.child.pid!);
  return timed(out, () => runJob(job, options), { pids, victim });
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const s = (ms: number): string => (ms / 1000).toFixed(1);

function phases(r: Run): string {
  const { map, reduce } = r.report.phases;
  const attempts = r.report.attempts;
  const maps = attempts.filter((a) => a.taskId.startsWith('m-')).length;
  const reduces = attempts.length - maps;
  return `map ${s(map?.durationMs ?? 0)} s, reduce ${s(reduce?.durationMs ?? 0)} s, attempts ${maps} map + ${reduces} reduce`;
}

function row(cells: string[]): string {
  const widths = [44, 8, 9, 8, 60];
  return cells.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');
}

/** Runs the benchmark and prints its table; returns the fastest run of each row. */
export async function main(): Promise<Map<string, Run>> {
  console.log('\n## cluster mode: word count on a coordinator and 3 workers (this machine) vs local mode\n');
  const input = await ensureBenchFile(GiB);
  for await (const _chunk of createReadStream(input, { highWaterMark: 4 * 1024 * 1024 }));
  console.log(
    `load ${load()} at the start; input: ${input}; R = ${REDUCERS}; cluster: ${WORKERS} worker processes × ${SLOTS} slot, ` +
      'heartbeat 2 s, speculation on',
  );
  console.log(
    'fair comparison: 3 workers need 3 slots, so the cluster runs 3 attempts on 2 cores; local mode runs\n' +
      'with 2 threads (all cores) and with 3 (the same concurrency), and the target is checked against the faster\n',
  );

  const best = new Map<string, Run>();
  const walls = new Map<string, number[]>();
  const mismatches: string[] = [];
  let reference: Map<string, string> | undefined;
  const keep = async (label: string, r: Run): Promise<void> => {
    walls.set(label, [...(walls.get(label) ?? []), r.wallMs]);
    const b = best.get(label);
    if (b === undefined || r.wallMs < b.wallMs) best.set(label, r);
    const digests = await partDigests(r.out);
    reference ??= digests;
    if (!sameDigests(digests, reference)) mismatches.push(`${label} (${r.out})`);
  };

  const cluster = new TestCluster({ workers: WORKERS, slots: SLOTS, heartbeatIntervalMs: 2000 });
  try {
    await cluster.start();
    for (let i = 0; i < REPEATS; i++) {
      await keep('local, 2 threads', await local(input, 2, i));
      await keep('local, 3 threads', await local(input, 3, i));
      await keep('cluster, 3 workers', await onCluster(cluster, input, `cluster-${i}`));
      const victim = cluster.workers[1]!.child;
      const killed = await onCluster(cluster, input, `cluster-kill-${i}`, victim);
      await keep('cluster, 1 of 3 SIGKILLed at half the maps', killed);
      cluster.startWorker(1);
      await cluster.waitForWorkers(WORKERS);
    }
  } catch (error) {
    console.log(`FAILED: ${(error as Error).message}\n${cluster.logs()}`);
    throw error;
  } finally {
    await cluster.stop();
  }

  console.log(row(['run', 'wall s', 'own s', 'CPU s', 'phases']));
  for (const [label, r] of best) {
    const kill = r.killedAtMs === undefined ? '' : `, killed at ${s(r.killedAtMs)} s`;
    console.log(row([label, s(r.wallMs), s(r.report.durationMs), s(r.cpuMs), phases(r) + kill]));
  }
  const each = [...walls].map(([label, ms]) => `${label}: ${ms.map(s).join(', ')}`).join('; ');
  console.log(
    `(fastest of ${REPEATS} interleaved runs; wall s of each: ${each}; load ${load()} at the end)\n`,
  );

  console.log(
    mismatches.length === 0
      ? `output: every run's part files are byte-identical (${reference?.size} part files)`
      : `MISMATCH: part files differ from local mode's in ${mismatches.join(', ')}`,
  );
  const wall = (label: string): number => best.get(label)!.wallMs;
  const localMs = Math.min(wall('local, 2 threads'), wall('local, 3 threads'));
  const clusterMs = wall('cluster, 3 workers');
  const ratio = clusterMs / localMs;
  console.log(
    `cluster / local (faster of 2 and 3 threads), wall time: ${ratio.toFixed(2)} (target <= 1.25) ` +
      `${ratio <= 1.25 ? 'ok' : 'MISSED'}; against 2 threads: ${(clusterMs / wall('local, 2 threads')).toFixed(2)}`,
  );
  const killRatio = wall('cluster, 1 of 3 SIGKILLed at half the maps') / clusterMs;
  console.log(
    `cluster with a worker SIGKILLed / without, wall time: ${killRatio.toFixed(2)} (target <= 1.3) ` +
      `${killRatio <= 1.3 && mismatches.length === 0 ? 'ok' : 'MISSED'}`,
  );
  const cpu = (label: string): number => best.get(label)!.cpuMs;
  console.log(
    `CPU time (work done, whatever the load): cluster / local 3 threads ` +
      `${(cpu('cluster, 3 workers') / cpu('local, 3 threads')).toFixed(2)}, / local 2 threads ` +
      `${(cpu('cluster, 3 workers') / cpu('local, 2 threads')).toFixed(2)}; with the SIGKILL / without ` +
      `${(cpu('cluster, 1 of 3 SIGKILLed at half the maps') / cpu('cluster, 3 workers')).toFixed(2)}`,
  );
  return best;
}

if (import.meta.main) await main();
