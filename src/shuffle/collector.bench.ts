/**
 * Micro-benchmark of the map-side collector (not a test; run by hand):
 *
 *   npx node src/shuffle/collector.bench.ts [emitsWithCombiner] [emitsWithoutCombiner] [rounds]
 *
 * Pushes (word, 1) pairs, words drawn from a Zipf-distributed vocabulary of
 * 50 000 words (like English text), through
 * - the combining collector (hash table + summing combiner), 10 M emits,
 * - the folding collector (`combineValues: (a, b) => a + b`), 10 M emits, and
 * - the sort-buffer collector (no combiner), 5 M emits,
 * each with a 64 MiB sort buffer and R = 8, and prints ns per emit, split into
 * the emit loop (including spills) and finish(). The reference is a plain
 * `Map` count loop over the same words. Times are CPU time of the process
 * (wall time in parentheses), which a busy machine disturbs less; each is the
 * best of `rounds` (default 3) interleaved runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Combiner } from './combiner.ts';
import type { Fold } from './fold-table.ts';
import { MapOutputCollector } from './map-output-collector.ts';

const combiningEmits = Number(process.argv[2] ?? 10_000_000);
const arenaEmits = Number(process.argv[3] ?? 5_000_000);
const R = 8;
const SORT_BUFFER = 64 * 2 ** 20;

// A Zipf(1) sample of 2^20 words from a 50 000-word vocabulary, deterministic.
const vocabulary = Array.from({ length: 50_000 }, (_, i) => wordFor(i));
const cumulative = new Float64Array(vocabulary.length);
let total = 0;
for (let i = 0; i < vocabulary.length; i++) cumulative[i] = total += 1 / (i + 1);
let seed = 42;
/** mulberry32, scaled to [0, total). */
const random = (): number => {
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return (((x ^ (x >>> 14)) >>> 0) / 2 ** 32) * total;
};
const SAMPLE = 1 << 20;
const sample = Array.from({ length: SAMPLE }, () => {
  const x = random();
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  // Fresh strings, as a tokenizer would produce.
  return ` ${vocabulary[lo]}`.slice(1);
});

function wordFor(i: number): string {
  const letters = 'etaoinshrdlcumwfgypbvkjxqz';
  let s = '';
  let n = i + 1;
  while (n > 0) {
    s += letters[n % 26];
    n = Math.floor(n / 26);
  }
  return s;
}

const sum: Combiner = (groups, emit) => {
  for (const g of groups) {
    let s = 0;
    for (const v of g.values) s += v as number;
    emit(g.key, s);
  }
};

/** CPU milliseconds (user + system) of this process: steadier than wall time on a shared machine. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function mapCount(n: number): string {
  const t = performance.now();
  const c = cpuMs();
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const w = sample[i & (SAMPLE - 1)];
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return `${(((cpuMs() - c) * 1e6) / n).toFixed(1)} ns/emit CPU (${(((performance.now() - t) * 1e6) / n).toFixed(1)} wall)`;
}

const add: Fold = (a, b) => (a as number) + (b as number);

async function collect(n: number, combiner: Combiner | undefined, fold?: Fold): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tsmr-bench-'));
  try {
    const collector = new MapOutputCollector({
      numPartitions: R, // default partitioner: xxHash64 of the encoded key
      combiner,
      fold,
      sortBufferBytes: SORT_BUFFER,
      dir,
      name: 'bench',
      counters: { add: () => {} },
    });
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      collector.emit(sample[i & (SAMPLE - 1)], 1);
      // As the task runner does after each map call (here: every 16 emits, a line's words).
      if ((i & 15) === 15 && collector.full) await collector.spill();
    }
    const c1 = cpuMs();
    const out = await collector.finish();
    const c2 = cpuMs();
    const t2 = performance.now();
    const ns = (ms: number): string => ((ms * 1e6) / n).toFixed(1);
    return (
      `${ns(c2 - c0)} ns/emit CPU (emit loop ${ns(c1 - c0)}, finish ${ns(c2 - c1)}; ${ns(t2 - t0)} wall); ` +
      `${collector.spills} spill runs, ${out.records} output records, ${(out.bytes / 2 ** 20).toFixed(1)} MiB`
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs each measurement `rounds` times, interleaved, and keeps the fastest (CPU time) of each. */
const rounds = Number(process.argv[4] ?? 3);
const best = new Map<string, string>();
const keep = (name: string, line: string): void => {
  const old = best.get(name);
  if (old === undefined || parseFloat(line) < parseFloat(old)) best.set(name, line);
};
for (let r = 0; r < rounds; r++) {
  keep(`plain Map count loop, ${combiningEmits / 1e6} M words`, mapCount(combiningEmits));
  if (combiningEmits > 0) {
    keep(`folding collector, ${combiningEmits / 1e6} M emits`, await collect(combiningEmits, undefined, add));
    keep(`combining collector, ${combiningEmits / 1e6} M emits`, await collect(combiningEmits, sum));
  }
  if (arenaEmits > 0)
    keep(`sort-buffer collector, ${arenaEmits / 1e6} M emits`, await collect(arenaEmits, undefined));
}
for (const [name, line] of best) console.log(`${name}: ${line}`);
