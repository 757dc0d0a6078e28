import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, isTsmrError } from '../errors.ts';
import { createOutputWriter, normalizeOutputFormat } from './output-writer.ts';

let dir: string;
let n = 0;
const file = () => path.join(dir, `part-r-${String(n++).padStart(5, '0')}`);
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tsmr-output-writer-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('normalizeOutputFormat', () => {
  test('fills in defaults and rejects bad values', () => {
    assert.deepEqual(normalizeOutputFormat(undefined), { type: 'text', encoding: 'utf8' });
    assert.deepEqual(normalizeOutputFormat('text'), { type: 'text', encoding: 'utf8' });
    assert.deepEqual(normalizeOutputFormat({ type: 'text', encoding: 'latin1' }), {
      type: 'text',
      encoding: 'latin1',
    });
    assert.deepEqual(normalizeOutputFormat('jsonl'), { type: 'jsonl' });
    assert.deepEqual(normalizeOutputFormat({ type: 'jsonl' }), { type: 'jsonl' });
    for (const bad of ['csv', { type: 'text', encoding: 'buffer' }, { type: 'jsonl', pretty: true }]) {
      assert.throws(
        () => normalizeOutputFormat(bad as never),
        (e: unknown) => isTsmrError(e) && e.code === ErrorCode.BAD_JOB && e.message.includes('outputFormat'),
      );
    }
  });
});

describe('createOutputWriter', () => {
  test('text: key\\tvalue\\n with each kind of value', async () => {
    const p = file();
    const w = createOutputWriter(p, { type: 'text', encoding: 'utf8' });
    w.write('word', 3);
    w.write('héllo', 'wörld');
    w.write(7, 2.5);
    w.write(10n, true);
    w.write(null, undefined);
    w.write(Buffer.from([0xff, 0x00]), new Uint8Array([0x41]));
    w.write(['a', 1], { n: 1n, b: Buffer.from('hi'), s: 'x' });
    const result = await w.close();
    const expected = Buffer.concat([
      Buffer.from('word\t3\nhéllo\twörld\n7\t2.5\n10\ttrue\n\t\n'),
      Buffer.from([0xff, 0x00, 0x09, 0x41, 0x0a]),
      Buffer.from('["a",1]\t{"n":"1","b":"aGk=","s":"x"}\n'),
    ]);
    assert.deepEqual(await readFile(p), expected);
    assert.deepEqual(result, { records: 7, bytes: expected.length });
    assert.deepEqual(await w.close(), result);
  });

  test("text 'latin1' writes each character as one byte (bytes read as latin1 come back unchanged)", async () => {
    const p = file();
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((b) => b !== 9 && b !== 10));
    const w = createOutputWriter(p, { type: 'text', encoding: 'latin1' });
    w.write(bytes.toString('latin1'), 'é');
    await w.close();
    assert.deepEqual(await readFile(p), Buffer.concat([bytes, Buffer.from([9, 0xe9, 10])]));
  });

  test('jsonl: one object per line', async () => {
    const p = file();
    const w = createOutputWriter(p, { type: 'jsonl' });
    const records: [unknown, unknown][] = [
      ['word', 3],
      ['quote"s', 'line\nbreak'],
      [12n, Buffer.from('hi')],
      [['a', [1, null]], { x: 2n, y: new Uint8Array([1]) }],
      [null, undefined],
      [Number.NaN, false],
    ];
    for (const [k, v] of records) w.write(k, v);
    await w.close();
    const lines = (await readFile(p, 'utf8')).split('\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l)),
      [
        { key: 'word', value: 3 },
        { key: 'quote"s', value: 'line\nbreak' },
        { key: '12', value: 'aGk=' },
        { key: ['a', [1, null]], value: { x: '2', y: 'AQ==' } },
        { key: null, value: null },
        { key: null, value: false },
      ],
    );
  });

  test('large outputs are written in chunks and counted', async () => {
    const p = file();
    const w = createOutputWriter(p, { type: 'text', encoding: 'utf8' });
    const count = 200_000;
    for (let i = 0; i < count; i++) w.write(`key-${i}`, i);
    const result = await w.close();
    const text = await readFile(p, 'utf8');
    assert.equal(result.records, count);
    assert.equal(result.bytes, Buffer.byteLength(text));
    const lines = text.split('\n');
    assert.equal(lines.length, count + 1);
    assert.equal(lines[123_456], 'key-123456\t123456');
  });

  test('a value that cannot be JSON is TSMR_BAD_VALUE and leaves no half record', async () => {
    const p = file();
    const w = createOutputWriter(p, { type: 'jsonl' });
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    w.write('a', 1);
    assert.throws(
      () => w.write('b', cycle),
      (e: unknown) => isTsmrError(e) && e.code === ErrorCode.BAD_VALUE,
    );
    w.write('c', 2);
    await w.close();
    assert.equal(await readFile(p, 'utf8'), '{"key":"a","value":1}\n{"key":"c","value":2}\n');
  });

  test('abort closes and deletes the file; writes after close are refused', async () => {
    const p = file();
    const w = createOutputWriter(p, { type: 'text', encoding: 'utf8' });
    w.write('a', 1);
    await w.abort();
    assert.equal(existsSync(p), false);
    assert.throws(
      () => w.write('b', 2),
      (e: unknown) => isTsmrError(e),
    );
    const q = file();
    const closed = createOutputWriter(q, { type: 'jsonl' });
    await closed.close();
    assert.throws(
      () => closed.write('b', 2),
      (e: unknown) => isTsmrError(e) && e.code === ErrorCode.INTERNAL,
    );
  });

  test('a file that cannot be created is TSMR_IO naming it', () => {
    const p = path.join(dir, 'no-such-dir', 'part-r-00000');
    assert.throws(
      () => createOutputWriter(p, { type: 'jsonl' }),
      (e: unknown) => isTsmrError(e) && e.code === ErrorCode.IO && e.message.includes(p),
    );
  });

  test('a full disk (ENOSPC) is TSMR_IO naming the file', { skip: !existsSync('/dev/full') }, async () => {
    // /dev/full fails every write with ENOSPC. Never abort() this writer: it would delete the device node.
    const w = createOutputWriter('/dev/full', { type: 'text', encoding: 'utf8' });
    w.write('k', 'v');
    await assert.rejects(w.close(), (e: unknown) => {
      assert.ok(isTsmrError(e));
      assert.equal(e.code, ErrorCode.IO);
      assert.ok(e.message.includes('/dev/full') && e.message.includes('ENOSPC'), e.message);
      return true;
    });
    const big = createOutputWriter('/dev/full', { type: 'text', encoding: 'utf8' });
    assert.throws(
      () => {
        for (let i = 0; i < 200_000; i++) big.write('some key', i);
      },
      (e: unknown) => isTsmrError(e) && e.code === ErrorCode.IO,
    );
    await assert.rejects(big.close(), (e: unknown) => isTsmrError(e) && e.code === ErrorCode.IO);
  });
});
