import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STDERR_LINE_MAX, STDERR_TAIL_LINES, StderrReporter } from './stderr-reporter.ts';

function reporter() {
  const counters: [string, string, number][] = [];
  const statuses: string[] = [];
  const r = new StderrReporter({
    counter: (g, n, by) => counters.push([g, n, by]),
    status: (t) => statuses.push(t),
  });
  return { r, counters, statuses };
}

test('reporter lines become counters and status; other lines go to the tail', () => {
  const { r, counters, statuses } = reporter();
  r.push(Buffer.from('reporter:counter:wc,words,12\nhello\nreporter:sta'));
  r.push(Buffer.from('tus:half done\r\nreporter:counter:wc,lines,-3\n'));
  r.push(Buffer.from('reporter:counter:bad,line\nreporter:counter:g,n,1.5\nreporter:status:\nlast'));
  r.end();
  assert.deepEqual(counters, [
    ['wc', 'words', 12],
    ['wc', 'lines', -3],
  ]);
  assert.deepEqual(statuses, ['half done', '']);
  assert.deepEqual(r.lines(), ['hello', 'reporter:counter:bad,line', 'reporter:counter:g,n,1.5', 'last']);
});

test('the tail keeps the last lines and cuts long lines', () => {
  const { r } = reporter();
  for (let i = 0; i < 100; i++) r.push(Buffer.from(`line ${i}\n`));
  const long = 'x'.repeat(STDERR_LINE_MAX * 10);
  for (let i = 0; i < long.length; i += 1000) r.push(Buffer.from(long.slice(i, i + 1000)));
  r.push(Buffer.from('\n'));
  r.end();
  const lines = r.lines();
  assert.equal(lines.length, STDERR_TAIL_LINES);
  assert.equal(lines[0], `line ${100 - STDERR_TAIL_LINES + 1}`);
  assert.equal(lines.at(-1), `${'x'.repeat(STDERR_LINE_MAX)}…`);
  // 'line 0\n' … 'line 9\n' are 7 bytes, 'line 10\n' … 'line 99\n' 8 bytes.
  assert.equal(r.bytes, 10 * 7 + 90 * 8 + long.length + 1);
});

test('a cut reporter-looking line is not a counter', () => {
  const { r, counters } = reporter();
  r.push(Buffer.from(`reporter:counter:g,n,1${'0'.repeat(STDERR_LINE_MAX * 2)}\n`));
  r.end();
  assert.deepEqual(counters, []);
  assert.equal(r.lines().length, 1);
});
