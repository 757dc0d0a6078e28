import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdirSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ErrorCode, TsmrError, isTsmrError } from '../errors.ts';
import { normalizeInputFormat, readSplit } from './record-reader.ts';
import type { NormalizedInputFormat, ReadOptions } from './record-reader.ts';
import { planSplits } from './splits.ts';
import type { Split, SplitPart } from './splits.ts';
import { resolveInputs, type InputFile } from './input-paths.ts';
import { spoolRecords } from './spool.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tsmr-record-reader-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileCounter = 0;
async function fileWith(content: string | Buffer, name = `f${fileCounter++}.txt`): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, content);
  return p;
}

/** The file as `resolveInputs` finds it now (a missing file: size 0). */
function inputFile(p: string): InputFile {
  const st = statSync(p, { throwIfNoEntry: false });
  return { path: p, size: st?.size ?? 0, mtimeMs: st?.mtimeMs ?? 0 };
}

/** A part of `p` planned now. */
function partOf(p: string, start: number, end: number, compressed = false): SplitPart {
  const { size, mtimeMs } = inputFile(p);
  return { path: p, start, end, compressed, size, mtimeMs };
}

function wholeFile(p: string, size: number, compressed = false): Split {
  return { index: 0, parts: [partOf(p, 0, size, compressed)], length: size };
}

const TEXT: NormalizedInputFormat = { type: 'text', encoding: 'utf8' };

async function collect(
  split: Split,
  format: NormalizedInputFormat = TEXT,
  options?: ReadOptions,
): Promise<{ records: [unknown, unknown][]; bytes: number; count: number }> {
  const records: [unknown, unknown][] = [];
  const result = await readSplit(split, format, (k, v) => void records.push([k, v]), {}, options);
  return { records, bytes: result.bytes, count: result.records };
}

/** Reference: the lines of `bytes` with their byte offsets, by the rules of the text format. */
function referenceLines(bytes: Buffer): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  let start = 0;
  while (start < bytes.length) {
    const nl = bytes.indexOf(10, start);
    if (nl === -1) {
      out.push([start, bytes.subarray(start)]);
      break;
    }
    const end = nl > start && bytes[nl - 1] === 13 ? nl - 1 : nl;
    out.push([start, bytes.subarray(start, end)]);
    start = nl + 1;
  }
  return out;
}

describe('normalizeInputFormat', () => {
  test('fills in defaults', () => {
    assert.deepEqual(normalizeInputFormat(undefined), { type: 'text', encoding: 'utf8' });
    assert.deepEqual(normalizeInputFormat('text'), { type: 'text', encoding: 'utf8' });
    assert.deepEqual(normalizeInputFormat({ type: 'text' }), { type: 'text', encoding: 'utf8' });
    assert.deepEqual(normalizeInputFormat({ type: 'text', encoding: 'latin1' }), {
      type: 'text',
      encoding: 'latin1',
    });
    assert.deepEqual(normalizeInputFormat({ type: 'text', encoding: 'buffer' }), {
      type: 'text',
      encoding: 'buffer',
    });
    assert.deepEqual(normalizeInputFormat({ type: 'text', encoding: 'buffer', blocks: true }), {
      type: 'text',
      encoding: 'buffer',
      blocks: true,
    });
    assert.deepEqual(normalizeInputFormat('jsonl'), { type: 'jsonl' });
    assert.deepEqual(normalizeInputFormat({ type: 'jsonl' }), { type: 'jsonl' });
    assert.deepEqual(normalizeInputFormat({ type: 'records' }), { type: 'records' });
  });

  test('rejects bad values with TSMR_BAD_JOB', () => {
    for (const bad of [
      'csv',
      { type: 'text', encoding: 'utf16le' },
      { type: 'text', encodng: 'latin1' },
      { type: 'text', encoding: 'latin1', blocks: true },
      { type: 'text', blocks: true },
      { type: 'text', encoding: 'buffer', blocks: 'yes' },
      42,
      null,
    ]) {
      assert.throws(
        () => normalizeInputFormat(bad as never),
        (e: unknown) => isTsmrError(e) && e.code === ErrorCode.BAD_JOB && e.message.includes('inputFormat'),
      );
    }
  });
});

