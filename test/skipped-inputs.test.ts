/**
 * Entries of an input directory that hold nothing to read (a FIFO, a dangling
 * symbolic link) are skipped with a warning: on stderr when `tsmr run`
 * starts, in the printed report and in `_job.json`. Hidden names stay silent.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { JobReport } from '../src/index.ts';
import { readParts, runCli } from './support/run-cli.ts';

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-skipped-inputs-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('tsmr run warns about a FIFO and a dangling symlink in an input directory and lists them in _job.json', async () => {
  const input = join(tmp, 'in');
  mkdirSync(join(input, 'sub'), { recursive: true });
  writeFileSync(join(input, 'a.txt'), 'one two\n');
  execFileSync('mkfifo', [join(input, 'sub', 'pipe'), join(input, '.hidden-pipe')]);
  symlinkSync(join(tmp, 'gone.txt'), join(input, 'dangling.txt'));
  symlinkSync(join(tmp, 'gone.txt'), join(input, '_hidden-link'));
  const out = join(tmp, 'out');
  const r = await runCli(['run', 'test/fixtures/jobs/count-words.ts', '-i', input, '-o', out, '-w', '1']);
  assert.equal(r.code, 0, r.stderr);
  const warning =
    `skipped 2 input entries that hold nothing to read: ${join(input, 'dangling.txt')} (dangling symlink), ` +
    `${join(input, 'sub', 'pipe')} (fifo)`;
  assert.ok(r.stderr.includes(`tsmr: warning: ${warning}\n`), r.stderr);
  assert.ok(r.stdout.includes(`  warning     ${warning}\n`), r.stdout);
  assert.deepEqual(readParts(out).lines, ['one\t1', 'two\t1']);
  const report = JSON.parse(readFileSync(join(out, '_job.json'), 'utf8')) as JobReport;
  assert.deepEqual(report.inputsSkipped, {
    count: 2,
    listed: [
      { path: join(input, 'dangling.txt'), reason: 'dangling symlink' },
      { path: join(input, 'sub', 'pipe'), reason: 'fifo' },
    ],
  });
});

test('without skipped entries there is no warning and no inputsSkipped', async () => {
  const input = join(tmp, 'plain');
  mkdirSync(input);
  writeFileSync(join(input, 'a.txt'), 'one\n');
  const out = join(tmp, 'out-plain');
  const r = await runCli([
    'run',
    'test/fixtures/jobs/count-words.ts',
    '-i',
    input,
    '-o',
    out,
    '-w',
    '1',
    '-q',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /warning/);
  const report = JSON.parse(readFileSync(join(out, '_job.json'), 'utf8')) as JobReport;
  assert.equal('inputsSkipped' in report, false);
});
