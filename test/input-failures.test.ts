/**
 * Jobs whose input changes while they run, cannot be read, or makes the map
 * fail in a way no retry can fix (issue #8): they fail after one attempt, with
 * an error that names the input file (and byte offset), commit nothing, and
 * still retry what may be flaky.
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
import { gzipSync } from 'node:zlib';
import { defineJob, ErrorCode, isTsmrError, type JobReport, runJob, type TsmrError } from '../src/index.ts';
import { runCli } from './support/run-cli.ts';

const changeInput = new URL('./fixtures/jobs/change-input.ts', import.meta.url);
const countWords = new URL('./fixtures/jobs/count-words.ts', import.meta.url);
const badKey = new URL('./fixtures/jobs/bad-key.ts', import.meta.url);

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-input-failures-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A directory `name` holding `files` (name → content). */
function inputDir(name: string, files: Record<string, string | Buffer>): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  return dir;
}

const text = (lines: number) => Array.from({ length: lines }, (_, i) => `w${i % 50} line ${i}\n`).join('');

/** Runs `job` to failure; returns the error, the report and what the output directory holds. */
async function failing(
  job: URL | Parameters<typeof runJob>[0],
  options: Parameters<typeof runJob>[1],
): Promise<{ error: TsmrError; report: JobReport; left: string[] }> {
  const handle = runJob(job, options);
  const error = await handle.done.then(
    () => assert.fail('the job succeeded'),
    (e: unknown) => e,
  );
  assert.ok(isTsmrError(error), String(error));
  assert.ok(handle.report, 'a report');
  const left = options.output === undefined ? [] : readdirSync(options.output);
  return { error, report: handle.report, left };
}

/** Asserts that the job failed on its first attempt and committed nothing. */
function assertFailedAtOnce(report: JobReport, left: string[]): void {
  assert.equal(report.status, 'failed');
  const failed = report.attempts.filter((a) => a.status === 'failed');
  assert.equal(failed.length, 1, JSON.stringify(report.attempts));
  assert.ok(
    report.attempts.every((a) => a.attempt === 0),
    `no retry: ${report.attempts.map((a) => `${a.taskId}_${a.attempt}`).join(' ')}`,
  );
  assert.deepEqual(left, ['_job.json'], 'no part file, no _SUCCESS');
}

test('an input truncated or appended to while the job reads it fails the job with TSMR_INPUT_CHANGED', async () => {
  for (const change of ['truncate', 'append']) {
    const input = inputDir(`changed-${change}`, { 'in.txt': text(3000) });
    const file = join(input, 'in.txt');
    const out = join(tmp, `out-changed-${change}`);
    const { error, report, left } = await failing(changeInput, {
      input,
      output: out,
      workers: 1,
      params: { file, change, size: 100 },
    });
    assert.equal(error.code, ErrorCode.INPUT_CHANGED, error.message);
    assert.ok(error.message.includes(file), error.message);
    assert.match(error.message, /copy or snapshot them first/);
    assertFailedAtOnce(report, left);
    const written = JSON.parse(readFileSync(join(out, '_job.json'), 'utf8')) as JobReport;
    assert.equal(written.status, 'failed');
    assert.equal(written.error?.code, ErrorCode.INPUT_CHANGED);
  }
});

