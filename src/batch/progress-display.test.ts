import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createProgressDisplay } from './progress-display.ts';
import type { BatchProgress } from './types.ts';

function sink(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

const progress = (
  done: number,
  total: number | undefined,
  extra: Partial<BatchProgress> = {},
): BatchProgress => ({
  done,
  failed: 0,
  total,
  rate: 50,
  etaSeconds: total === undefined ? undefined : (total - done) / 50,
  elapsedMs: 0,
  ...extra,
});

test('off a terminal: a plain line at most every interval, plus the last state', () => {
  const out = sink();
  let t = 0;
  const d = createProgressDisplay({
    stream: out.stream,
    tty: false,
    label: 'parallel',
    lineInterval: 1000,
    now: () => t,
  });
  d.update(progress(1, 100));
  t = 500;
  d.update(progress(20, 100)); // too soon: not printed
  t = 1200;
  d.update(progress(60, 100, { failed: 2 }));
  t = 1300;
  d.update(progress(80, 100));
  d.stop();
  assert.deepEqual(out.text().trimEnd().split('\n'), [
    'parallel 1/100 (1.0%) done, 50 items/s, ETA 2s, failed 0',
    'parallel 60/100 (60.0%) done, 50 items/s, ETA 1s, failed 2',
    'parallel 80/100 (80.0%) done, 50 items/s, ETA 1s, failed 0',
  ]);
});

test('off a terminal: the 100% line is always printed, unknown totals print counts only', () => {
  const out = sink();
  const d = createProgressDisplay({ stream: out.stream, tty: false, now: () => 0 });
  d.update(progress(1, undefined));
  d.update(progress(2, undefined));
  d.stop();
  const two = sink();
  const d2 = createProgressDisplay({ stream: two.stream, tty: false, now: () => 0 });
  d2.update(progress(1, 2));
  d2.update(progress(2, 2));
  d2.stop();
  assert.deepEqual(out.text().trimEnd().split('\n'), [
    '1 done, 50 items/s, ETA ?, failed 0',
    '2 done, 50 items/s, ETA ?, failed 0',
  ]);
  assert.equal(two.text().trimEnd().split('\n').length, 2);
});

test('on a terminal: a cli-progress bar with rate, ETA and failures', () => {
  const out = sink();
  Object.assign(out.stream, { isTTY: true, columns: 120 }); // what cli-progress looks at
  const d = createProgressDisplay({ stream: out.stream, label: 'io' });
  d.update(progress(10, 40, { failed: 1 }));
  d.update(progress(40, 40, { failed: 1 }));
  d.stop();
  const text = out.text();
  assert.match(text, /io .*100% \| 40\/40 \| 50 items\/s \| ETA 0s \| failed 1/);
});