describe('readSplit text', () => {
  test('keys are byte offsets; \\n, \\r\\n, empty lines, no final newline', async () => {
    const content = 'alpha\r\n\nbéta\ngamma\r\n\r\nlast';
    const p = await fileWith(content);
    const size = Buffer.byteLength(content);
    const { records, bytes, count } = await collect(wholeFile(p, size));
    assert.deepEqual(records, [
      [0, 'alpha'],
      [7, ''],
      [8, 'béta'],
      [14, 'gamma'],
      [21, ''],
      [23, 'last'],
    ]);
    assert.equal(bytes, size);
    assert.equal(count, 6);
  });

  test('no record after a final newline; empty file has none; a lone \\r at the end is kept', async () => {
    const a = await fileWith('x\ny\n');
    assert.deepEqual((await collect(wholeFile(a, 4))).records, [
      [0, 'x'],
      [2, 'y'],
    ]);
    const empty = await fileWith('');
    assert.deepEqual((await collect(wholeFile(empty, 0))).records, []);
    const cr = await fileWith('x\r');
    assert.deepEqual((await collect(wholeFile(cr, 2))).records, [[0, 'x\r']]);
  });

  test('a line belongs to the split where it starts', async () => {
    const content = 'aaaa\nbbbb\ncccc\n'; // lines at 0, 5, 10
    const p = await fileWith(content);
    const part = (start: number, end: number): Split => ({
      index: 0,
      parts: [partOf(p, start, end)],
      length: end - start,
    });
    const values = async (s: Split) => (await collect(s)).records;
    assert.deepEqual(await values(part(0, 5)), [[0, 'aaaa']]);
    assert.deepEqual(await values(part(5, 6)), [[5, 'bbbb']]);
    assert.deepEqual(await values(part(1, 5)), []);
    assert.deepEqual(await values(part(1, 6)), [[5, 'bbbb']]);
    assert.deepEqual(await values(part(4, 15)), [
      [5, 'bbbb'],
      [10, 'cccc'],
    ]);
    assert.deepEqual(await values(part(11, 15)), []);
  });

  test('property: the splits of a file yield each line exactly once, in order', async () => {
    const line = fc
      .array(fc.constantFrom('a', 'b', ' ', 'é', '€', '\r'), { maxLength: 12 })
      .map((a) => a.join(''));
    const fileModel = fc.record({
      lines: fc.array(fc.record({ text: line, crlf: fc.boolean() }), { maxLength: 40 }),
      finalNewline: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fileModel,
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 16, max: 48 }),
        fc.boolean(),
        async (model, splitSize, chunkSize, gzip) => {
          let text = model.lines.map((l) => l.text + (l.crlf ? '\r\n' : '\n')).join('');
          if (!model.finalNewline && text.endsWith('\n'))
            text = text.slice(0, text.endsWith('\r\n') ? -2 : -1);
          const bytes = Buffer.from(text);
          const p = await fileWith(
            gzip ? gzipSync(bytes) : bytes,
            `prop${fileCounter++}.txt${gzip ? '.gz' : ''}`,
          );
          const splits = planSplits([inputFile(p)], { splitSize });
          const got: [unknown, unknown][] = [];
          let total = 0;
          for (const s of splits) {
            const r = await readSplit(s, TEXT, (k, v) => void got.push([k, v]), {}, { chunkSize });
            assert.equal(r.bytes, s.length);
            total += r.records;
          }
          const expected = referenceLines(bytes).map(([o, b]) => [o, b.toString('utf8')]);
          assert.deepEqual(got, expected);
          assert.equal(total, expected.length);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('property: blocks hold whole lines; the splits of a file yield its bytes once, in order', async () => {
    const BLOCKS: NormalizedInputFormat = { type: 'text', encoding: 'buffer', blocks: true };
    const line = fc
      .array(fc.constantFrom('a', 'b', ' ', 'é', '\r', '\n'), { maxLength: 30 })
      .map((a) => a.join(''));
    await fc.assert(
      fc.asyncProperty(
        line,
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 16, max: 48 }),
        fc.boolean(),
        fc.nat(),
        async (text, splitSize, chunkSize, gzip, skipPick) => {
          const bytes = Buffer.from(text);
          const p = await fileWith(
            gzip ? gzipSync(bytes) : bytes,
            `blk${fileCounter++}.txt${gzip ? '.gz' : ''}`,
          );
          const lineStarts = new Set(referenceLines(bytes).map(([o]) => o));
          const splits = planSplits([inputFile(p)], { splitSize });
          const blocks: [number, Buffer][] = [];
          for (const s of splits) {
            const r = await readSplit(
              s,
              BLOCKS,
              (k, v) => void blocks.push([k as number, v as Buffer]),
              {},
              { chunkSize },
            );
            assert.equal(r.bytes, s.length);
          }
          // Blocks were not overwritten by later reads; they tile the file in order, each whole lines.
          assert.deepEqual(Buffer.concat(blocks.map(([, b]) => b)), bytes);
          let offset = 0;
          for (const [k, b] of blocks) {
            assert.equal(k, offset);
            assert.ok(lineStarts.has(k) && b.length > 0);
            assert.ok(
              b[b.length - 1] === 10 || k + b.length === bytes.length,
              'a block ends with a line end',
            );
            offset += b.length;
          }
          // A skipped block is left out, whole, and handed to the skip hook.
          if (blocks.length === 0) return;
          const [badKey, badBlock] = blocks[skipPick % blocks.length]!;
          const kept: number[] = [];
          const skipped: [number, unknown][] = [];
          const skip = {
            offsetsIn: (file: string) => (file === p ? new Set([badKey]) : undefined),
            skipped: (_file: string, offset: number, record: unknown) => void skipped.push([offset, record]),
          };
          let records = 0;
          for (const s of splits) {
            records += (
              await readSplit(s, BLOCKS, (k) => void kept.push(k as number), { skip }, { chunkSize })
            ).records;
          }
          assert.deepEqual(
            kept,
            blocks.map(([k]) => k).filter((k) => k !== badKey),
          );
          assert.equal(records, kept.length);
          assert.deepEqual(skipped, [[badKey, badBlock.toString('latin1')]]);
        },
      ),
      { numRuns: 150 },
    );
  });

  test("'latin1' passes every byte through; 'buffer' values stay valid", async () => {
    const bytes = Buffer.alloc(600);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256;
    const p = await fileWith(bytes);
    const expected = referenceLines(bytes);
    const latin1 = await collect(
      wholeFile(p, bytes.length),
      { type: 'text', encoding: 'latin1' },
      { chunkSize: 64 },
    );
    assert.deepEqual(
      latin1.records,
      expected.map(([o, b]) => [o, b.toString('latin1')]),
    );
    for (const [, v] of latin1.records) assert.equal(typeof v, 'string');
    assert.ok(latin1.records.some(([, v]) => (v as string).includes('\xff')));
    // Lines longer than a chunk, and many chunks: values are checked after the whole read.
    const long = Buffer.from(Array.from({ length: 50 }, (_, i) => 'x'.repeat(i * 7) + `#${i}`).join('\n'));
    const q = await fileWith(long);
    const buffers = await collect(
      wholeFile(q, long.length),
      { type: 'text', encoding: 'buffer' },
      { chunkSize: 32 },
    );
    assert.deepEqual(
      buffers.records.map(([k, v]) => [k, Buffer.from(v as Buffer).toString()]),
      referenceLines(long).map(([o, b]) => [o, b.toString()]),
    );
    for (const [, v] of buffers.records) assert.ok(Buffer.isBuffer(v));
  });

  test("'utf8' drops a byte order mark at the start of a file; other encodings keep it", async () => {
    const p = await fileWith('\ufeffhead\nbody\n');
    assert.deepEqual((await collect(wholeFile(p, 13))).records, [
      [0, 'head'],
      [8, 'body'],
    ]);
    const raw = await collect(wholeFile(p, 13), { type: 'text', encoding: 'latin1' });
    assert.equal(raw.records[0][1], '\xef\xbb\xbfhead');
  });

  test('.gz parts: offsets in decompressed bytes, multi-member and empty files, corrupt files', async () => {
    const content = 'one\ntwo\r\nthree';
    const gz = gzipSync(content);
    const p = await fileWith(gz, 'a.txt.gz');
    assert.deepEqual((await collect(wholeFile(p, gz.length, true), TEXT, { chunkSize: 16 })).records, [
      [0, 'one'],
      [4, 'two'],
      [9, 'three'],
    ]);
    const multi = Buffer.concat([gzipSync('a\nb'), gzipSync('c\n')]);
    const m = await fileWith(multi, 'm.gz');
    assert.deepEqual((await collect(wholeFile(m, multi.length, true))).records, [
      [0, 'a'],
      [2, 'bc'],
    ]);
    const empty = await fileWith('', 'empty.gz');
    assert.deepEqual((await collect(wholeFile(empty, 0, true))).records, []);
    const bad = await fileWith(Buffer.from('this is not gzip at all'), 'bad.gz');
    await assert.rejects(collect(wholeFile(bad, 23, true)), (e: unknown) => {
      assert.ok(isTsmrError(e));
      assert.equal(e.code, ErrorCode.CORRUPT_DATA);
      assert.equal(e.retriable, false, 'a retry reads the same bytes');
      assert.ok(e.message.includes(bad));
      return true;
    });
    const truncated = await fileWith(gz.subarray(0, gz.length - 6), 'cut.gz');
    await assert.rejects(collect(wholeFile(truncated, gz.length - 6, true)), (e: unknown) => {
      assert.ok(isTsmrError(e) && e.code === ErrorCode.CORRUPT_DATA && e.message.includes(truncated));
      return true;
    });
  });

  test('a missing file is TSMR_IO naming it', async () => {
    const p = path.join(dir, 'gone.txt');
    await assert.rejects(collect(wholeFile(p, 10)), (e: unknown) => {
      assert.ok(isTsmrError(e) && e.code === ErrorCode.IO && e.message.includes(p));
      return true;
    });
  });
});

describe('readSplit jsonl', () => {
  test('one value per non-blank line, key = byte offset', async () => {
    const content = '{"a":1}\n\n  \t\r\n[1,2]\r\n"s"\n42';
    const p = await fileWith(content);
    const { records, count } = await collect(wholeFile(p, Buffer.byteLength(content)), { type: 'jsonl' });
    assert.deepEqual(records, [
      [0, { a: 1 }],
      [14, [1, 2]],
      [21, 's'],
      [25, 42],
    ]);
    assert.equal(count, 4);
  });

  test('invalid JSON is TSMR_BAD_RECORD with file and offset, blamed on the record', async () => {
    const p = await fileWith('{"ok":true}\n{nope\n');
    await assert.rejects(collect(wholeFile(p, 18), { type: 'jsonl' }), (e: unknown) => {
      assert.ok(isTsmrError(e));
      assert.equal(e.code, ErrorCode.BAD_RECORD);
      assert.deepEqual(e.details, { file: p, offset: 12, failedOnRecord: true });
      assert.ok(e.cause instanceof SyntaxError);
      assert.ok(e.message.includes(p) && e.message.includes('12'));
      return true;
    });
  });
});

describe('readSplit records', () => {
  test('reads spooled items with their global index as key', async () => {
    const items = Array.from({ length: 3000 }, (_, i) =>
      i % 3 === 0 ? `item ${i}` : i % 3 === 1 ? { i, big: BigInt(i), buf: Buffer.from([i & 255]) } : i * 1.5,
    );
    const files = await spoolRecords(items, path.join(dir, 'spool-a'), { bytesPerFile: 4000 });
    assert.ok(files.length > 3);
    const splits = planSplits(files, { splitSize: 1 << 20 });
    assert.equal(splits.length, files.length);
    const got: [unknown, unknown][] = [];
    for (const s of splits) {
      await readSplit(s, { type: 'records' }, (k, v) => void got.push([k, v]), {}, { chunkSize: 100 });
    }
    assert.deepEqual(
      got,
      items.map((v, i) => [i, v]),
    );
  });

  test('a file that is not a spool file is TSMR_CORRUPT_DATA', async () => {
    const p = await fileWith('hello\n', 'x.rec');
    await assert.rejects(collect(wholeFile(p, 6), { type: 'records' }), (e: unknown) => {
      assert.ok(isTsmrError(e) && e.code === ErrorCode.CORRUPT_DATA && e.message.includes(p));
      return true;
    });
  });

  test('a truncated spool file is TSMR_CORRUPT_DATA', async () => {
    const [f] = await spoolRecords(['a long enough string value'], path.join(dir, 'spool-b'), {
      bytesPerFile: 1000,
    });
    const bytes = (await import('node:fs')).readFileSync(f.path);
    const cut = await fileWith(bytes.subarray(0, bytes.length - 3), 'cut.rec');
    await assert.rejects(collect(wholeFile(cut, bytes.length - 3), { type: 'records' }), (e: unknown) => {
      assert.ok(isTsmrError(e) && e.code === ErrorCode.CORRUPT_DATA);
      return true;
    });
  });
});

describe('readSplit errors of onRecord and hooks', () => {
  test('an Error thrown by onRecord becomes TSMR_USER_CODE naming file and offset', async () => {
    const p = await fileWith('a\nbad\nc\n');
    const original = new RangeError('boom');
    await assert.rejects(
      readSplit(wholeFile(p, 8), TEXT, (_k, v) => {
        if (v === 'bad') throw original;
      }),
      (e: unknown) => {
        assert.ok(isTsmrError(e));
        assert.equal(e.code, ErrorCode.USER_CODE);
        assert.equal(e.message, `map failed on the record at byte 2 of ${p}: boom`);
        assert.deepEqual(e.details, { file: p, offset: 2 });
        assert.equal(e.cause, original);
        return true;
      },
    );
  });

  test('a rejected promise of onRecord is wrapped too; promises are awaited in order', async () => {
    const p = await fileWith('a\nb\nc\n');
    const seen: string[] = [];
    await readSplit(wholeFile(p, 6), TEXT, async (_k, v) => {
      await Promise.resolve();
      seen.push(v as string);
    });
    assert.deepEqual(seen, ['a', 'b', 'c']);
    await assert.rejects(
      readSplit(wholeFile(p, 6), TEXT, async (k) => {
        if (k === 4) throw new Error('late');
      }),
      (e: unknown) => isTsmrError(e) && e.code === ErrorCode.USER_CODE && e.details.offset === 4,
    );
  });

  test('a TsmrError thrown by onRecord keeps its code and gains file and offset', async () => {
    const p = await fileWith('a\nb');
    const thrown = new TsmrError(ErrorCode.BAD_KEY, 'bad key', { details: { taskId: 'm-00001' } });
    await assert.rejects(
      readSplit(wholeFile(p, 3), TEXT, (k) => {
        if (k === 2) throw thrown;
      }),
      (e: unknown) => {
        assert.equal(e, thrown);
        assert.deepEqual(thrown.details, { taskId: 'm-00001', file: p, offset: 2 });
        return true;
      },
    );
    const located = new TsmrError(ErrorCode.BAD_KEY, 'bad key', { details: { file: 'x', offset: 9 } });
    await assert.rejects(
      readSplit(wholeFile(p, 3), TEXT, () => {
        throw located;
      }),
      (e: unknown) => e === located && located.details.file === 'x' && located.details.offset === 9,
    );
  });

  test('in-memory items name the item in errors', async () => {
    const files = await spoolRecords(['x', 'y'], path.join(dir, 'spool-c'), { bytesPerFile: 1000 });
    await assert.rejects(
      readSplit(planSplits(files, { splitSize: 100 })[0], { type: 'records' }, (k) => {
        if (k === 1) throw new Error('nope');
      }),
      (e: unknown) => {
        assert.ok(isTsmrError(e) && e.code === ErrorCode.USER_CODE);
        assert.match(e.message, /in-memory input item 1: nope/);
        assert.equal(e.details.index, 1);
        return true;
      },
    );
  });

  test('onFile before each part; onProgress cumulative, once per chunk at most, ending at the split length', async () => {
    const a = await fileWith('x'.repeat(100) + '\n' + 'y'.repeat(50));
    const b = await fileWith('');
    const c = await fileWith('z\n'.repeat(40));
    const split = planSplits([a, b, c].map(inputFile), { splitSize: 1000 })[0];
    assert.equal(split.parts.length, 3);
    const events: string[] = [];
    const progress: number[] = [];
    const result = await readSplit(
      split,
      TEXT,
      () => void events.push('record'),
      {
        onFile: (f) => events.push(`file ${f}`),
        onProgress: (n) => progress.push(n),
      },
      { chunkSize: 32 },
    );
    assert.equal(events[0], `file ${a}`);
    assert.equal(events.filter((e) => e.startsWith('file')).length, 3);
    assert.ok(events.indexOf(`file ${b}`) < events.indexOf(`file ${c}`));
    assert.equal(events.indexOf(`file ${c}`), events.indexOf(`file ${b}`) + 1);
    assert.deepEqual(result, { records: 42, bytes: 231 });
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i] > progress[i - 1]);
    assert.equal(progress.at(-1), 231);
    // 231 bytes in chunks of at most 32 bytes: no more than one call per read.
    assert.ok(progress.length <= Math.ceil(231 / 16) + 3, `${progress.length} progress calls`);
  });
});

