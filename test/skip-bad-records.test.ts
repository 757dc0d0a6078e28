/**
 * Skip mode (`--skip-bad-records`) end to end: the real CLI in a child
 * process on real files, and `runJob` on JSONL and in-memory input. A map
 * that throws on some records leaves them out and the job commits, with the
 * records and their errors in `<out>/_skipped/`; one bad record more than
 * allowed fails the job and leaves no `_skipped/` behind.
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
import { collectResults, isTsmrError, type JobReport, runJob } from '../src/index.ts';
import { readParts, runCli } from './support/run-cli.ts';

const failOnRecord = 'test/fixtures/jobs/fail-on-record.ts';
let tmp = '';
let input = '';
const lines = {
  a: ['alpha', 'b BOOM', 'gamma', 'delta'],
  b: ['epsilon', 'BOOM', 'zeta', 'eta BOOM', 'theta'],
};

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-skip-bad-records-'));
  input = join(tmp, 'in');
  mkdirSync(input);
  for (const [name, content] of Object.entries(lines)) {
    writeFileSync(join(input, `${name}.txt`), content.map((l) => `${l}\n`).join(''));
  }
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The skipped-records lines of `out`, parsed, in file order. */
function skippedLines(out: string): Record<string, unknown>[] {
  const dir = join(out, '_skipped');
  return readdirSync(dir)
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').trimEnd().split('\n'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('the CLI skips the records map throws on, even with --max-attempts 1, and writes them to _skipped/', async () => {
  const out = join(tmp, 'out-ok');
  const r = await runCli([
    'run',
    failOnRecord,
    '-i',
    input,
    '-o',
    out,
    '--skip-bad-records',
    '3',
    '--max-attempts',
    '1',
    '--split-size',
    '20',
    '--reducers',
    '2',
    '--verify',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const good = [...lines.a, ...lines.b].filter((l) => !l.includes('BOOM'));
  assert.deepEqual(readParts(out).lines, good.map((l) => `${l}\t1`).sort());
  assert.deepEqual(
    skippedLines(out).map((s) => [s.file, s.offset, s.record, (s.error as { code: string }).code]),
    [
      [join(input, 'a.txt'), 6, 'b BOOM', 'TSMR_USER_CODE'],
      [join(input, 'b.txt'), 8, 'BOOM', 'TSMR_USER_CODE'],
      [join(input, 'b.txt'), 18, 'eta BOOM', 'TSMR_USER_CODE'],
    ],
  );
  assert.match(
    (skippedLines(out)[0]!.error as { message: string }).message,
    /^map failed on the record at byte 6 of .*a\.txt: cannot map "b BOOM"$/,
  );
  const report = JSON.parse(readFileSync(join(out, '_job.json'), 'utf8')) as JobReport;
  assert.equal(report.counters['tsmr/MAP_SKIPPED_RECORDS'], 3);
  assert.equal(report.skippedRecords?.count, 3);
  assert.equal(report.settings.skipBadRecords, 3);
  assert.deepEqual(
    report.skippedRecords?.listed.map((s) => s.offset),
    [6, 8, 18],
  );
  assert.ok(
    report.outputFiles.every((f) => /part-r-0000[01]$/.test(f)),
    'output files are the parts',
  );
  assert.equal(report.validation.verifiedAgainstSequential, true);
  const failed = report.attempts.filter((a) => a.status === 'failed');
  assert.equal(failed.length, 3, 'one failed attempt per bad record, none counted against --max-attempts');
  assert.match(
    r.stdout,
    /skipped {5}3 bad records \(of at most 3\), in .*out-ok\/_skipped\/ with their errors/,
  );
});

test('one bad record more than --skip-bad-records allows fails the job: exit 1, no _skipped/, no parts', async () => {
  const out = join(tmp, 'out-too-many');
  const r = await runCli(['run', failOnRecord, '-i', input, '-o', out, '--skip-bad-records', '2', '-w', '1']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /TSMR_TASK_FAILED/);
  assert.match(r.stderr, /one bad record more than --skip-bad-records 2 allows \(2 skipped already\)/);
  assert.match(r.stderr, /fix the input or the map function, or raise the limit/);
  assert.deepEqual(readdirSync(out).sort(), ['_job.json']);
  const report = JSON.parse(readFileSync(join(out, '_job.json'), 'utf8')) as JobReport;
  assert.equal(report.status, 'failed');
  assert.equal(report.skippedRecords?.count, 2);
  assert.equal(report.error?.code, 'TSMR_TASK_FAILED');
});

test('without --skip-bad-records a bad record fails the job as before', async () => {
  const out = join(tmp, 'out-off');
  const r = await runCli(['run', failOnRecord, '-i', input, '-o', out, '--max-attempts', '2', '-q']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /task m-\d+ failed 2 times/);
  assert.ok(!existsSync(join(out, '_skipped')));
});

test('runJob: unparsable JSONL lines are skipped; without an output they are only reported', async () => {
  const file = join(tmp, 'events.jsonl');
  writeFileSync(file, '{"w":"a"}\n{"w":\n{"w":"b"}\nnot json\n{"w":"a"}\n');
  const handle = runJob(new URL('./fixtures/jobs/count-json-words.ts', import.meta.url), {
    input: file,
    workers: 2,
    skipBadRecords: 5,
  });
  assert.deepEqual(await collectResults(handle), [
    ['a', 2],
    ['b', 1],
  ]);
  const report = await handle.done;
  assert.deepEqual(
    report.skippedRecords?.listed.map((s) => [s.offset, s.error.code]),
    [
      [10, 'TSMR_BAD_RECORD'],
      [26, 'TSMR_BAD_RECORD'],
    ],
  );
  assert.equal(report.counters['tsmr/MAP_SKIPPED_RECORDS'], 2);
});

test('runJob: in-memory items are skipped by index, and written to _skipped/ as JSON', async () => {
  const out = join(tmp, 'out-memory');
  const handle = runJob(new URL('./fixtures/jobs/count-json-words.ts', import.meta.url), {
    input: [{ w: 'a' }, { bad: 1n }, { w: 'b' }],
    output: out,
    workers: 0,
    skipBadRecords: 1,
  });
  const report = await handle.done;
  assert.equal(report.skippedRecords?.listed[0]?.index, 1);
  const [line] = skippedLines(out);
  assert.deepEqual(
    { index: line!.index, record: line!.record, code: (line!.error as { code: string }).code },
    { index: 1, record: { bad: '1' }, code: 'TSMR_USER_CODE' },
  );
  assert.ok(!('file' in line!), 'in-memory items have no input file');
  await assert.rejects(
    runJob(new URL('./fixtures/jobs/count-json-words.ts', import.meta.url), {
      input: [{ bad: 1 }, { bad: 2 }],
      workers: 0,
      skipBadRecords: 1,
    }).done,
    (e: unknown) => isTsmrError(e) && e.code === 'TSMR_TASK_FAILED',
  );
});
