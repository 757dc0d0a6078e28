import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ErrorCode, isTsmrError } from '../errors.ts';
import type { InputFile } from './input-paths.ts';
import { planInputSplits, planSplits } from './splits.ts';
import type { Split } from './splits.ts';

/** An input file of `size` bytes, modified at a time that depends on its path. */
const file = (path: string, size: number): InputFile => ({ path, size, mtimeMs: 1000 + path.length });

const ranges = (splits: Split[]) =>
  splits.map((s) => s.parts.map((p) => `${p.path}:${p.start}-${p.end}${p.compressed ? 'z' : ''}`).join(' '));

describe('planSplits', () => {
  test('cuts a large file into splitSize ranges; the last absorbs a tail under 10%', () => {
    assert.deepEqual(ranges(planSplits([file('/a', 250)], { splitSize: 100 })), [
      '/a:0-100',
      '/a:100-200',
      '/a:200-250',
    ]);
    assert.deepEqual(ranges(planSplits([file('/a', 210)], { splitSize: 100 })), ['/a:0-100', '/a:100-210']);
    assert.deepEqual(ranges(planSplits([file('/a', 211)], { splitSize: 100 })), [
      '/a:0-100',
      '/a:100-200',
      '/a:200-211',
    ]);
    assert.deepEqual(ranges(planSplits([file('/a', 100)], { splitSize: 100 })), ['/a:0-100']);
  });

  test('packs small files greedily in path order into splits of at most splitSize', () => {
    const files: InputFile[] = [
      file('/d/5', 10),
      file('/d/1', 30),
      file('/d/2', 30),
      file('/d/3', 50),
      file('/d/4', 0),
    ];
    const splits = planSplits(files, { splitSize: 100 });
    assert.deepEqual(ranges(splits), ['/d/1:0-30 /d/2:0-30', '/d/3:0-50 /d/4:0-0 /d/5:0-10']);
    assert.deepEqual(
      splits.map((s) => [s.index, s.length]),
      [
        [0, 60],
        [1, 60],
      ],
    );
  });

  test('.gz and .rec files are one whole split each, never packed', () => {
    const splits = planSplits(
      [file('/a.txt', 10), file('/b.gz', 500), file('/c.rec', 5), file('/d.txt', 10)],
      { splitSize: 100 },
    );
    assert.deepEqual(ranges(splits), ['/b.gz:0-500z', '/c.rec:0-5', '/a.txt:0-10 /d.txt:0-10']);
  });

  test('zero files give zero splits; a bad splitSize is TSMR_USAGE', () => {
    assert.deepEqual(planSplits([], { splitSize: 64 << 20 }), []);
    for (const splitSize of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => planSplits([file('/a', 1)], { splitSize }),
        (e: unknown) => isTsmrError(e) && e.code === ErrorCode.USAGE,
      );
    }
  });

  test('property: every byte of every file is in exactly one split, deterministically', () => {
    const fileArb = fc.record({
      name: fc.stringMatching(/^[a-e]{1,3}(\.gz|\.rec|\.txt)?$/),
      size: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(fileArb, { selector: (f) => f.name, maxLength: 12 }),
        fc.integer({ min: 1, max: 300 }),
        (raw, splitSize) => {
          const files = raw.map((f) => file(`/in/${f.name}`, f.size));
          const splits = planSplits(files, { splitSize });
          assert.deepEqual(planSplits([...files].reverse(), { splitSize }), splits);
          assert.deepEqual(
            splits.map((s) => s.index),
            splits.map((_, i) => i),
          );
          const covered = new Map<string, [number, number][]>();
          for (const s of splits) {
            assert.equal(
              s.length,
              s.parts.reduce((n, p) => n + p.end - p.start, 0),
            );
            const whole = s.parts.some((p) => /\.(gz|rec)$/.test(p.path));
            if (whole) assert.equal(s.parts.length, 1);
            else if (s.parts.length > 1) assert.ok(s.length <= splitSize);
            else
              assert.ok(s.length <= splitSize * 1.1 + 1e-9 || s.parts[0].end - s.parts[0].start < splitSize);
            for (const p of s.parts) {
              assert.equal(p.compressed, p.path.endsWith('.gz'));
              const list = covered.get(p.path) ?? [];
              list.push([p.start, p.end]);
              covered.set(p.path, list);
            }
          }
          for (const f of files) {
            const list = (covered.get(f.path) ?? []).sort((a, b) => a[0] - b[0]);
            assert.ok(list.length >= 1, `${f.path} missing`);
            let at = 0;
            for (const [start, end] of list) {
              assert.equal(start, at);
              assert.ok(end >= start);
              at = end;
            }
            assert.equal(at, f.size);
            if (f.size > 0) for (const [start, end] of list) assert.ok(end > start);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('planInputSplits', () => {
  test('plans each input alone (small files of two inputs are never packed together), numbered in input order', () => {
    const a = [file('/a/1', 10), file('/a/2', 10)];
    const b = [file('/b/1', 250), file('/a/3', 10)];
    const splits = planInputSplits([a, b], { splitSize: 100 });
    assert.deepEqual(
      splits.map((s) => [s.index, s.input, ranges([s])[0]]),
      [
        [0, 0, '/a/1:0-10 /a/2:0-10'],
        [1, 1, '/b/1:0-100'],
        [2, 1, '/b/1:100-200'],
        [3, 1, '/b/1:200-250'],
        [4, 1, '/a/3:0-10'],
      ],
    );
    assert.deepEqual(
      planInputSplits([[], a], { splitSize: 100 })[0]?.input,
      1,
      'an empty input has no splits',
    );
  });
});
