/**
 * String keys and values with lone surrogates through the engine (issue #8,
 * item 3): `word.slice(0, 1)` of an emoji is a lone high surrogate, and
 * `'\ud800'`, `'\ud801'`, `'\ud83d'` and `'\ufffd'` must stay four keys, each
 * reduced once, in-process and in worker threads, with and without
 * `combineValues`, read back exactly through `handle.results()` and JSONL.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collectResults, runJob } from '../src/index.ts';

const foldingJob = new URL('./fixtures/jobs/first-code-units.ts', import.meta.url);
const noCombinerJob = new URL('./fixtures/jobs/first-code-units-no-combiner.ts', import.meta.url);
let tmp = '';
let input = '';

/** Words whose first code unit is a lone surrogate (U+10000, U+10437, emoji), U+FFFD, or a letter. */
const words = ['𐀀', '𐀀a', '𐐷', '😀', '😎', '🙂', 'hello', 'happy', '\ufffd', '\ufffdx'];
/** The keys in tsmr's order: by WTF-8 bytes, lone surrogates by code unit between U+D7FF and U+E000. */
const keyOrder = ['h', '\ud800', '\ud801', '\ud83d', '\ufffd'];

/** Deterministic lines of `words`, skewed so that every key has its own count. */
function lines(n: number, seed: number): string[] {
  let x = seed;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  return Array.from({ length: n }, () =>
    Array.from({ length: 1 + (next() % 6) }, () => words[Math.min(next() % 12, next() % 12) % 10]).join(' '),
  );
}

const files = [lines(400, 3), lines(300, 11)];

/** First code unit → the rests of its words (`word.slice(1)`), in emit order per file. */
function reference(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of files.flat()) {
    for (const w of line.split(' ')) {
      const rests = out.get(w.slice(0, 1)) ?? [];
      rests.push(w.slice(1));
      out.set(w.slice(0, 1), rests);
    }
  }
  return out;
}

const counts = (): Array<[string, number]> => keyOrder.map((k) => [k, reference().get(k)?.length ?? 0]);
const summaries = (): Array<[string, { n: number; rests: string[] }]> =>
  keyOrder.map((k) => {
    const rests = reference().get(k) ?? [];
    return [k, { n: rests.length, rests: [...new Set(rests)].sort() }];
  });

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-lone-surrogates-'));
  input = join(tmp, 'in');
  mkdirSync(input);
  files.forEach((f, i) => writeFileSync(join(input, `f${i}.txt`), f.map((l) => `${l}\n`).join('')));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Small splits and sort buffers: several map tasks, spills and merges, three partitions. */
const settings = { reducers: 3, splitSize: 2048, sortBuffer: 4096, mergeFanIn: 3 };

/** The lines of an output directory's part files, read as UTF-8. */
function partLines(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('part-'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter((l) => l !== '');
}

test('the fixtures see all four kinds of key', () => {
  assert.deepEqual([...reference().keys()].sort(), [...keyOrder].sort(), 'every key occurs in the input');
  const n = counts().map(([, c]) => c);
  assert.equal(new Set(n).size, n.length, 'every key has its own count');
});

for (const workers of [0, 2]) {
  test(`combineValues: one reduce call per distinct key, results in key order (workers: ${workers})`, async () => {
    const handle = runJob(foldingJob, { input, workers, ...settings });
    const results = await collectResults<string, number>(handle);
    const report = await handle.done;
    assert.deepEqual(results, counts());
    assert.equal(report.counters['test/reduce calls'], keyOrder.length);
  });

  test(`combineValues with JSONL output: the keys come back exactly (workers: ${workers})`, async () => {
    const output = join(tmp, `jsonl-${workers}`);
    const report = await runJob(foldingJob, { input, output, workers, ...settings }).done;
    assert.equal(report.counters['test/reduce calls'], keyOrder.length);
    const got = partLines(output).map((l) => JSON.parse(l) as { key: string; value: number });
    assert.deepEqual(
      new Map(got.map((r) => [r.key, r.value])),
      new Map(counts()),
      'each key once, with its count',
    );
    assert.equal(got.length, keyOrder.length);
    assert.ok(
      partLines(output).some((l) => l.startsWith('{"key":"\\ud83d",')),
      'escaped as JSON does',
    );
  });

  test(`no combiner: string values with lone surrogates round-trip through the shuffle (workers: ${workers})`, async () => {
    const handle = runJob(noCombinerJob, { input, workers, ...settings });
    const results = await collectResults<string, { n: number; rests: string[] }>(handle);
    const report = await handle.done;
    assert.deepEqual(results, summaries());
    assert.equal(report.counters['test/reduce calls'], keyOrder.length);
  });

  test(`no combiner, text output: one line per distinct key, lone surrogates shown as U+FFFD (workers: ${workers})`, async () => {
    const output = join(tmp, `text-${workers}`);
    await runJob(noCombinerJob, { input, output, workers, ...settings }).done;
    const got = partLines(output).map((l) => {
      const [key, value] = l.split('\t');
      return [key, JSON.parse(value) as { n: number; rests: string[] }] as const;
    });
    // Text is UTF-8: the three lone surrogates and U+FFFD itself all read as U+FFFD, on four lines.
    assert.deepEqual(got.map(([k]) => k).sort(), ['h', '\ufffd', '\ufffd', '\ufffd', '\ufffd']);
    // The values are JSON, which escapes lone surrogates: each line is its own key's.
    const byValue = (a: { n: number }, b: { n: number }): number => a.n - b.n;
    assert.deepEqual(
      got.map(([, v]) => v).sort(byValue),
      summaries()
        .map(([, v]) => v)
        .sort(byValue),
    );
  });
}
