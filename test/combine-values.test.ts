/**
 * `combineValues` through the engine: a job that sums numbers per key with a
 * fold (no `combine`), in-process and in worker threads, with tiny sort
 * buffers (many spills and folding merges), against an in-memory reference.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collectResults, runJob } from '../src/index.ts';

const sumValuesPath = new URL('./fixtures/jobs/sum-values.ts', import.meta.url);
let tmp = '';

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-combine-values-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Deterministic `key value` lines: a few hundred keys, skewed, values in [-50, 50]. */
function lines(n: number, seed: number): string[] {
  let x = seed;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  return Array.from({ length: n }, () => {
    const k = next() % 7 === 0 ? next() % 500 : next() % 20;
    return `k${k}${k % 3 === 0 ? 'é' : ''} ${(next() % 101) - 50}`;
  });
}

function reference(all: readonly string[]): [string, number][] {
  const sums = new Map<string, number>();
  for (const line of all) {
    const [k, v] = line.split(' ');
    sums.set(k, (sums.get(k) ?? 0) + Number(v));
  }
  return [...sums].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

for (const workers of [0, 2]) {
  test(`combineValues sums per key like a reference (workers: ${workers}, tiny sort buffers)`, async () => {
    const files = [lines(3000, 1 + workers), lines(2000, 7 + workers)];
    const input = join(tmp, `in-${workers}`);
    mkdirSync(input);
    files.forEach((f, i) => writeFileSync(join(input, `f${i}.txt`), f.map((l) => `${l}\n`).join('')));
    const handle = runJob(sumValuesPath, {
      input,
      workers,
      reducers: 3,
      splitSize: 16 * 1024,
      sortBuffer: 4096,
      mergeFanIn: 3,
    });
    const results = await collectResults<string, number>(handle);
    const report = await handle.done;
    assert.deepEqual(new Map(results), new Map(reference(files.flat())));
    const c = report.counters;
    assert.equal(c['tsmr/MAP_OUTPUT_RECORDS'], 5000);
    assert.ok(c['tsmr/SPILLED_RECORDS'] > c['tsmr/REDUCE_INPUT_RECORDS'], 'spilled and merged');
    assert.equal(
      c['tsmr/COMBINE_INPUT_RECORDS'] - c['tsmr/COMBINE_OUTPUT_RECORDS'],
      5000 - c['tsmr/REDUCE_INPUT_RECORDS'],
      'records only disappear by folding',
    );
  });
}
