import assert from 'node:assert/strict';
import { test } from 'node:test';
import { latin1, LineSplitter, splitKeyValue } from './line-splitter.ts';

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
  const emit = (k: string, v: string): void => void pairs.push([k, v]);
  const cases = [
    'k\tv',
    'k\tv\tw',
    'nokey',
    '\tv',
    '',
    'k\t',
    '\xff\xfe\t\x80',
    '1\t2',
    'long key\tlong value',
  ];
  for (const line of cases) {
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
    ['1', '2'],
    ['long key', 'long value'],
  ]);
});

test('latin1 strings keep every byte, and their UTF-8 order (the key codec order) is byte order', () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  assert.ok(Buffer.from(latin1(all, 0, 256), 'latin1').equals(all));
  for (let i = 0; i < 256; i++) assert.equal(latin1(all, i, i + 1).charCodeAt(0), i);
  const keys = [
    Buffer.from([0xc3, 0xa9]),
    Buffer.from([0xff]),
    Buffer.from('a'),
    Buffer.from([0x80, 0]),
    Buffer.from([0x80]),
  ];
  const byBytes = [...keys].sort(Buffer.compare).map((k) => latin1(k, 0, k.length));
  const byEncoded = keys
    .map((k) => latin1(k, 0, k.length))
    .sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  assert.deepEqual(byEncoded, byBytes);
});
