/**
 * Text keys given as bytes (`MapOutputCollector.emitText`, behind
 * `MapContext.emitText`): the same map output, byte for byte, as emitting
 * the decoded strings, for every collector strategy (fold, combiner, sort
 * buffer), mixed with string emits, across spills and kept fold tables; and
 * the byte helpers against Node's own decoders.
 */
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { mkdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ErrorCode, TsmrError } from '../errors.ts';
import type { Combiner } from './combiner.ts';
import { FoldTableCache } from './fold-table.ts';
import type { Fold } from './fold-table.ts';
import { MapOutputCollector } from './map-output-collector.ts';
import { hashPartition } from './partitioner.ts';
import { checkText, isWellFormedUtf8, utf16Length } from './text-bytes.ts';
import { tempDir } from './test-support.ts';

/** Byte pieces that take every path: ASCII, latin1 high bytes, UTF-8 of 2 to 4 bytes, ill-formed UTF-8. */
const piece = fc.constantFrom(
  [0x61],
  [0x62],
  [0x74, 0x68, 0x65],
  [0x00],
  [0x7f],
  [0xe9],
  [0xff],
  [0xc3, 0xa9],
  [0xe2, 0x82, 0xac],
  [0xf0, 0x9f, 0x98, 0x80],
  [0x80],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  Array.from('a longer word of text', (c) => c.charCodeAt(0)),
);
const text = fc.oneof(
  fc.array(piece, { maxLength: 4 }).map((ps) => Buffer.from(ps.flat())),
  // Keys that repeat, with bytes >= 0x80 at every place of a slot's head.
  fc.constantFrom(
    Buffer.from([0x44, 0xef, 0xbf, 0xbd, 0x4a, 0xef, 0xbf, 0xbd]),
    Buffer.from('abcdef\xe9', 'latin1'),
    Buffer.from('abcdefg\xe9', 'latin1'),
    Buffer.from('\xe9bcdefgh', 'latin1'),
  ),
);

const emitOp = fc.record({
  bytes: text,
  /** Bytes around the key, which the key range leaves out. */
  pad: fc.nat({ max: 3 }),
  latin1: fc.boolean(),
  asString: fc.boolean(),
  value: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom('x', 'yz')),
});

const scenario = fc.record({
  tasks: fc.array(fc.array(emitOp, { maxLength: 40 }), { minLength: 1, maxLength: 3 }),
  strategy: fc.constantFrom('fold', 'combine', 'sort'),
  R: fc.integer({ min: 1, max: 3 }),
  sortBufferBytes: fc.oneof(fc.integer({ min: 1, max: 800 }), fc.constant(1 << 20)),
  userPartition: fc.boolean(),
});

const fold: Fold = (a, b) =>
  typeof a === 'number' && typeof b === 'number' ? a + b : `${String(a)}${String(b)}`;
const combiner: Combiner = (groups, emit) => {
  for (const g of groups) {
    let acc: unknown;
    for (const v of g.values) acc = acc === undefined ? v : fold(acc, v);
    emit(g.key, acc);
  }
};

describe('emitText', () => {
  it('writes the same map output as emitting the decoded strings', async (t) => {
    const root = tempDir(t);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        /** Runs the tasks one after the other, as one thread does; returns each task's data file. */
        const outputs = async (useText: boolean): Promise<Buffer[]> => {
          const cache = new FoldTableCache();
          const files: Buffer[] = [];
          for (const ops of s.tasks) {
            const dir = `${root}/${run++}`;
            mkdirSync(dir);
            const c = new MapOutputCollector({
              numPartitions: s.R,
              partition: s.userPartition ? (e) => hashPartition(e, s.R) : undefined,
              fold: s.strategy === 'fold' ? fold : undefined,
              combiner: s.strategy === 'combine' ? combiner : undefined,
              sortBufferBytes: s.sortBufferBytes,
              dir,
              name: 'm-0_0',
              counters: { add: () => {} },
              foldTableCache: cache,
            });
            for (const op of ops) {
              const padded = Buffer.concat([
                Buffer.alloc(op.pad, 0x20),
                op.bytes,
                Buffer.alloc(op.pad, 0x20),
              ]);
              const end = op.pad + op.bytes.length;
              if (useText && !op.asString) c.emitText(padded, op.pad, end, op.latin1, op.value);
              else c.emit(op.bytes.toString(op.latin1 ? 'latin1' : 'utf8'), op.value);
              if (c.full) await c.spill();
            }
            files.push(readFileSync((await c.finish()).dataPath));
          }
          return files;
        };
        assert.deepEqual(await outputs(true), await outputs(false));
      }),
      { numRuns: 150 },
    );
  });

  it('tells well-formed UTF-8 as Node does, and counts UTF-16 units as decoding does', () => {
    fc.assert(
      fc.property(text, (bytes) => {
        assert.equal(isWellFormedUtf8(bytes, 0, bytes.length), isUtf8(bytes));
        if (isUtf8(bytes)) assert.equal(utf16Length(bytes, 0, bytes.length), bytes.toString('utf8').length);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects a range outside the bytes, a non-byte array and an unknown encoding', () => {
    const bytes = Buffer.from('word');
    assert.equal(checkText(bytes, 0, 4, undefined), false);
    assert.equal(checkText(bytes, 1, 1, 'utf8'), false);
    assert.equal(checkText(bytes, 0, 4, 'latin1'), true);
    const bad = (f: () => unknown, what: RegExp): void =>
      assert.throws(
        f,
        (e: unknown) => e instanceof TsmrError && e.code === ErrorCode.BAD_KEY && what.test(e.message),
      );
    bad(() => checkText(bytes, 0, 5, undefined), /got 4 bytes, start 0, end 5/);
    bad(() => checkText(bytes, 3, 2, undefined), /start 3, end 2/);
    bad(() => checkText(bytes, 0.5, 2, undefined), /start 0.5/);
    bad(() => checkText('word' as unknown as Uint8Array, 0, 2, undefined), /got string/);
    bad(() => checkText(bytes, 0, 2, 'ascii'), /encoding must be 'utf8' or 'latin1', got ascii/);
  });
});
