import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter, splitKeyValue } from './line-splitter.ts';

function collect(chunks: string[], withEnd = true): string[] {
  const lines: string[] = [];
  const s = new LineSplitter((buf, start, end) => lines.push(buf.toString('latin1', start, end)));
  for (const c of chunks) s.push(Buffer.from(c, 'latin1'));
  if (withEnd) s.end();
  return lines;
}

test('lines split at \\n across chunk boundaries, \\r and empty lines kept', () => {
  assert.deepEqual(collect(['a\nb', 'c\n\n', 'd\r\n', 'e']), ['a', 'bc', '', 'd\r', 'e']);
  assert.deepEqual(collect(['x', 'y', 'z\n']), ['xyz']);
  assert.deepEqual(collect(['no newline at all']), ['no newline at all']);
  assert.deepEqual(collect(['trailing\n']), ['trailing']);
  assert.deepEqual(collect(['unfinished'], false), []);
  assert.deepEqual(collect([]), []);
});

test('every split of a stream gives the same lines', () => {
  const text = 'alpha\tone\n\nbeta\n\tempty key\nγ\xff\tbytes\nlast';
  const whole = collect([text]);
  for (let i = 0; i <= text.length; i++) {
    for (let j = i; j <= text.length; j += 3) {
      assert.deepEqual(collect([text.slice(0, i), text.slice(i, j), text.slice(j)]), whole, `cuts ${i},${j}`);
    }
  }
});

test('key/value split at the first tab; no tab means an empty value; empty key is valid', () => {
  const pairs: [string, string][] = [];
  const emit = (k: Buffer, v: string): void => void pairs.push([k.toString('latin1'), v]);
  for (const line of ['k\tv', 'k\tv\tw', 'nokey', '\tv', '', 'k\t', '\xff\xfe\t\x80']) {
    const buf = Buffer.from(`..${line}..`, 'latin1');
    splitKeyValue(buf, 2, buf.length - 2, emit);
  }
  assert.deepEqual(pairs, [
    ['k', 'v'],
    ['k', 'v\tw'],
    ['nokey', ''],
    ['', 'v'],
    ['', ''],
    ['k', ''],
    ['\xff\xfe', '\x80'],
  ]);
});

test('a key is a copy, independent of the chunk it came from', () => {
  const buf = Buffer.from('key\tvalue');
  let key: Buffer | undefined;
  splitKeyValue(buf, 0, buf.length, (k) => (key = k));
  buf.fill(0);
  assert.equal(key?.toString(), 'key');
});
