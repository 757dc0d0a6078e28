/**
 * Pipelines (`definePipeline`, `runPipeline`, `tsmr run pipeline.ts`): steps
 * chained through tsmr's binary records, compared with a direct computation;
 * types kept across steps; a map-only step; intermediate outputs removed or
 * kept; a failing step; cancel; the CLI. Real files, worker threads, child
 * processes.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import histogram from './fixtures/jobs/pipeline-histogram.ts';
import topWords from './fixtures/jobs/pipeline-top-words.ts';
import { readSplit } from '../src/io/record-reader.ts';
import { planSplits } from '../src/io/splits.ts';
import { formatPipelineReport } from '../src/observe/report.ts';
import {
  collectResults,
  defineJob,
  definePipeline,
  isTsmrError,
  type PipelineReport,
  type ProgressSnapshot,
  runJob,
  runPipeline,
} from '../src/index.ts';
import { readParts, runCli } from './support/run-cli.ts';

const genres = ['fiction', 'news', 'poetry'];
const words = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm'];
let tmp = '';
let input = '';
/** Every `genre word` line of the input, in file order. */
const lines: string[] = [];

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-pipeline-'));
  input = join(tmp, 'in');
  mkdirSync(input);
  let x = 11;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8;
  for (let f = 0; f < 4; f++) {
    const file = Array.from({ length: 500 }, () => {
      const genre = genres[next() % genres.length]!;
      // A skewed choice, so that counts differ: word i with weight 13 - i.
      let r = next() % 91;
      let i = 0;
      while (r >= 13 - i) r -= 13 - i++;
      return `${genre} ${words[i]}`;
    });
    lines.push(...file);
    writeFileSync(join(input, `part-${f}.txt`), `${file.join('\n')}\n`);
  }
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The counts of `genre word` lines. */
function counts(): Map<string, number> {
  const n = new Map<string, number>();
  for (const line of lines) n.set(line, (n.get(line) ?? 0) + 1);
  return n;
}

/** What the top-words pipeline writes: per genre, its `top` words by count then word, sorted by genre. */
function topWordsReference(top: number): string[] {
  const byGenre = new Map<string, [number, string][]>();
  for (const [line, n] of counts()) {
    const [genre, word] = line.split(' ') as [string, string];
    byGenre.set(genre, [...(byGenre.get(genre) ?? []), [n, word]]);
  }
  return [...byGenre.entries()]
    .map(([genre, all]) => {
      all.sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? -1 : 1));
      return `${genre}\t${all
        .slice(0, top)
        .map(([n, w]) => `${w}:${n}`)
        .join(' ')}`;
    })
    .sort();
}

/** What the histogram pipeline writes: for each count >= 2 of a word (any genre), the words with it and the first. */
function histogramReference(): string[] {
  const perWord = new Map<string, number>();
  for (const line of lines) {
    for (const w of line.split(' ')) perWord.set(w, (perWord.get(w) ?? 0) + 1);
  }
  const byCount = new Map<number, string[]>();
  for (const [w, n] of perWord) if (n >= 2) byCount.set(n, [...(byCount.get(n) ?? []), w]);
  return [...byCount.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([n, ws]) => JSON.stringify({ key: n, value: { words: ws.length, first: ws.sort()[0] } }));
}

/** The scratch directories (`tsmr-job-*`) left under `dir`. */
function scratchLeft(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('tsmr-job-')) : [];
}

function readJobFile(out: string): PipelineReport {
  return JSON.parse(readFileSync(join(out, '_job.json'), 'utf8')) as PipelineReport;
}

/** The records of a tsmr records file, decoded. */
async function readRecords(path: string): Promise<[unknown, unknown][]> {
  const { size, mtimeMs } = statSync(path);
  const [split] = planSplits([{ path, size, mtimeMs }], { splitSize: 1 << 20, whole: true });
  const records: [unknown, unknown][] = [];
  await readSplit(split!, { type: 'tsmr' }, (k, v) => void records.push([k, v]));
  return records;
}

