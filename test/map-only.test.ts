/**
 * Map-only jobs (R = 0, Hadoop's `setNumReduceTasks(0)`): no shuffle, each map
 * task writes what it emits to `part-m-NNNNN`, committed like a reduce
 * attempt's output; in worker threads, in-process, without an output
 * directory, and through the CLI with `--reducers 0`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collectResults, defineJob, isTsmrError, runJob } from '../src/index.ts';
import { runCli } from './support/run-cli.ts';

const job = new URL('./fixtures/jobs/upper-lines.ts', import.meta.url);
const counting = new URL('./fixtures/jobs/sum-values.ts', import.meta.url);
let tmp = '';
let input = '';
const files: string[][] = [];

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-map-only-'));
  for (let f = 0; f < 3; f++) {
    files.push(Array.from({ length: 50 + f * 10 }, (_, i) => `line ${i} of file ${f}`));
    writeFileSync(join(tmp, `in-${f}.txt`), `${files[f]!.join('\n')}\n`);
  }
  input = tmp;
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** `offset\tLINE` lines of file `f`, as the map-only job writes them. */
function expectedLines(f: number): string[] {
  let offset = 0;
  return files[f]!.map((line) => {
    const out = `${offset}\t${line.toUpperCase()}`;
    offset += Buffer.byteLength(line) + 1;
    return out;
  });
}

test('a job without reduce is map-only: one part-m file per map task, in emit order, no reduce phase', async () => {
  const out = join(tmp, 'out-threads');
  const report = await runJob(job, {
    input: [join(tmp, 'in-*.txt')],
    output: out,
    workers: 2,
    splitSize: 300,
  }).done;
  assert.equal(report.settings.reducers, 0);
  assert.equal(report.phases.reduce, undefined);
  const maps = report.phases.map!.tasks;
  assert.ok(maps > 3, `several splits per file: ${maps}`);
  const parts = readdirSync(out)
    .filter((n) => n.startsWith('part-'))
    .sort();
  assert.deepEqual(
    parts,
    Array.from({ length: maps }, (_, i) => `part-m-${String(i).padStart(5, '0')}`),
  );
  const written = parts.flatMap((name) => readFileSync(join(out, name), 'utf8').split('\n').filter(Boolean));
  assert.deepEqual(written, [0, 1, 2].flatMap(expectedLines));
  const total = files.reduce((n, lines) => n + lines.length, 0);
  assert.equal(report.outputRecords, total);
  assert.equal(report.counters['tsmr/MAP_OUTPUT_RECORDS'], total);
  assert.equal(report.validation.inputBytesMatch, true);
  assert.deepEqual(readdirSync(out).sort(), ['_SUCCESS', '_job.json', ...parts]);
});

test('map-only without an output directory: results in map task order, then emit order', async () => {
  const results = await collectResults<number, string>(
    runJob(job, { input: [join(tmp, 'in-*.txt')], workers: 2, splitSize: 300 }),
  );
  const expected = [0, 1, 2].flatMap((f) => expectedLines(f));
  assert.deepEqual(
    results.map(([k, v]) => `${k}\t${v}`),
    expected,
  );
});

test('reducers: 0 runs a job that has a reduce map-only, as Hadoop does', async () => {
  const sums = join(tmp, 'sums.txt');
  writeFileSync(sums, 'a 1\nb 2\na 3\n');
  const results = await collectResults(runJob(counting, { input: sums, reducers: 0, workers: 0 }));
  assert.deepEqual(results, [
    ['a', 1],
    ['b', 2],
    ['a', 3],
  ]);
});

test('a job without reduce refuses reducers other than 0, before any task runs', async () => {
  await assert.rejects(
    runJob(job, { input, reducers: 2, output: join(tmp, 'never') }).done,
    (e) => isTsmrError(e) && e.code === 'TSMR_USAGE' && /map-only/.test(e.message),
  );
  assert.ok(!readdirSync(tmp).includes('never'));
  assert.throws(
    () => defineJob({ map() {}, reducers: 3 }),
    (e) => isTsmrError(e) && e.code === 'TSMR_BAD_JOB' && /no reduce function/.test(e.message),
  );
});

test('tsmr run --reducers 0 writes part-m files', async () => {
  const out = join(tmp, 'out-cli');
  const { code, stderr } = await runCli([
    'run',
    counting.pathname,
    '--input',
    join(tmp, 'in-0.txt'),
    '--output',
    out,
    '--reducers',
    '0',
    '--quiet',
  ]);
  assert.equal(code, 0, stderr);
  assert.deepEqual(
    readdirSync(out)
      .filter((n) => n.startsWith('part-'))
      .sort(),
    ['part-m-00000'],
  );
});
