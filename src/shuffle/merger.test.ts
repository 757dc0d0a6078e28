import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isTsmrError } from '../errors.ts';
import { encodeKey } from './key-codec.ts';
import { BufferRecordCursor } from './record-format.ts';
import { mergeCursors, mergeSegments, planMergePasses } from './merger.ts';
import type { RecordCursor } from './record-format.ts';
import { RunWriter } from './run-writer.ts';
import type { SegmentRef } from './segment-reader.ts';
import { filesIn, tempDir } from './test-support.ts';
import { ByteWriter } from './byte-writer.ts';
import { writeRecord } from './record-format.ts';

type Rec = [key: Buffer, value: string];

/** Writes each list of records (sorted here) as one segment; several segments share a file. */
function writeSegments(dir: string, lists: Rec[][], perFile: number): SegmentRef[] {
  const refs: SegmentRef[] = [];
  for (let f = 0; f * perFile < lists.length; f++) {
    const group = lists.slice(f * perFile, (f + 1) * perFile);
    const path = join(dir, `seg${f}`);
    const w = new RunWriter(path, group.length, { bufferBytes: 64 });
    group.forEach((recs, p) => {
      for (const [k, v] of recs) w.append(p, k, 0, k.length, Buffer.from(v), 0, Buffer.byteLength(v));
    });
    w.close().forEach((s, p) => refs.push({ path, ...s, source: `m-${f}-${p}` }));
  }
  return refs;
}

function drain(c: RecordCursor): Rec[] {
  const out: Rec[] = [];
  while (c.next()) {
    out.push([
      Buffer.from(c.buf.subarray(c.keyStart, c.keyEnd)),
      c.buf.toString('utf8', c.valueStart, c.valueEnd),
    ]);
  }
  return out;
}

const sortRecs = (recs: Rec[]): Rec[] => recs.sort((a, b) => Buffer.compare(a[0], b[0]));
/** Keys that end inside, at and after the merger's 8 cached key bytes, with zeros, and long ones. */
const recKey = fc.constantFrom(
  'a',
  'b',
  'ab',
  'b\u0000',
  '',
  'zzzzzz',
  'abc',
  'abc\u0000\u0000\u0000\u0000',
  'abcdefg',
  'abcdefg\u0000',
  'abcdefgh',
  'abcdefgh1',
  'abcdefgi',
  'x'.repeat(60),
  `${'x'.repeat(59)}y`,
);
const rec = fc.tuple(recKey, fc.nat(99)).map(([k, v]): Rec => [encodeKey(k), String(v)]);

describe('mergeSegments', () => {
  it('merges like a stable sort of the concatenation, for any fan-in', (t) => {
    const dir = tempDir(t);
    fc.assert(
      fc.property(
        fc.array(fc.array(rec, { maxLength: 12 }), { maxLength: 14 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        (raw, fanIn, perFile) => {
          const lists = raw.map((recs) => sortRecs([...recs]));
          const refs = writeSegments(dir, lists, perFile);
          const before = filesIn(dir);
          const merged = mergeSegments(refs, { fanIn, tmpDir: dir, bufferBytes: 64 });
          const expected = sortRecs(lists.flat());
          assert.deepEqual(drain(merged), expected);
          assert.equal(merged.records, expected.length);
          assert.deepEqual(filesIn(dir), before, 'temporary runs are deleted');
        },
      ),
      { numRuns: 100 },
    );
  });

  it('plans passes as Hadoop does: the first merges just enough that later ones merge exactly fanIn', () => {
    const ks = (sizes: number[], fanIn: number): number[] => planMergePasses(sizes, fanIn).map(([, k]) => k);
    assert.deepEqual(ks(Array(10).fill(1), 3), [2, 3, 3, 3]);
    assert.deepEqual(ks(Array(9).fill(1), 3), [3, 3, 3]);
    assert.deepEqual(ks(Array(5).fill(1), 5), []);
    assert.deepEqual(ks(Array(6).fill(1), 5), [2]);
    assert.deepEqual(ks(Array(100).fill(1), 10), [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]);
    for (let n = 1; n < 60; n++) {
      for (let fanIn = 2; fanIn < 8; fanIn++) {
        const steps = ks(Array(n).fill(1), fanIn);
        const left = n - steps.reduce((s, k) => s + k - 1, 0);
        assert.equal(left, Math.min(n, fanIn), `n=${n} fanIn=${fanIn}`);
        steps.slice(1).forEach((k) => assert.equal(k, fanIn));
      }
    }
    // The cheapest adjacent window goes first.
    assert.deepEqual(planMergePasses([9, 9, 1, 1, 9, 9], 5), [[2, 2]]);
  });

  it('rejects fanIn < 2 with TSMR_USAGE', () => {
    assert.throws(
      () => mergeSegments([], { fanIn: 1, tmpDir: '/tmp' }),
      (e: unknown) => isTsmrError(e) && e.code === 'TSMR_USAGE',
    );
  });

  it('names the source of a corrupt segment, also in an intermediate pass, and leaves no temporary runs', (t) => {
    const dir = tempDir(t);
    const lists = Array.from({ length: 6 }, (_, i) =>
      sortRecs([[encodeKey(`k${i}`), 'v'] as Rec, [encodeKey('x'), String(i)] as Rec]),
    );
    const refs = writeSegments(dir, lists, 1);
    const bad = refs[1];
    const bytes = readFileSync(bad.path);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(bad.path, bytes);
    const before = filesIn(dir);
    const isCorrupt = (e: unknown): boolean =>
      isTsmrError(e) && e.code === 'TSMR_CORRUPT_DATA' && e.details.source === bad.source;
    assert.throws(() => drain(mergeSegments(refs, { fanIn: 2, tmpDir: dir })), isCorrupt);
    assert.deepEqual(filesIn(dir), before);
    assert.throws(() => drain(mergeSegments(refs, { fanIn: 10, tmpDir: dir })), isCorrupt);
  });

  it('deletes temporary runs on close() before the end', (t) => {
    const dir = tempDir(t);
    const lists = Array.from({ length: 5 }, (_, i) => [[encodeKey(`k${i}`), 'v'] as Rec]);
    const refs = writeSegments(dir, lists, 1);
    const before = filesIn(dir);
    const merged = mergeSegments(refs, { fanIn: 2, tmpDir: dir });
    assert.ok(filesIn(dir).length > before.length);
    assert.ok(merged.next());
    merged.close();
    assert.equal(merged.next(), false);
    assert.deepEqual(filesIn(dir), before);
  });

  it('mergeCursors merges in-memory cursors, ties to the earlier one', () => {
    const cursor = (recs: Rec[]): BufferRecordCursor => {
      const w = new ByteWriter();
      for (const [k, v] of recs) writeRecord(w, k, 0, k.length, Buffer.from(v), 0, v.length);
      return new BufferRecordCursor(Buffer.from(w.view()));
    };
    const k = (s: string): Buffer => encodeKey(s);
    const merged = mergeCursors([
      cursor([
        [k('a'), '1'],
        [k('c'), '1'],
      ]),
      cursor([]),
      cursor([
        [k('a'), '2'],
        [k('b'), '2'],
      ]),
    ]);
    assert.deepEqual(drain(merged), [
      [k('a'), '1'],
      [k('a'), '2'],
      [k('b'), '2'],
      [k('c'), '1'],
    ]);
  });
});
