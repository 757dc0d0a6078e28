/**
 * Faults that used to cost far too much (issue 8): hung attempts, absurd
 * worker counts, a parent that dies, and scratch space left by killed or
 * exited processes. Real `tsmr run` processes, real signals.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
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
import { isAlive, pollUntil } from './support/poll.ts';
import { readParts, repoRoot, runCli, startCli } from './support/run-cli.ts';

let tmp = '';
let input = '';

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-faults-'));
  input = join(tmp, 'in.txt');
  writeFileSync(input, Array.from({ length: 20 }, (_, i) => `w${i % 4}\n`).join(''));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A fresh directory under the test's temp dir. */
function dir(name: string): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  return d;
}

const scratchDirs = (root: string) => readdirSync(root).filter((n) => n.startsWith('tsmr-job-'));

for (const workers of ['0', '2']) {
  test(`--task-timeout: a hung attempt (workers ${workers}) is named as stalled, killed and retried, and the job fails in seconds`, async () => {
    const r = await runCli([
      'run',
      'test/fixtures/jobs/hang-map.ts',
      '-i',
      input,
      '-o',
      join(tmp, `out-hang-${workers}`),
      '-w',
      workers,
      '--task-timeout',
      '1s',
      '--max-attempts',
      '2',
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /TSMR_TASK_FAILED: task m-00000 failed 2 times; last error: attempt m-00000_1 made no progress for 1000 ms/,
    );
    assert.match(r.stderr, /stalled \(no progress; killed at 1\.0 s\): m-00000_0/);
  });
}

test('--task-timeout: a slow map that keeps making progress is not timed out', async () => {
  const out = join(tmp, 'out-paced');
  const r = await runCli([
    'run',
    'test/fixtures/jobs/paced-map.ts',
    '-i',
    input,
    '-o',
    out,
    '-w',
    '1',
    '--param',
    'ms=200',
    '--task-timeout',
    '3s',
    '--max-attempts',
    '1',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readParts(out).lines, ['w0\t5', 'w1\t5', 'w2\t5', 'w3\t5']);
});

test('an absurd worker count is refused before anything runs, saying what the limit is and why', async () => {
  const out = join(tmp, 'out-w1000');
  const r = await runCli(['run', 'test/fixtures/jobs/count-words.ts', '-i', input, '-o', out, '-w', '1000']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /TSMR_USAGE: workers must be at most \d+ on this machine \(.+\); got 1000/);
  assert.equal(existsSync(out), false);
});

test('a tsmr whose parent is SIGKILLed cancels its job and exits, leaving no scratch directory', async () => {
  const scratch = dir('scratch-orphan');
  // A parent that starts tsmr (a hung job on 16 threads) and prints its pid.
  const parent = spawn(
    process.execPath,
    [
      '-e',
      `const { spawn } = require('node:child_process');
       const c = spawn(process.execPath, process.argv.slice(1), { stdio: ['ignore', 'ignore', 'ignore'] });
       console.log(c.pid);
       setInterval(() => {}, 1000);`,
      join(repoRoot, 'bin/tsmr.js'),
      'run',
      join(repoRoot, 'test/fixtures/jobs/hang-map.ts'),
      '-i',
      input,
      '-o',
      join(tmp, 'out-orphan'),
      '-w',
      '16',
      '--tmp-dir',
      scratch,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(parent.stdout.setEncoding('utf8'), 'data')) as [string];
  const pid = Number(line.trim());
  await pollUntil('the job to start', () => scratchDirs(scratch).length > 0);
  parent.kill('SIGKILL');
  await pollUntil('the orphaned tsmr to exit', () => !isAlive(pid), { timeoutMs: 30_000 });
  assert.deepEqual(scratchDirs(scratch), []);
});

test('scratch left by a SIGKILLed tsmr is removed by the next job; a live job’s is kept', async () => {
  const scratch = dir('scratch-stale');
  const hang = (out: string) => [
    'run',
    'test/fixtures/jobs/hang-map.ts',
    '-i',
    input,
    '-o',
    join(tmp, out),
    '--tmp-dir',
    scratch,
  ];
  const killed = startCli(hang('out-k'));
  const [stale] = await pollUntil('a scratch dir with its owner file', () => {
    const found = scratchDirs(scratch).filter((n) => existsSync(join(scratch, n, 'owner.json')));
    return found.length > 0 && found;
  });
  killed.kill('SIGKILL');
  await once(killed, 'close');
  // A job of another live process: its scratch dir must survive.
  const live = startCli(hang('out-l'));
  const [alive] = await pollUntil('the live job’s scratch dir', () => {
    const found = scratchDirs(scratch).filter(
      (n) => n !== stale && existsSync(join(scratch, n, 'owner.json')),
    );
    return found.length > 0 && found;
  });
  try {
    const out = join(tmp, 'out-after-kill');
    const r = await runCli([
      'run',
      'test/fixtures/jobs/count-words.ts',
      '-i',
      input,
      '-o',
      out,
      '--tmp-dir',
      scratch,
      '-q',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(scratchDirs(scratch), [alive]);
  } finally {
    live.kill('SIGKILL');
    await once(live, 'close');
  }
});

test('process.exit(0) inside an in-process map does not end the job with exit code 0, and leaves no scratch', async () => {
  const scratch = dir('scratch-exit');
  const out = join(tmp, 'out-exit');
  const r = await runCli([
    'run',
    'test/fixtures/jobs/exit-in-map.ts',
    '-i',
    input,
    '-o',
    out,
    '-w',
    '0',
    '--tmp-dir',
    scratch,
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /the process exited while job job-\S+ was running \(process\.exit\(\) called by job code\?\)/,
  );
  assert.deepEqual(scratchDirs(scratch), []);
  assert.ok(!readdirSync(out).some((n) => n.startsWith('part-') || n === '_SUCCESS'));
});

test('a second Ctrl-C stops at once with exit 130 and leaves no scratch', async () => {
  const scratch = dir('scratch-sigint');
  const child = startCli([
    'run',
    'test/fixtures/jobs/hang-map.ts',
    '-i',
    input,
    '-o',
    join(tmp, 'out-int'),
    '-w',
    '0',
    '--tmp-dir',
    scratch,
  ]);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  await pollUntil('the map phase to start', () => /map .*started/.test(stderr));
  child.kill('SIGINT');
  await pollUntil('the first SIGINT to be taken', () => /cancelling the job/.test(stderr));
  child.kill('SIGINT');
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 130, stderr);
  assert.deepEqual(scratchDirs(scratch), []);
});

test('--overwrite: a rerun that fails leaves yesterday’s output as it was; one that succeeds replaces it', async () => {
  const out = join(tmp, 'out-overwrite');
  const good = await runCli(['run', 'test/fixtures/jobs/count-words.ts', '-i', input, '-o', out, '-q']);
  assert.equal(good.code, 0, good.stderr);
  const before = Object.fromEntries(readdirSync(out).map((n) => [n, readFileSync(join(out, n), 'utf8')]));
  const bad = join(tmp, 'bad.txt');
  writeFileSync(bad, 'BOOM\n');
  const failed = await runCli([
    'run',
    'test/fixtures/jobs/fail-on-record.ts',
    '-i',
    bad,
    '-o',
    out,
    '--overwrite',
    '--max-attempts',
    '1',
    '-q',
  ]);
  assert.equal(failed.code, 1, failed.stderr);
  const after = Object.fromEntries(readdirSync(out).map((n) => [n, readFileSync(join(out, n), 'utf8')]));
  assert.deepEqual(after, before);
  const again = await runCli([
    'run',
    'test/fixtures/jobs/count-words.ts',
    '-i',
    bad,
    '-o',
    out,
    '--overwrite',
    '-q',
  ]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(readParts(out).lines, ['BOOM\t1']);
});

test('an output path under a regular file is a usage error (exit 2), without a stack trace', async () => {
  const file = join(tmp, 'plain-file');
  writeFileSync(file, 'x');
  const r = await runCli(['run', 'test/fixtures/jobs/count-words.ts', '-i', input, '-o', join(file, 'out')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /TSMR_USAGE: cannot create the output directory .*: a parent of it is a file/);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
});
