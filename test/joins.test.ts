/**
 * Joins: a job with two inputs, each with its own format and map (Hadoop's
 * `MultipleInputs`), joined in reduce with `groupBy`, and a side file read
 * through `ctx.file` (Hadoop's distributed cache) for a map-side filter; on
 * generated data shaped like the CMU Pronouncing Dictionary and a corpus, in
 * worker threads, in-process and through the CLI.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collectResults, isTsmrError, type JobReport, runJob } from '../src/index.ts';
import { readParts, runCli } from './support/run-cli.ts';

const job = new URL('./fixtures/jobs/join-syllables.ts', import.meta.url);
let tmp = '';
let dict = '';
let corpus = '';
let stop = '';
const vocabulary = ['cat', 'sat', 'on', 'the', 'mat', 'banana', "don't", 'élan', 'zebra', 'a'];
const phonemes: Record<string, string> = {
  cat: 'K AE1 T',
  sat: 'S AE1 T',
  on: 'AA1 N',
  the: 'DH AH0',
  mat: 'M AE1 T',
  banana: 'B AH0 N AE1 N AH0',
  "don't": 'D OW1 N T',
  unused: 'AH0 N Y UW1 Z D',
};

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-joins-'));
  dict = join(tmp, 'cmudict.txt');
  writeFileSync(
    dict,
    `;;; generated in the layout of cmudict\n${Object.entries(phonemes)
      .map(([w, p]) => `${w.toUpperCase()}  ${p}\n`)
      .join('')}`,
  );
  corpus = join(tmp, 'corpus');
  mkdirSync(corpus);
  let x = 7;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  for (let f = 0; f < 3; f++) {
    const lines = Array.from({ length: 400 }, () =>
      JSON.stringify({
        text: Array.from({ length: 1 + (next() % 8) }, () => vocabulary[next() % 10]).join(' '),
      }),
    );
    writeFileSync(join(corpus, `part${f}.jsonl`), `${lines.join('\n')}\n`);
  }
  stop = join(tmp, 'stop-words.txt');
  writeFileSync(stop, 'the\na\non\n');
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** word → `syllables\tuses`, for words in the dictionary and the corpus but not stop words. */
function reference(): [string, string][] {
  const uses = new Map<string, number>();
  for (let f = 0; f < 3; f++) {
    for (const line of readFileSync(join(corpus, `part${f}.jsonl`), 'utf8')
      .trimEnd()
      .split('\n')) {
      for (const w of (JSON.parse(line) as { text: string }).text.split(' '))
        uses.set(w, (uses.get(w) ?? 0) + 1);
    }
  }
  return Object.entries(phonemes)
    .filter(([w]) => (uses.get(w) ?? 0) > 0 && !['the', 'a', 'on'].includes(w))
    .map(([w, p]): [string, string] => [
      w,
      `${p.split(' ').filter((q) => /\d$/.test(q)).length}\t${uses.get(w)}`,
    ])
    .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

for (const workers of [0, 2]) {
  test(`two inputs with their own maps and formats, joined in reduce; a side file filters (workers: ${workers})`, async () => {
    const handle = runJob(job, {
      workers,
      reducers: 2,
      splitSize: 4096,
      params: { dict, corpus },
      files: [`${stop}#stop.txt`],
    });
    const results = await collectResults<string, string>(handle);
    const report = await handle.done;
    assert.deepEqual(new Map(results), new Map(reference()));
    assert.ok(report.phases.map!.tasks >= 4, `several splits, got ${report.phases.map!.tasks}`);
    assert.deepEqual(report.settings.inputs, [dict, corpus]);
  });
}

test('a side file the job does not ship fails the task with TSMR_BAD_JOB, naming what is shipped', async () => {
  const handle = runJob(job, { workers: 1, params: { dict, corpus }, files: [stop] });
  await assert.rejects(handle.done, (e: unknown) => {
    assert.ok(isTsmrError(e));
    assert.equal(e.code, 'TSMR_BAD_JOB');
    assert.match(
      e.message,
      /ctx\.file\("stop\.txt"\): the job shipped no file named "stop\.txt" \(it ships stop-words\.txt\)/,
    );
    return true;
  });
});

test('a streaming command finds the side files in its working directory (Hadoop Streaming -files)', async () => {
  const words = join(tmp, 'words.txt');
  writeFileSync(words, 'the\ncat\non\na\nmat\n');
  const handle = runJob(
    { kind: 'streaming', mapper: 'grep -vxFf stop-words.txt', reducer: 'cat' },
    { input: words, files: [stop], workers: 1 },
  );
  const results = await collectResults<string, string>(handle);
  assert.deepEqual(results.map(([, line]) => String(line).trimEnd()).sort(), ['cat', 'mat']);
});

test('a job with its own inputs refuses input; side files must exist, have distinct names', async () => {
  await assert.rejects(
    runJob(job, { input: corpus, params: { dict, corpus } }).done,
    (e: unknown) =>
      isTsmrError(e) && e.code === 'TSMR_USAGE' && /the job names its own inputs/.test(e.message),
  );
  await assert.rejects(
    runJob(job, { params: { dict, corpus }, files: [join(tmp, 'missing.txt')] }).done,
    (e: unknown) =>
      isTsmrError(e) && e.code === 'TSMR_USAGE' && /missing\.txt does not exist/.test(e.message),
  );
  await assert.rejects(
    runJob(job, { params: { dict, corpus }, files: [stop, `${dict}#stop-words.txt`] }).done,
    (e: unknown) =>
      isTsmrError(e) && e.code === 'TSMR_USAGE' && /both named 'stop-words\.txt'/.test(e.message),
  );
});

test('the CLI: no --input for a job with inputs, --file ships a side file, the report lists both inputs', async () => {
  const out = join(tmp, 'out-cli');
  const r = await runCli([
    'run',
    'test/fixtures/jobs/join-syllables.ts',
    '-o',
    out,
    '--param',
    `dict=${dict}`,
    '--param',
    `corpus=${corpus}`,
    '--file',
    `${stop}#stop.txt`,
    '--quiet',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    readParts(out).lines,
    reference()
      .map(([w, v]) => `${w}\t${v}`)
      .sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'))),
  );
  const report = JSON.parse(readFileSync(join(out, '_job.json'), 'utf8')) as JobReport;
  assert.deepEqual(report.settings.inputs, [dict, corpus]);
  const plain = await runCli(['run', 'test/fixtures/jobs/count-words.ts', '-o', join(tmp, 'out-none')]);
  assert.equal(plain.code, 2, plain.stderr);
  assert.match(plain.stderr, /no input: give input paths \(--input\)/);
});