describe('readSplit: an input that changed after planning', () => {
  /** Plans `p` (as `runJob` does: resolveInputs, planSplits), then lets `change` modify it. */
  async function planThen(p: string, splitSize: number, change?: () => void): Promise<Split[]> {
    const splits = planSplits((await resolveInputs([p])).files, { splitSize });
    change?.();
    return splits;
  }

  const changed = (p: string, found: RegExp) => (e: unknown) => {
    assert.ok(isTsmrError(e), String(e));
    assert.equal(e.code, ErrorCode.INPUT_CHANGED, e.message);
    assert.equal(e.retriable, false);
    assert.equal(e.details.file, p);
    assert.ok(e.message.includes(p), e.message);
    assert.match(e.message, found);
    assert.match(e.message, /copy or snapshot them first/);
    return true;
  };

  const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i}\n`).join('');

  test('truncated or appended to between planning and reading: every split fails on open', async () => {
    const text = lines(1000);
    const size = Buffer.byteLength(text);
    const p = await fileWith(text);
    for (const change of [() => truncateSync(p, 3000), () => appendFileSync(p, 'one more\n')]) {
      await writeFile(p, text);
      const splits = await planThen(p, 2048, change);
      assert.ok(splits.length > 1);
      for (const s of splits) {
        await assert.rejects(
          readSplit(s, TEXT, () => {}),
          changed(p, new RegExp(`planned ${size} bytes modified at .*, found \\d+ bytes modified at`)),
        );
      }
    }
  });

  test('truncated while its split is read: the read ends early and fails', async () => {
    const text = lines(1000);
    const p = await fileWith(text);
    const [split] = await planThen(p, 1 << 20);
    let records = 0;
    await assert.rejects(
      readSplit(
        split,
        TEXT,
        () => {
          if (records++ === 0) truncateSync(p, 100);
        },
        {},
        { chunkSize: 1024 },
      ),
      changed(
        p,
        new RegExp(`found its end at byte \\d+, before the planned end of the split at byte ${text.length}`),
      ),
    );
    assert.ok(records < 1000, `${records} records`);
  });

  test('changed while its split is read, after the reader had the bytes: the end-of-part check fails', async () => {
    for (const change of [
      (p: string) => appendFileSync(p, 'more\n'),
      (p: string) => truncateSync(p, 5),
      (p: string) => utimesSync(p, new Date(), new Date(Date.now() + 10_000)),
    ]) {
      const p = await fileWith('a\nb\nc\n');
      const [split] = await planThen(p, 1 << 20);
      let first = true;
      await assert.rejects(
        readSplit(split, TEXT, () => {
          if (first) change(p);
          first = false;
        }),
        changed(p, /planned 6 bytes .*, found/),
      );
    }
  });

  test('an empty file that grew, a .gz file rewritten or appended to, a spool file rewritten', async () => {
    const empty = await fileWith('');
    await assert.rejects(
      readSplit((await planThen(empty, 100, () => appendFileSync(empty, 'x\n')))[0], TEXT, () => {}),
      changed(empty, /planned 0 bytes/),
    );
    const gz = await fileWith(gzipSync('one\ntwo\n'), 'change.gz');
    const rewrite = () => writeFileSync(gz, gzipSync('one\n'));
    await assert.rejects(
      readSplit((await planThen(gz, 100, rewrite))[0], TEXT, () => {}),
      changed(gz, /found/),
    );
    await writeFile(gz, gzipSync('one\ntwo\n'));
    const [gzSplit] = await planThen(gz, 100);
    let first = true;
    await assert.rejects(
      readSplit(gzSplit, TEXT, () => {
        if (first) appendFileSync(gz, gzipSync('three\n'));
        first = false;
      }),
      changed(gz, /found/),
    );
    const [rec] = await spoolRecords(['a', 'b'], path.join(dir, 'spool-changed'), { bytesPerFile: 1000 });
    const [recSplit] = planSplits([rec], { splitSize: 100 });
    appendFileSync(rec.path, Buffer.from([1, 0x41]));
    await assert.rejects(
      readSplit(recSplit, { type: 'records' }, () => {}),
      changed(rec.path, /found/),
    );
  });

  test('a bad record or corrupt .gz caused by a change is reported as the change', async () => {
    const p = await fileWith('{"a":1}\n{"b":2}\n');
    const [split] = await planThen(p, 100, () => writeFileSync(p, '{"a":1}\n{"b":'));
    await assert.rejects(
      readSplit(split, { type: 'jsonl' }, () => {}),
      changed(p, /found 13 bytes/),
    );
  });

  test('an input deleted or replaced by a directory after planning fails without retry', async () => {
    const gone = await fileWith('a\n');
    const [goneSplit] = await planThen(gone, 100, () => rmSync(gone));
    await assert.rejects(
      readSplit(goneSplit, TEXT, () => {}),
      (e: unknown) => {
        assert.ok(isTsmrError(e) && e.code === ErrorCode.IO, String(e));
        assert.equal(e.retriable, false);
        assert.match(e.message, /cannot open the input file .*ENOENT/);
        return true;
      },
    );
    const dirNow = await fileWith('a\n');
    const [dirSplit] = await planThen(dirNow, 100, () => {
      rmSync(dirNow);
      mkdirSync(dirNow);
    });
    await assert.rejects(
      readSplit(dirSplit, TEXT, () => {}),
      changed(dirNow, /found a directory/),
    );
  });
});

describe('skipping bad records', () => {
  /**
   * Skip mode's loop at the reader: read, and on a failure add the offset in
   * the error to the skip set; repeat until the split reads through.
   */
  async function readSkipping(
    split: Split,
    format: NormalizedInputFormat,
    isBad: (value: unknown) => boolean,
    chunkSize: number,
  ): Promise<{ kept: unknown[]; skipped: [number, unknown, number | undefined][]; attempts: number }> {
    const bad = new Map<string, Set<number>>();
    for (let attempts = 1; ; attempts++) {
      const kept: unknown[] = [];
      const skipped: [number, unknown, number | undefined][] = [];
      const skip = {
        offsetsIn: (p: string) => bad.get(p),
        skipped: (_p: string, offset: number, record: unknown, index?: number) =>
          void skipped.push([offset, record, index]),
      };
      try {
        const r = await readSplit(
          split,
          format,
          (_k, v) => {
            if (isBad(v)) throw new Error(`bad ${JSON.stringify(v)}`);
            kept.push(v);
          },
          { skip },
          { chunkSize },
        );
        assert.equal(r.records, kept.length, 'skipped records are not counted');
        return { kept, skipped, attempts };
      } catch (error) {
        assert.ok(isTsmrError(error));
        const { file, offset } = error.details;
        assert.ok(typeof file === 'string' && typeof offset === 'number', 'the error locates the record');
        assert.ok(!bad.get(file)?.has(offset), 'a skipped record never fails again');
        bad.set(file, (bad.get(file) ?? new Set()).add(offset));
      }
    }
  }

  test('property: failing offsets, skipped, leave exactly the other lines, across splits and chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('ok', 'BAD', 'é', ''), fc.nat({ max: 40 })), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.integer({ min: 16, max: 64 }),
        fc.integer({ min: 8, max: 200 }),
        fc.boolean(),
        async (spec, chunkSize, splitSize, finalNewline) => {
          const lines = spec.map(([word, n], i) => (word === '' ? '' : `${word}${i}-${'x'.repeat(n)}`));
          // A last line without '\n' is a record too (but an empty one is no line).
          const newline = finalNewline || lines.at(-1) === '' ? '\n' : '';
          const p = await fileWith(`\ufeff${lines.join('\n')}${newline}`);
          const files = (await resolveInputs([p])).files;
          const kept: unknown[] = [];
          const skipped: unknown[] = [];
          for (const split of planSplits(files, { splitSize })) {
            const r = await readSkipping(split, TEXT, (v) => String(v).startsWith('BAD'), chunkSize);
            kept.push(...r.kept);
            skipped.push(...r.skipped.map(([, record]) => record));
          }
          assert.deepEqual(
            kept,
            lines.filter((l) => !l.startsWith('BAD')),
          );
          assert.deepEqual(
            skipped,
            lines.filter((l) => l.startsWith('BAD')),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  test('JSONL: an unparsable line is marked failedOnRecord and, skipped, not parsed', async () => {
    const p = await fileWith('{"a":1}\n{oops\n\n[2]\n{"BAD":3}');
    const split = wholeFile(p, statSync(p).size);
    await assert.rejects(
      readSplit(split, { type: 'jsonl' }, () => {}),
      (e: unknown) => isTsmrError(e) && e.code === ErrorCode.BAD_RECORD && e.details.failedOnRecord === true,
    );
    const r = await readSkipping(split, { type: 'jsonl' }, (v) => JSON.stringify(v).includes('BAD'), 16);
    assert.deepEqual(r.kept, [{ a: 1 }, [2]]);
    assert.deepEqual(r.skipped, [
      [8, '{oops', undefined],
      [19, '{"BAD":3}', undefined],
    ]);
    assert.equal(r.attempts, 3);
  });

  test("'latin1' and 'buffer' lines are handed over as latin1 text", async () => {
    const p = await fileWith(Buffer.from([0x61, 0x0a, 0xe9, 0xff, 0x0a]));
    for (const encoding of ['latin1', 'buffer'] as const) {
      const r = await readSkipping(
        wholeFile(p, 5),
        { type: 'text', encoding },
        (v) => Buffer.from(v as string, 'latin1')[0] === 0xe9,
        16,
      );
      assert.deepEqual(r.skipped, [[2, '\u00e9\u00ff', undefined]]);
    }
  });

  test('in-memory items are skipped by their spool offset, with their index', async () => {
    const files = await spoolRecords(['x', { bad: true }, 'y', 7n], path.join(dir, 'spool-skip'), {
      bytesPerFile: 1000,
    });
    const split = planSplits(files, { splitSize: 1000 })[0]!;
    const r = await readSkipping(split, { type: 'records' }, (v) => typeof v !== 'string', 100);
    assert.deepEqual(r.kept, ['x', 'y']);
    assert.deepEqual(
      r.skipped.map(([, record, index]) => [record, index]),
      [
        [{ bad: true }, 1],
        [7n, 3],
      ],
    );
  });
});
