/**
 * Batch processing benchmark (issue 4): `runBatch` sequential vs parallel on
 * the fixed scenarios of `tsmr batch benchmark`, with the targets
 *
 *  - io, 1000 items × 20 ms: speedup ≥ 15 with 16 workers (efficiency ≥ 94%),
 *    ≥ 150 with 250 workers;
 *  - numeric on worker threads: speedup ≥ 0.9 × cores (1.8 on two cores);
 *  - results match in every scenario;
 *
 * and a streaming check: ten million items from a generator through
 * `runBatch`, resident memory sampled as they go (it must not grow with the
 * number of items).
 *
 *   npx node bench/batch.ts        (or `npm run bench`, which runs every benchmark)
 */
import { availableParallelism, loadavg } from 'node:os';
import { formatBenchmark } from '../src/batch/format-report.ts';
import { runBenchmark } from '../src/batch/benchmark.ts';
import { runBatch } from '../src/batch/run-batch.ts';

const MiB = 1024 * 1024;

/** Streams `count` items through an async-mode batch; RSS after the first and after the last million. */
async function streamingMemory(
  count: number,
): Promise<{ items: number; rssAt1M: number; rssAtEnd: number; ms: number }> {
  function* items(): Generator<number> {
    for (let i = 0; i < count; i++) yield i;
  }
  const start = performance.now();
  let seen = 0;
  let rssAt1M = 0;
  for await (const r of runBatch(items(), (n: number) => n + 1, { concurrency: 64 })) {
    if (!r.ok) throw r.error;
    if (++seen === 1_000_000) rssAt1M = process.memoryUsage.rss();
  }
  return { items: seen, rssAt1M, rssAtEnd: process.memoryUsage.rss(), ms: performance.now() - start };
}

export async function main(): Promise<void> {
  console.log(`\n== batch: runBatch sequential vs parallel (issue 4), ${availableParallelism()} cores ==`);
  // Speedups on CPU-bound work only mean something on an otherwise idle machine.
  const loadBefore = loadavg()[0]!;
  const rows = await runBenchmark({ onRow: (row) => console.log(`  done: ${row.name}`) });
  console.log(`\n${formatBenchmark(rows)}`);
  const mem = await streamingMemory(10_000_000);
  console.log(
    `\nstreaming: ${mem.items.toLocaleString('en')} items from a generator in ${(mem.ms / 1000).toFixed(1)} s ` +
      `(${((mem.ms * 1000) / mem.items).toFixed(2)} µs/item); RSS ${(mem.rssAt1M / MiB).toFixed(0)} MiB after 1 M items, ` +
      `${(mem.rssAtEnd / MiB).toFixed(0)} MiB after ${(mem.items / 1e6).toFixed(0)} M`,
  );
  console.log(`load average (1 min): ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`);
  const missed = rows.filter((r) => !r.pass).map((r) => r.name);
  console.log(missed.length === 0 ? 'batch targets: all met' : `batch targets missed: ${missed.join('; ')}`);
}

if (import.meta.main) await main();