test('tsmr run: an input changed during the job exits 1 naming the file, leaves no part file and no _SUCCESS', async () => {
  const input = inputDir('cli-changed', { 'in.txt': text(3000) });
  const file = join(input, 'in.txt');
  const out = join(tmp, 'out-cli-changed');
  const r = await runCli([
    'run',
    'test/fixtures/jobs/change-input.ts',
    '-i',
    input,
    '-o',
    out,
    '-q',
    '--param',
    `file=${file}`,
    '--param',
    'change=truncate',
    '--param',
    'size=10',
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /TSMR_INPUT_CHANGED/);
  assert.ok(r.stderr.includes(`the input file ${file} changed`), r.stderr);
  assert.deepEqual(readdirSync(out), ['_job.json']);
  assert.equal(existsSync(join(out, '_SUCCESS')), false);
});

test('an input changed when the job reports its first progress fails the job (event-triggered)', async () => {
  // The map waits at its first record until the first progress snapshot has
  // changed the file: the change happens while the split is read, by an event.
  const input = inputDir('progress-changed', { 'in.txt': text(100) });
  const file = join(input, 'in.txt');
  let changed = (): void => {};
  const fileChanged = new Promise<void>((resolve) => (changed = resolve));
  const slow = defineJob({
    async map(_offset: number, line: string, ctx) {
      await fileChanged;
      ctx.emit(line.slice(0, 3), 1);
    },
    reduce(key: string, _values, ctx) {
      ctx.emit(key, 1);
    },
  });
  const out = join(tmp, 'out-progress-changed');
  const handle = runJob(slow, { input, output: out, workers: 0 });
  handle.once('progress', () => {
    writeFileSync(file, 'replaced\n');
    changed();
  });
  await assert.rejects(handle.done, { code: ErrorCode.INPUT_CHANGED });
  assert.deepEqual(readdirSync(out), ['_job.json']);
});

test('an input file deleted, or made a directory, after planning fails after one attempt', async () => {
  // Small files share one split: the map, at a.txt's first record, removes b.txt before it is opened.
  for (const [change, code] of [
    ['delete', ErrorCode.IO],
    ['directory', ErrorCode.INPUT_CHANGED],
  ] as const) {
    const input = inputDir(`vanish-${change}`, { 'a.txt': 'one two\n', 'b.txt': 'three\n' });
    const file = join(input, 'b.txt');
    const out = join(tmp, `out-vanish-${change}`);
    const { error, report, left } = await failing(changeInput, {
      input,
      output: out,
      workers: 0,
      params: { file, change },
    });
    assert.equal(error.code, code, error.message);
    assert.ok(error.message.includes(file), error.message);
    assertFailedAtOnce(report, left);
  }
});

test('a corrupt .gz input fails after one attempt with TSMR_CORRUPT_DATA naming the file', async () => {
  const good = gzipSync('fine words\n');
  const input = inputDir('corrupt-gz', {
    'a.txt.gz': Buffer.concat([good.subarray(0, 12), Buffer.alloc(40, 7)]),
  });
  const out = join(tmp, 'out-corrupt-gz');
  const { error, report, left } = await failing(countWords, { input, output: out, workers: 1 });
  assert.equal(error.code, ErrorCode.CORRUPT_DATA, error.message);
  assert.ok(error.message.includes(join(input, 'a.txt.gz')), error.message);
  assertFailedAtOnce(report, left);
});

test('a key of an unsupported type fails after one attempt, naming the file and byte offset of the record', async () => {
  const input = inputDir('bad-key', { 'in.txt': 'ok\nBAD here\nok\n' });
  for (const keyType of ['object', 'undefined', 'symbol']) {
    const out = join(tmp, `out-bad-key-${keyType}`);
    const { error, report, left } = await failing(badKey, {
      input,
      output: out,
      workers: 1,
      params: { keyType },
    });
    assert.equal(error.code, ErrorCode.BAD_KEY, error.message);
    assert.ok(
      error.message.includes(`the record at byte 3 of ${join(input, 'in.txt')}`),
      `${keyType}: ${error.message}`,
    );
    assertFailedAtOnce(report, left);
  }
});

test('tsmr run prints the file and byte offset of the record whose key is unsupported', async () => {
  const input = inputDir('cli-bad-key', { 'in.txt': 'ok\nok\nBAD here\n' });
  const out = join(tmp, 'out-cli-bad-key');
  const r = await runCli([
    'run',
    'test/fixtures/jobs/bad-key.ts',
    '-i',
    input,
    '-o',
    out,
    '--param',
    'keyType=object',
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /TSMR_BAD_KEY: .*the record at byte 6 of .*in\.txt: unsupported key of type Object/);
  assert.match(r.stdout, /^ {2}input {7}.*in\.txt at byte 6$/m, r.stdout);
  assert.match(r.stdout, /^ {2}attempts {4}1: 1 failed, 0 retried/m, r.stdout);
});

test('an exception in map is still retried (it may be flaky) and then fails the job', async () => {
  const input = inputDir('flaky', { 'in.txt': 'a\nb\n' });
  const throwing = defineJob({
    map() {
      throw new Error('flaky');
    },
    reduce() {},
  });
  const { error, report } = await failing(throwing, { input, workers: 0, maxAttempts: 3 });
  assert.equal(error.code, ErrorCode.TASK_FAILED);
  assert.equal(report.attempts.filter((a) => a.status === 'failed').length, 3);
});
