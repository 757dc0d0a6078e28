import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes, formatCount, formatDuration, formatEta, formatRate } from './units.ts';

describe('formatBytes', () => {
  it('uses binary units, one decimal below 100, none for exact multiples', () => {
    const cases: Array<[number, string]> = [
      [0, '0 B'],
      [1023, '1023 B'],
      [1024, '1 KiB'],
      [1536, '1.5 KiB'],
      [12.34 * 2 ** 20, '12.3 MiB'],
      [123.4 * 2 ** 20, '123 MiB'],
      [64 * 2 ** 20, '64 MiB'],
      [2 ** 30, '1 GiB'],
      [1.25 * 2 ** 40, '1.3 TiB'],
      [1023.99 * 2 ** 20, '1.0 GiB'],
      [-1, '--'],
      [NaN, '--'],
    ];
    for (const [bytes, text] of cases) assert.equal(formatBytes(bytes), text, String(bytes));
  });
});

describe('formatDuration', () => {
  it('picks ms, s, min or h', () => {
    const cases: Array<[number, string]> = [
      [0, '0 ms'],
      [849.6, '850 ms'],
      [1000, '1.0 s'],
      [12_345, '12.3 s'],
      [59_940, '59.9 s'],
      [59_960, '1 min 00 s'],
      [185_000, '3 min 05 s'],
      [3_599_400, '59 min 59 s'],
      [7_380_000, '2 h 03 min'],
      [Infinity, '--'],
    ];
    for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
  });
});

describe('formatEta', () => {
  it('is compact and rounds up', () => {
    const cases: Array<[number, string]> = [
      [0, '0s'],
      [1, '1s'],
      [12_000, '12s'],
      [59_001, '1m00s'],
      [185_000, '3m05s'],
      [7_380_000, '2h03m'],
      [NaN, '--'],
    ];
    for (const [ms, text] of cases) assert.equal(formatEta(ms), text, String(ms));
  });
});

describe('formatRate', () => {
  it('puts the SI prefix on the number for counts and on the unit for bytes', () => {
    assert.equal(formatRate(1.2e6), '1.2M rec/s');
    assert.equal(formatRate(950, 'rec'), '950 rec/s');
    assert.equal(formatRate(0.5, 'rec'), '0.5 rec/s');
    assert.equal(formatRate(12_345, 'rec'), '12.3k rec/s');
    assert.equal(formatRate(999_960, 'rec'), '1.0M rec/s');
    assert.equal(formatRate(85.3e6, 'B'), '85.3 MB/s');
    assert.equal(formatRate(123e6, 'B'), '123 MB/s');
    assert.equal(formatRate(512, 'B'), '512 B/s');
    assert.equal(formatRate(2.5e9, 'B'), '2.5 GB/s');
    assert.equal(formatRate(NaN, 'B'), '-- B/s');
    assert.equal(formatRate(3, 'tasks'), '3 tasks/s');
  });
});

describe('formatCount', () => {
  it('groups thousands', () => {
    assert.equal(formatCount(0), '0');
    assert.equal(formatCount(12_345_678), '12,345,678');
    assert.equal(formatCount(2 ** 53), '9,007,199,254,740,992');
  });
});
