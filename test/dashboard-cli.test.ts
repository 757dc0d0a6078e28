/**
 * The CLI around the dashboard, as a user meets it (real processes, no
 * browser): `tsmr run --monitor-workers`, `tsmr report` printing a finished
 * job again (text and JSON) and refusing what is not a report, and
 * `--dashboard-port` on a port in use.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from './support/run-cli.ts';

let tmp = '';
let input = '';

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-dashboard-cli-'));
  input = join(tmp, 'in');
  mkdirSync(input);
  for (const name of ['a', 'b']) {
    writeFileSync(
      join(input, `${name}.txt`),
      Array.from({ length: 40 }, (_, i) => `${name}${i % 5} x\n`).join(''),
    );
  }
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('--monitor-workers prints the worker table with the progress lines; tsmr report prints the report again', async () => {
  const out = join(tmp, 'out');
  const run = await runCli([
    'run',
    'test/fixtures/jobs/html-keys.ts',
    '-i',
    input,
    '-o',
    out,
    '-w',
    '2',
    '--monitor-workers',
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /^worker +state +slots +running +done +failed +records\/s +RSS$/m);
  assert.match(run.stderr, /^local +alive +[0-2]\/2 +/m);

  const text = await runCli(['report', join(out, '_job.json')]);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout.trim(), run.stdout.trim(), 'the report tsmr run printed');
  assert.match(text.stdout, /^ {2}workers {5}local {2}2 slots {2}\d+ tasks/m);

  const json = await runCli(['report', join(out, '_job.json'), '--json']);
  assert.deepEqual(JSON.parse(json.stdout), JSON.parse(readFileSync(join(out, '_job.json'), 'utf8')));
});

test('tsmr report refuses a missing file and a file that is not a job report, with exit code 2', async () => {
  const missing = await runCli(['report', join(tmp, 'nope.json')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /TSMR_USAGE: cannot read the job report .*nope\.json/);
  writeFileSync(join(tmp, 'other.json'), '{"hello": 1}');
  const other = await runCli(['report', join(tmp, 'other.json'), '--html', join(tmp, 'x.html')]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /other\.json is not a tsmr job report \(_job\.json\): it has no jobId, name/);
});

test('--dashboard-port on a port in use is a usage error, before the job runs', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  try {
    const port = String((busy.address() as { port: number }).port);
    const out = join(tmp, 'out-busy');
    const r = await runCli([
      'run',
      'test/fixtures/jobs/html-keys.ts',
      '-i',
      input,
      '-o',
      out,
      '--dashboard',
      '--dashboard-port',
      port,
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`--dashboard-port ${port}: the port is in use on 127\\.0\\.0\\.1`));
  } finally {
    busy.close();
  }
});