describe('two steps', () => {
  test('count, then top-K: equals a direct computation; one report with a section per step', async () => {
    const out = join(tmp, 'top');
    const scratch = join(tmp, 'scratch-top');
    mkdirSync(scratch);
    const handle = runPipeline(topWords, {
      input,
      output: out,
      workers: 2,
      reducers: 3,
      splitSize: 4096,
      params: { top: 3 },
      tmpDir: scratch,
    });
    const steps: string[] = [];
    const progressSteps = new Set<number>();
    handle.on('step', (s) => steps.push(`${s.index}/${s.count} ${s.name}`));
    handle.on('progress', (s: ProgressSnapshot) => progressSteps.add(s.step!.index));
    const report = await handle.done;
    assert.deepEqual(steps, ['1/2 count', '2/2 top']);
    assert.deepEqual([...progressSteps], [1, 2]);
    assert.deepEqual(readParts(out).lines, topWordsReference(3));

    assert.equal(report.status, 'succeeded');
    assert.deepEqual(report.stepNames, ['count', 'top']);
    const [count, top] = report.steps.map((s) => s.report);
    assert.equal(count!.phases.map!.tasks > 1, true, 'step 1 read several splits');
    assert.equal(count!.outputRecords, counts().size);
    // Step 2 read one split per part file of step 1 (tsmr records are not cut), whatever the split size.
    assert.equal(top!.phases.map!.tasks, 3);
    assert.equal(top!.phases.map!.inputRecords, counts().size);
    assert.equal(report.outputRecords, genres.length);
    assert.deepEqual(report.outputFiles, top!.outputFiles);

    // _job.json is the pipeline's report, the last step's included.
    const written = readJobFile(out);
    assert.equal(written.kind, 'pipeline');
    assert.deepEqual(
      written.steps.map((s) => [s.step, s.name, s.report.status]),
      [
        [1, 'count', 'succeeded'],
        [2, 'top', 'succeeded'],
      ],
    );
    // Intermediate output removed, no scratch left, no _steps.
    assert.ok(!existsSync(join(out, '_steps')));
    assert.deepEqual(scratchLeft(scratch), []);
    assert.ok(!existsSync(count!.settings.output!), 'the intermediate output is gone');

    const text = formatPipelineReport(report);
    assert.match(text, /^tsmr: pipeline top-words succeeded in /);
    assert.match(text, /\n {2}steps {7}2: count, top\n/);
    assert.match(text, /\nstep 1\/2: job count succeeded in /);
    assert.match(text, /\nstep 2\/2: job top succeeded in /);
  });

  test('a failure in the last step leaves only _job.json (failed, with both steps) and names the step', async () => {
    const out = join(tmp, 'top-fails');
    const error = await runPipeline(topWords, {
      input,
      output: out,
      workers: 2,
      maxAttempts: 1,
      params: { failOn: 'c' },
    }).done.then(
      () => assert.fail('the pipeline should fail'),
      (e: unknown) => e,
    );
    assert.ok(isTsmrError(error), String(error));
    assert.equal(error.code, 'TSMR_TASK_FAILED');
    assert.match(error.message, /failing on c as asked/);
    assert.deepEqual(error.details.step, { index: 2, count: 2, name: 'top' });
    assert.deepEqual(readdirSync(out), ['_job.json']);
    const written = readJobFile(out);
    assert.equal(written.status, 'failed');
    assert.deepEqual(
      written.steps.map((s) => s.report.status),
      ['succeeded', 'failed'],
    );
    assert.match(formatPipelineReport(written), /failed at {3}step 2\/2 \(top\)/);
  });
});

describe('three steps with a map-only step', () => {
  test('types survive each step; --keep-intermediate keeps the steps under _steps/', async () => {
    const out = join(tmp, 'histogram');
    const report = await runPipeline(histogram, {
      input,
      output: out,
      workers: 2,
      reducers: 2,
      keepIntermediate: true,
    }).done;
    assert.deepEqual(readParts(out).lines, histogramReference().sort());
    assert.deepEqual(readdirSync(join(out, '_steps')).sort(), ['1-words', '2-keep']);
    const [wordCounts, keep, last] = report.steps;
    assert.equal(keep!.report.settings.reducers, 0, 'keep is map-only');
    assert.equal(keep!.report.phases.reduce, undefined);
    assert.equal(last!.report.settings.reducers, 1, 'a step’s own reducers win over the run’s');
    assert.equal(wordCounts!.keptOutput, join(out, '_steps', '1-words'));
    assert.equal(last!.keptOutput, undefined);

    const wordParts = readdirSync(join(out, '_steps', '1-words')).filter((n) => n.startsWith('part-'));
    assert.deepEqual(wordParts.sort(), ['part-r-00000', 'part-r-00001']);
    const wordRecords = (
      await Promise.all(wordParts.map((p) => readRecords(join(out, '_steps', '1-words', p))))
    ).flat();
    assert.ok(wordRecords.every(([k, v]) => typeof k === 'string' && typeof v === 'number'));
    assert.equal(wordRecords.length, genres.length + words.length);

    const keepParts = readdirSync(join(out, '_steps', '2-keep')).filter((n) => n.startsWith('part-'));
    assert.ok(keepParts.length > 0 && keepParts.every((n) => n.startsWith('part-m-')), keepParts.join());
    const kept = (
      await Promise.all(keepParts.map((p) => readRecords(join(out, '_steps', '2-keep', p))))
    ).flat();
    assert.ok(kept.length > 0);
    for (const [n, word] of kept) {
      assert.equal(typeof n, 'number');
      assert.ok(Buffer.isBuffer(word), 'a Buffer value stays a Buffer');
    }
    const each = JSON.parse(readFileSync(join(out, '_steps', '2-keep', '_job.json'), 'utf8')) as {
      name: string;
    };
    assert.equal(each.name, 'keep', "each kept step has its own job's _job.json");
  });

  test('a failure in step 2 of 3 leaves no output and runs no step 3', async () => {
    const out = join(tmp, 'histogram-fails');
    const handle = runPipeline(histogram, {
      input,
      output: out,
      workers: 2,
      maxAttempts: 1,
      params: { failOn: 'news' },
    });
    await assert.rejects(handle.done, (e) => isTsmrError(e) && e.details.step !== undefined);
    assert.ok(!existsSync(out), 'nothing written to the output');
    assert.equal(handle.report?.status, 'failed');
    assert.deepEqual(
      handle.report?.steps.map((s) => [s.name, s.report.status]),
      [
        ['words', 'succeeded'],
        ['keep', 'failed'],
      ],
    );
  });

  test('without an output directory: results() gives the last step’s records', async () => {
    const results = await collectResults(runPipeline(histogram, { input, workers: 0 }) as never);
    assert.deepEqual(
      results.map(([key, value]) => JSON.stringify({ key, value })),
      histogramReference(),
    );
  });
});

