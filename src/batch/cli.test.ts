/**
 * End-to-end tests of `tsmr batch`: the real CLI in a child process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const bin = fileURLToPath(new URL('../../bin/tsmr.js', import.meta.url));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function tsmr(...args: string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'batch', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('compare io --json: both runs, same results, the report fields', async () => {
  const r = await tsmr('compare', '40', '8', '--latency', '5ms', '--json');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.spec, { workload: 'io', count: 40, latencyMs: 5, failureRate: 0, seed: 1 });
  assert.equal(report.workers, 8);
  assert.equal(report.sequential.workers, 1);
  assert.equal(report.parallel.mode, 'async');
  assert.equal(report.sequential.count, 40);
  assert.equal(report.parallel.count, 40);
  assert.equal(report.match, true);
  assert.equal(report.sequential.digest, report.parallel.digest);
  for (const key of ['speedup', 'efficiency']) assert.equal(typeof report[key], 'number');
  assert.equal(typeof report.parallel.throughput, 'number');
  assert.equal(typeof report.parallel.latency.p99, 'number');
});

test('compare numeric with injected failures: the same items fail in both runs', async () => {
  const r = await tsmr(
    'compare',
    '150',
    '2',
    '--workload',
    'numeric',
    '--failure-rate',
    '0.2',
    '--seed',
    '3',
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.parallel.mode, 'threads');
  assert.ok(report.sequential.failed > 10, `failed ${report.sequential.failed}`);
  assert.equal(report.parallel.failed, report.sequential.failed);
  assert.equal(report.match, true);
});

test('compare text prints the human report', async () => {
  const r = await tsmr('compare', '120', '2', '--workload', 'text');
  assert.equal(r.code, 0, r.stderr);
  for (const line of [
    /^items +120$/m,
    /^workload +text \(seed 1\)$/m,
    /^parallel +2 threads, batch size \d+$/m,
  ]) {
    assert.match(r.stdout, line);
  }
  assert.match(r.stdout, /^time +\S+ m?s +\S+ m?s$/m);
  assert.match(r.stdout, /^speedup +\d+\.\d\d×$/m);
  assert.match(r.stdout, /^efficiency +\d+\.\d% \(speedup \/ 2 workers\)$/m);
  assert.match(r.stdout, /^results match +yes$/m);
});

test('parallel: plain progress lines on stderr off a terminal, a summary on stdout', async () => {
  const r = await tsmr('parallel', '50', '10', '--latency', '2ms');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^io 50\/50 \(100\.0%\) done, .* items\/s, ETA 0s, failed 0$/m);
  assert.match(r.stdout, /^items +50$/m);
  assert.match(r.stdout, /^failed +0$/m);
  assert.match(r.stdout, /^latency +p50 .* p99 /m);
});

test('parallel: exit code 1 when items failed; --retries lowers the failures; --no-progress is quiet', async () => {
  const once = await tsmr(
    'parallel',
    '60',
    '20',
    '--latency',
    '1ms',
    '--failure-rate',
    '0.5',
    '--json',
    '--no-progress',
  );
  assert.equal(once.code, 1);
  assert.equal(once.stderr, '');
  const first = JSON.parse(once.stdout);
  assert.ok(first.failed > 10);
  const retried = await tsmr(
    'parallel',
    '60',
    '20',
    '--latency',
    '1ms',
    '--failure-rate',
    '0.5',
    '--retries',
    '3',
    '--json',
    '--no-progress',
  );
  const second = JSON.parse(retried.stdout);
  assert.ok(second.failed < first.failed, `${second.failed} failures with retries, ${first.failed} without`);
  assert.ok(second.attempts > 60);
});

test('bad flags and arguments exit 2 with a clear message', async () => {
  const cases: [string[], RegExp][] = [
    [['compare', '10', '--bogus'], /unknown option '--bogus'/],
    [['compare', '10', '--latency', 'abc'], /"abc" is not a duration; write it like 500ms/],
    [['compare', '0'], /argument 'count'.*expected a number >= 1/],
    [['parallel', '10', '--workload', 'foo'], /Allowed choices are io, text, numeric/],
    [['parallel', '10', '--failure-rate', '2'], /expected a probability between 0 and 1/],
    [['compare'], /missing required argument 'count'/],
  ];
  await Promise.all(
    cases.map(async ([args, message]) => {
      const r = await tsmr(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(r.stdout, '');
    }),
  );
});

test('benchmark --quick --json: every scenario runs and matches', async () => {
  const r = await tsmr('benchmark', '--quick', '--json');
  assert.equal(r.code, 0, r.stderr);
  const { cores, rows } = JSON.parse(r.stdout);
  assert.ok(cores >= 1);
  assert.deepEqual(
    rows.map((row: { spec: { workload: string } }) => row.spec.workload),
    ['numeric', 'text', 'io', 'io'],
  );
  assert.ok(rows.every((row: { match: boolean }) => row.match));
  assert.deepEqual(rows.map((row: { workers: number }) => row.workers).slice(2), [16, 250]);
});
