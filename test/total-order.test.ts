/**
 * Total-order partitioning end to end (`totalOrder()`, `runJob({ totalOrder })`):
 * the part files concatenated are sorted by the map output key, hold every
 * record, and skewed keys do not gather in one reducer.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { isTsmrError, runJob, type JobReport } from '../src/index.ts';

const sortNumbers = new URL('./fixtures/jobs/sort-numbers.ts', import.meta.url);
let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-total-order-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

let runs = 0;
function writeInput(lines: readonly string[], files = 1): string {
  const dir = join(tmp, `in-${runs++}`);
  mkdirSync(dir);
  for (let f = 0; f < files; f++) {
    const mine = lines.filter((_, i) => i % files === f);
    writeFileSync(join(dir, `f${f}.txt`), mine.map((l) => `${l}\n`).join(''));
  }
  return dir;
}

/** Each part file's `key\tvalue` lines, in part order. */
function parts(out: string): [number, string][][] {
  return readdirSync(out)
    .filter((f) => f.startsWith('part-'))
    .sort()
    .map((f) =>
      readFileSync(join(out, f), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const tab = l.indexOf('\t');
          return [Number(l.slice(0, tab)), l.slice(tab + 1)] as [number, string];
        }),
    );
}

/** Numbers with skew: a heavy value repeated among random ones. */
const skewedNumbers = fc
  .record({
    spread: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 300 }),
    heavy: fc.integer({ min: -1000, max: 1000 }),
    copies: fc.integer({ min: 0, max: 600 }),
  })
  .chain(({ spread, heavy, copies }) =>
    fc.shuffledSubarray([...spread, ...Array.from({ length: copies }, () => heavy)], {
      minLength: spread.length + copies,
    }),
  );

test('random keys, random R, skew: parts concatenated are sorted and complete; min(R, distinct keys) parts hold records', async () => {
  await fc.assert(
    fc.asyncProperty(
      skewedNumbers,
      fc.integer({ min: 1, max: 7 }),
      fc.integer({ min: 1, max: 3 }),
      async (numbers, r, files) => {
        const lines = numbers.map((n, i) => `${n},line ${i}`);
        const input = writeInput(lines, files);
        const out = join(tmp, `out-${runs++}`);
        // Every record sampled (the split sampler, more samples than records): the split points
        // are then a function of the distinct keys alone, which the test can predict.
        const report = await runJob(sortNumbers, {
          input,
          output: out,
          reducers: r,
          workers: 0,
          splitSize: 200,
          totalOrder: { sampler: 'split', samples: 1_000_000, maxSplitsSampled: 1000 },
        }).done;
        const byPart = parts(out);
        assert.equal(byPart.length, r);
        const all = byPart.flat();
        const keys = all.map(([k]) => k);
        assert.deepEqual(
          keys,
          [...numbers].sort((a, b) => a - b),
          'globally sorted, every record once',
        );
        assert.deepEqual(all.map(([, v]) => v).sort(), lines.map((l) => l.slice(l.indexOf(',') + 1)).sort());
        const distinct = new Set(numbers).size;
        const expectedParts = r === 1 ? Math.min(1, distinct) : Math.min(r, distinct);
        assert.equal(
          byPart.filter((p) => p.length > 0).length,
          expectedParts,
          'a heavy key fills one part, not all',
        );
        if (r > 1) {
          assert.equal(report.totalOrder?.splitPoints, Math.max(0, Math.min(r, distinct) - 1));
          assert.equal(report.phases.sample?.inputRecords, numbers.length);
        } else {
          assert.equal(report.phases.sample, undefined, 'R = 1: nothing to sample');
        }
        rmSync(out, { recursive: true });
        rmSync(input, { recursive: true });
      },
    ),
    { numRuns: 12 },
  );
});

test("the job's totalOrder() with the random sampler on worker threads: sorted, balanced, sampling reported as its own phase", async () => {
  const numbers = Array.from({ length: 60_000 }, (_, i) => (i * 7919) % 60_013);
  const input = writeInput(
    numbers.map((n) => `${n},${'x'.repeat(90)}`),
    3,
  );
  const out = join(tmp, 'threads');
  const progressPhases = new Set<string>();
  const handle = runJob(sortNumbers, { input, output: out, reducers: 4, workers: 2, splitSize: 256 * 1024 });
  handle.on('progress', (p) => Object.keys(p.phases).forEach((k) => progressPhases.add(k)));
  const report: JobReport = await handle.done;
  const byPart = parts(out);
  assert.deepEqual(
    byPart.flat().map(([k]) => k),
    [...numbers].sort((a, b) => a - b),
  );
  for (const part of byPart) {
    assert.ok(
      part.length > numbers.length / 4 / 2,
      `parts within 2× of even: ${byPart.map((p) => p.length)}`,
    );
  }
  assert.ok(progressPhases.has('sample'), 'progress shows the sample phase');
  const sample = report.phases.sample!;
  assert.ok(
    sample.outputRecords <= 2000 && sample.outputRecords > 1000,
    `samples kept: ${sample.outputRecords}`,
  );
  assert.ok(
    sample.inputBytes < report.phases.map!.inputBytes / 4,
    `sampling read ${sample.inputBytes} of ${report.phases.map!.inputBytes} bytes`,
  );
  assert.ok(report.startedAt <= sample.startedAt && report.durationMs >= sample.durationMs);
  assert.deepEqual(report.totalOrder, {
    sampler: 'random',
    samples: 2000,
    sampledKeys: sample.outputRecords,
    splitsSampled: 10,
    splitPoints: 3,
  });
  const again = join(tmp, 'threads-again');
  await runJob(sortNumbers, { input, output: again, reducers: 4, workers: 2, splitSize: 256 * 1024 }).done;
  for (const f of readdirSync(out).filter((f) => f.startsWith('part-'))) {
    assert.ok(
      readFileSync(join(out, f)).equals(readFileSync(join(again, f))),
      `${f}: the seeded sample gives the same split`,
    );
  }
});

test('a map that fails on a sampled record fails the job before any task runs, naming the record; nothing is written', async () => {
  const input = writeInput(['1,a', 'throw,b', '2,c']);
  const out = join(tmp, 'fails');
  await assert.rejects(
    runJob(sortNumbers, { input, output: out, reducers: 2, workers: 0 }).done,
    (e) => isTsmrError(e) && e.code === 'TSMR_USER_CODE' && /byte 4 of .*f0\.txt: a bad line/.test(e.message),
  );
  assert.equal(existsSync(out), false);
});

test('runJob refuses bad totalOrder options with TSMR_BAD_JOB', async () => {
  await assert.rejects(
    runJob(sortNumbers, { input: writeInput(['1,a']), reducers: 2, totalOrder: { samples: 0 } }).done,
    (e) => isTsmrError(e) && e.code === 'TSMR_BAD_JOB' && /samples must be an integer/.test(e.message),
  );
});
