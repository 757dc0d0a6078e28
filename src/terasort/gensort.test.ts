import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KEY_BYTES, RECORD_BYTES, writeRecords } from './gensort.ts';

function records(first: number, count: number, seed = 0): Buffer {
  const out = Buffer.alloc(count * RECORD_BYTES);
  writeRecords(out, 0, first, count, seed);
  return out;
}

test('the first records are those of gensort -a, byte for byte', () => {
  assert.equal(
    records(0, 2).toString('latin1'),
    'AsfAGHM5om  00000000000000000000000000000000  0000222200002222000022220000222200002222000000001111\r\n' +
      '~sHd0jDv6X  00000000000000000000000000000001  77779999444488885555CCCC777755555555BBBB666644446666\r\n',
  );
});

test("key prefixes match gensort's at records 2, 3, 4, 8, 16, 32 (its skew table lists them)", () => {
  const expected: [number, string][] = [
    [2, 'uI^EYm'],
    [3, 'Q)JN)R'],
    [4, 'o4FoBk'],
    [8, 'my+=5r'],
    [16, 'gj<m5S'],
    [32, '.\\KqT&'],
  ];
  for (const [n, prefix] of expected)
    assert.equal(records(n, 1).toString('latin1', 0, 6), prefix, `record ${n}`);
});

test('any range is generated on its own (jump ahead), the layout holds, and seeds give other streams', () => {
  const all = records(0, 300);
  assert.ok(records(123, 50).equals(all.subarray(123 * RECORD_BYTES, 173 * RECORD_BYTES)));
  for (let r = 0; r < 300; r++) {
    const rec = all.subarray(r * RECORD_BYTES, (r + 1) * RECORD_BYTES).toString('latin1');
    assert.match(rec.slice(0, KEY_BYTES), /^[ -~]{10}$/);
    assert.equal(rec.slice(10, 12), '  ');
    assert.equal(rec.slice(12, 44), r.toString(16).toUpperCase().padStart(32, '0'));
    assert.match(rec.slice(44, 100), /^ {2}(([0-9A-F])\2{3}){13}\r\n$/);
  }
  const other = records(0, 300, 1);
  assert.ok(!other.equals(all));
  assert.equal(other.toString('latin1', 12, 44), '0'.repeat(32), 'record numbers still count from 0');
  assert.ok(records(7, 3, 1).equals(other.subarray(7 * RECORD_BYTES, 10 * RECORD_BYTES)));
});
