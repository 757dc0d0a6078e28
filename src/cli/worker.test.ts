/**
 * `tsmr worker` as a user meets it: a real child process registering with a
 * stub coordinator in this process; its one stdout line, exit codes, signals.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { TEST_TOKEN, withDeadline } from '../runtime/cluster/test-support.ts';
import { startStub, tempDir } from '../runtime/cluster/worker-test-support.ts';
import { repoRoot, runCli } from '../../test/support/run-cli.ts';

const LINE =
  /^tsmr worker (\S+): registered with (\S+) \(incarnation (\d+)\), shuffle on (http:\/\/127\.0\.0\.1:\d+)$/;

/** Starts `tsmr worker` with the token in its environment and its temp dir in `tmp`; killed after the test. */
function startWorkerCli(t: TestContext, args: string[], tmp: string) {
  const child = spawn(process.execPath, [join(repoRoot, 'bin/tsmr.js'), 'worker', ...args], {
    cwd: repoRoot,
    env: { ...process.env, TSMR_TOKEN: TEST_TOKEN, TMPDIR: tmp, TSMR_LOG_LEVEL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const lines: string[] = [];
  const firstLine = new Promise<string>((resolve) =>
    createInterface({ input: child.stdout }).on('line', (l) => {
      lines.push(l);
      if (lines.length === 1) resolve(l);
    }),
  );
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, firstLine, exited, lines, stderr: () => stderr };
}

/** The default work dirs in `tmp` (Node's compile cache is there too). */
const workDirs = (tmp: string) => readdirSync(tmp).filter((n) => n.startsWith('tsmr-worker-'));

test('tsmr worker --help lists its flags', async () => {
  const r = await runCli(['worker', '--help']);
  assert.equal(r.code, 0);
  for (const flag of [
    '--coordinator',
    '--token-file',
    '--slots',
    '--host',
    '--port',
    '--work-dir',
    '--worker-id',
    '--tls-ca',
    '--tls-cert',
    '--tls-key',
    '--log-level',
  ]) {
    assert.ok(r.stdout.includes(flag), `--help mentions ${flag}`);
  }
});

test('bad usage exits 2 with a clear message and no stack', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--frobnicate'], /unknown option '--frobnicate'/],
    [['--coordinator', 'http://127.0.0.1:1', '--slots', 'two'], /--slots <n>.*expected a whole number/],
    [['--coordinator', 'http://127.0.0.1:1', '--worker-id', '-bad'], /a worker id is 1-128 letters/],
    [['--coordinator', 'http://127.0.0.1:1', '--port', '70000'], /expected a port from 0 to 65535/],
    [[], /give the coordinator's URL: --coordinator/],
    [['--coordinator', 'ftp://x:1'], /http:\/\/host:port or https:\/\/host:port/],
  ];
  for (const [args, message] of cases) {
    await t.test(args.join(' ') || '(no coordinator)', async () => {
      const r = await runCli(['worker', ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});

test('tsmr worker prints one line once registered and exits 0 on SIGTERM, leaving no work dir', async (t) => {
  const stub = await startStub(t);
  const tmp = tempDir(t);
  const w = startWorkerCli(t, ['--coordinator', stub.url, '--host', '127.0.0.1', '--slots', '1'], tmp);
  const line = await withDeadline(w.firstLine, 30_000, 'the registered line');
  const [, id, url, incarnation, shuffleUrl] = LINE.exec(line) ?? assert.fail(`unexpected line: ${line}`);
  assert.equal(url, stub.url);
  assert.equal(incarnation, '1');
  assert.equal(stub.registrations[0].workerId, id);
  assert.equal(stub.registrations[0].shuffleUrl, shuffleUrl);
  assert.match(id, new RegExp(`-${new URL(shuffleUrl).port}$`));
  await stub.until(() => stub.sessions.length === 1, 'its session opens');
  assert.equal(workDirs(tmp).length, 1, 'its work dir is in the temp dir');

  w.child.kill('SIGTERM');
  const [code] = await withDeadline(w.exited, 20_000, 'the worker exits');
  assert.equal(code, 0, w.stderr());
  assert.deepEqual(w.lines, [line], 'exactly one line on stdout');
  assert.match(w.stderr(), /"worker":"[^"]+"/, 'structured logs name the worker');
  assert.deepEqual(workDirs(tmp), [], 'the work dir is deleted');
  await stub.until(() => stub.sessions[0].ended, 'its session ends');
});

test('tsmr worker exits 0 when the coordinator drains it, and 1 with its message when it refuses it', async (t) => {
  const stub = await startStub(t);
  const tmp = tempDir(t);
  const w = startWorkerCli(
    t,
    ['--coordinator', stub.url, '--host', '127.0.0.1', '--worker-id', 'w-cli'],
    tmp,
  );
  await withDeadline(w.firstLine, 30_000, 'the registered line');
  await stub.until(() => stub.sessions.length === 1, 'its session opens');
  stub.send('w-cli', { case: 'drain', value: { reason: 'coordinator shutdown' } });
  const [code] = await withDeadline(w.exited, 20_000, 'the drained worker exits');
  assert.equal(code, 0, w.stderr());

  const refusing = await startStub(t, {
    refuse: 'worker tsmr 0.1.0 is not coordinator tsmr 0.2.0: install 0.2',
  });
  const r = startWorkerCli(t, ['--coordinator', refusing.url, '--host', '127.0.0.1'], tmp);
  const [refusedCode] = await withDeadline(r.exited, 30_000, 'the refused worker exits');
  assert.equal(refusedCode, 1);
  assert.match(r.stderr(), /TSMR_REFUSED: worker tsmr 0\.1\.0 is not coordinator tsmr 0\.2\.0: install 0\.2/);
  assert.deepEqual(r.lines, []);
});
