/**
 * `tsmr run` as a user meets it: a real child process, real files, exit codes
 * and messages for failures and bad usage.
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
import type { JobReport } from '../src/index.ts';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readParts, repoRoot, runCli } from './support/run-cli.ts';

let tmp = '';
let input = '';

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-cli-'));
  input = join(tmp, 'in');
  mkdirSync(input);
  writeFileSync(join(input, 'a.txt'), 'ok one\nok two\nBOOM here\nok three\n');
  writeFileSync(join(input, '_ignored.txt'), 'BOOM never read\n');
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('a map that throws fails the job after --max-attempts, naming task, attempt, file and offset; no part files', async () => {
  const out = join(tmp, 'out-fail');
  const r = await runCli([
    'run',
    'test/fixtures/jobs/fail-on-record.ts',
    '-i',
    input,
    '-o',
    out,
    '--max-attempts',
    '2',
    '-q',
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /TSMR_TASK_FAILED: task m-00000 failed 2 times/);
  assert.match(r.stderr, new RegExp(`at byte 14 of ${join(input, 'a.txt').replaceAll('/', '\\/')}`));
  assert.match(r.stderr, /cannot map "BOOM here"/);
  assert.match(r.stderr, /fail-on-record\.ts:\d+:\d+/, 'the original stack');
  assert.deepEqual(readdirSync(out), ['_job.json']);
  const report = JSON.parse(readFileSync(join(out, '_job.json'), 'utf8')) as JobReport;
  assert.equal(report.status, 'failed');
  assert.equal(report.attempts.filter((a) => a.status === 'failed').length, 2);
});

test('a successful run prints a JSON report with --json, passes --param and counts with counters', async () => {
  const out = join(tmp, 'out-grep');
  const r = await runCli([
    'run',
    'test/fixtures/jobs/grep-param.ts',
    '-i',
    input,
    '-o',
    out,
    '--param',
    'needle=ok',
    '--json',
    '--metrics-file',
    join(tmp, 'grep.prom'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    readFileSync(join(tmp, 'grep.prom'), 'utf8'),
    /^tsmr_job_counters_total\{.*group="grep",name="matches"\} 3$/m,
  );
  const report = JSON.parse(r.stdout) as JobReport;
  assert.equal(report.status, 'succeeded');
  assert.equal(report.counters['grep/matches'], 3);
  assert.deepEqual(report.settings.params, { needle: 'ok' });
  assert.deepEqual(readParts(out).lines, ['ok one\t1', 'ok three\t1', 'ok two\t1']);
  assert.ok(existsSync(join(out, '_SUCCESS')));
  const written = JSON.parse(readFileSync(join(out, '_job.json'), 'utf8')) as JobReport;
  assert.deepEqual(
    written.outputFiles,
    readParts(out).names.map((n) => join(out, n)),
  );
  assert.ok(written.outputBytes > 0);
  // Prometheus' own linter accepts the file (Debian's prometheus package, installed by .ci/run).
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: readFileSync(join(tmp, 'grep.prom')) });
  assert.equal(lint.error, undefined, 'promtool must be installed (apt-get install prometheus)');
  assert.equal(lint.status, 0, `promtool check metrics: ${String(lint.stdout)}${String(lint.stderr)}`);
});

test('usage errors exit 2 before any task runs and write nothing', async (t) => {
  const out = join(tmp, 'out-usage');
  const cases: Array<[string, string[], RegExp]> = [
    [
      'unknown flag',
      ['run', 'test/fixtures/jobs/count-words.ts', '-i', input, '-o', out, '--frobnicate'],
      /unknown option '--frobnicate'/,
    ],
    [
      'missing input',
      ['run', 'test/fixtures/jobs/count-words.ts', '-i', join(tmp, 'nope'), '-o', out],
      /TSMR_INPUT_NOT_FOUND/,
    ],
    [
      'module without map',
      ['run', 'test/fixtures/jobs/no-map.ts', '-i', input, '-o', out],
      /TSMR_BAD_JOB: .*no map function/,
    ],
    [
      'missing module',
      ['run', 'test/fixtures/jobs/missing.ts', '-i', input, '-o', out],
      /TSMR_BAD_JOB: job module not found/,
    ],
    [
      'bad size',
      ['run', 'test/fixtures/jobs/count-words.ts', '-i', input, '-o', out, '--split-size', 'lots'],
      /expected a size/,
    ],
    [
      'no output',
      ['run', 'test/fixtures/jobs/count-words.ts', '-i', input],
      /required option '-o, --output <dir>'/,
    ],
  ];
  for (const [name, args, message] of cases) {
    await t.test(name, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no bare stack trace');
      assert.equal(existsSync(out), false, 'nothing written');
    });
  }
});

test('an existing output directory is refused unless --overwrite', async () => {
  const out = join(tmp, 'out-exists');
  mkdirSync(out);
  writeFileSync(join(out, 'keep.txt'), 'mine');
  const refused = await runCli(['run', 'test/fixtures/jobs/count-words.ts', '-i', input, '-o', out, '-q']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /TSMR_OUTPUT_EXISTS/);
  assert.equal(readFileSync(join(out, 'keep.txt'), 'utf8'), 'mine');
  const replaced = await runCli([
    'run',
    'test/fixtures/jobs/count-words.ts',
    '-i',
    input,
    '-o',
    out,
    '-q',
    '--overwrite',
  ]);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.equal(existsSync(join(out, 'keep.txt')), false);
  assert.ok(existsSync(join(out, '_SUCCESS')));
});

test('--help lists the options and examples', async () => {
  const r = await runCli(['run', '--help']);
  assert.equal(r.code, 0);
  for (const flag of [
    '--input',
    '--output',
    '--reducers',
    '--workers',
    '--simulate-failures',
    '--verify',
    '--mapper',
  ]) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});

test("the README's quickstart job runs as shown", async () => {
  const out = join(tmp, 'out-quickstart');
  const r = await runCli(['run', 'examples/quickstart.ts', '--input', input, '--output', out, '-q']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readParts(out).lines, ['BOOM\t1', 'here\t1', 'ok\t3', 'one\t1', 'three\t1', 'two\t1']);
});

test('SIGINT cancels a running job: exit 130, no part files, _job.json says cancelled', async () => {
  const slowInput = join(tmp, 'slow');
  mkdirSync(slowInput);
  writeFileSync(join(slowInput, 'lines.txt'), Array.from({ length: 2000 }, (_, i) => `line ${i}\n`).join(''));
  const out = join(tmp, 'out-sigint');
  const child = spawn(
    process.execPath,
    ['bin/tsmr.js', 'run', 'test/fixtures/jobs/slow-map.ts', '-i', slowInput, '-o', out],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  const started = new Promise<void>((resolve) => {
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (/map .*started/.test(stderr)) resolve();
    });
  });
  await started;
  child.kill('SIGINT');
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 130, stderr);
  assert.match(stderr, /TSMR_CANCELLED/);
  assert.deepEqual(readdirSync(out), ['_job.json']);
  const report = JSON.parse(readFileSync(join(out, '_job.json'), 'utf8')) as JobReport;
  assert.equal(report.status, 'cancelled');
});
