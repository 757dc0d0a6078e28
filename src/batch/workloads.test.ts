import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyseText, factorize, io, numeric, text } from './workloads.ts';
import { failuresOf, workloadItems } from './workload-items.ts';
import type { IoItem, NumericItem, TextItem } from './workloads.ts';
import { listCorpus } from './corpus.ts';
import { isTsmrError } from '../errors.ts';

const ctx = (attempt = 1) => ({ index: 0, attempt, signal: new AbortController().signal });

test('factorize: products, primes, edge cases', () => {
  assert.deepEqual(factorize(1), []);
  assert.deepEqual(factorize(2), [2]);
  assert.deepEqual(factorize(360), [2, 2, 2, 3, 3, 5]);
  assert.deepEqual(factorize(999_999_000_001), [999_999_000_001]); // prime
  assert.deepEqual(factorize(1_000_003 * 999_983), [999_983, 1_000_003]);
  assert.throws(() => factorize(0), RangeError);
  const v = numeric({ id: 3, n: 97, failures: 0 }, ctx());
  assert.deepEqual(v, { id: 3, n: 97, prime: true, factors: [97] });
});

test('analyseText: Brown word/tag tokens and e-mail text', () => {
  const brown = analyseText('The/at jury/nn said/vbd ,/, the/at JURY/nn ./.', 'brown');
  assert.deepEqual(brown, { words: 5, uniqueWords: 3, averageWordLength: 18 / 5 });
  const email = analyseText("Subject: Don't panic!\n\n42 apples", 'email');
  assert.deepEqual(email, { words: 4, uniqueWords: 4, averageWordLength: (7 + 5 + 5 + 6) / 4 });
});

test('the corpus lists 500 Brown files and thousands of e-mails; text reads them', () => {
  const docs = listCorpus();
  assert.equal(docs.filter((d) => d.format === 'brown').length, 500);
  assert.ok(docs.filter((d) => d.format === 'email').length > 5000);
  const brown = text({ id: 0, ...docs[0]!, failures: 0 }, ctx());
  assert.ok(brown.words > 1000 && brown.uniqueWords < brown.words, JSON.stringify(brown));
  const email = text({ id: 1, ...docs[docs.length - 1]!, failures: 0 }, ctx());
  assert.ok(email.words > 0);
});

test('items are the same for the same seed; failures follow the rate', () => {
  const spec = { workload: 'numeric' as const, count: 1000, latencyMs: 0, failureRate: 0.2, seed: 5 };
  const a = [...workloadItems(spec)] as NumericItem[];
  assert.deepEqual(a, [...workloadItems(spec)]);
  assert.notDeepEqual(a, [...workloadItems({ ...spec, seed: 6 })]);
  const failing = a.filter((i) => i.failures > 0).length;
  assert.ok(failing > 150 && failing < 250, `${failing} failing of 1000`);
  assert.equal(failuresOf(1, 1, 0), 0);
  assert.equal(failuresOf(1, 1, 1), 64);
  const io = [...workloadItems({ ...spec, workload: 'io', latencyMs: 100 })] as IoItem[];
  assert.ok(io.every((i) => i.latencyMs >= 80 && i.latencyMs <= 120));
  const docs = [...workloadItems({ ...spec, workload: 'text', count: 3 })] as TextItem[];
  assert.equal(docs[0]!.format, 'brown');
});

test('an item fails on its first `failures` attempts, with TSMR_INJECTED_FAILURE', async () => {
  const item = { id: 9, latencyMs: 1, failures: 2 };
  await assert.rejects(
    io(item, ctx(2)),
    (e) => isTsmrError(e) && e.code === 'TSMR_INJECTED_FAILURE' && /item 9, attempt 2/.test(e.message),
  );
  assert.deepEqual(await io(item, ctx(3)), { id: 9, latencyMs: 1 });
});

test('io honours its abort signal', async () => {
  const c = new AbortController();
  const p = io({ id: 0, latencyMs: 60_000, failures: 0 }, { index: 0, attempt: 1, signal: c.signal });
  c.abort();
  await assert.rejects(p, { name: 'AbortError' });
});