describe('refusals and cancel', () => {
  test('an existing output is refused before any step runs', async () => {
    const out = join(tmp, 'exists');
    mkdirSync(out);
    const handle = runPipeline(topWords, { input, output: out, workers: 1 });
    await assert.rejects(handle.done, (e) => isTsmrError(e) && e.code === 'TSMR_OUTPUT_EXISTS');
    assert.deepEqual(handle.report?.steps, []);
    assert.deepEqual(readdirSync(out), []);
  });

  test('cancel during step 1 cancels it; step 2 never starts', async () => {
    const abort = new AbortController();
    const handle = runPipeline(topWords, {
      input,
      output: join(tmp, 'cancelled'),
      workers: 2,
      signal: abort.signal,
    });
    const started: number[] = [];
    handle.on('step', (s) => {
      started.push(s.index);
      abort.abort();
    });
    await assert.rejects(handle.done, (e) => isTsmrError(e) && e.code === 'TSMR_CANCELLED');
    assert.deepEqual(started, [1]);
    assert.equal(handle.report?.status, 'cancelled');
  });

  test('runJob refuses a pipeline; definePipeline refuses a later step with its own input format or inputs', async () => {
    await assert.rejects(
      runJob(topWords as never, { input }).done,
      (e) => isTsmrError(e) && e.code === 'TSMR_BAD_JOB' && /runPipeline/.test(e.message),
    );
    const a = defineJob({ map() {}, reduce() {} });
    assert.throws(
      () => definePipeline([a, { map() {}, reduce() {}, inputFormat: 'jsonl' }]),
      (e) => isTsmrError(e) && e.code === 'TSMR_BAD_JOB' && /step 2 has inputFormat "jsonl"/.test(e.message),
    );
    assert.throws(
      () => definePipeline([{ ...a, outputFormat: 'text' }, a]),
      (e) => isTsmrError(e) && e.code === 'TSMR_BAD_JOB' && /step 1 has outputFormat/.test(e.message),
    );
    assert.throws(
      () => definePipeline([a, { reduce() {}, inputs: [{ paths: 'x', map() {} }] }]),
      (e) => isTsmrError(e) && /only the first step reads the pipeline's input/.test(e.message),
    );
    assert.throws(
      () => definePipeline([]),
      (e) => isTsmrError(e) && e.code === 'TSMR_BAD_JOB',
    );
  });
});

describe('tsmr run on a pipeline module', () => {
  test('runs every step with one progress display and one report; --keep-intermediate; exit 2 on a job', async () => {
    const out = join(tmp, 'cli');
    const module = new URL('./fixtures/jobs/pipeline-top-words.ts', import.meta.url).pathname;
    const { code, stdout, stderr } = await runCli([
      'run',
      module,
      '--input',
      input,
      '--output',
      out,
      '--workers',
      '2',
      '--keep-intermediate',
    ]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(readParts(out).lines, topWordsReference(2));
    assert.match(stderr, /^step 1\/2 count\n/);
    assert.match(stderr, /\nstep 2\/2 top\n/);
    assert.match(stdout, /^tsmr: pipeline top-words succeeded in /);
    assert.match(stdout, /\n {2}step output kept in /);
    assert.match(stdout, /\nstep 2\/2: job top succeeded/);
    assert.deepEqual(readdirSync(join(out, '_steps')), ['1-count']);
    assert.equal(readJobFile(out).steps.length, 2);

    const job = new URL('./fixtures/jobs/sum-values.ts', import.meta.url).pathname;
    const refused = await runCli([
      'run',
      job,
      '-i',
      input,
      '-o',
      join(tmp, 'cli-job'),
      '--keep-intermediate',
    ]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /--keep-intermediate .* not a pipeline/);
  });
});
