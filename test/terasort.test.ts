/**
 * TeraSort end to end, as a user runs it: `tsmr teragen`, `tsmr run
 * examples/terasort.ts`, `tsmr teravalidate`; the output checked by
 * teravalidate and independently (by `LC_ALL=C sort` and by sorting the
 * records here); teravalidate shown to catch disorder and lost or changed
 * records; binary records through the same job.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { runJob } from '../src/index.ts';
import terasort from '../examples/terasort.ts';
import { runCli } from './support/run-cli.ts';

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-terasort-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

function concat(dir: string, prefix: string): Buffer {
  const names = readdirSync(dir)
    .filter((n) => n.startsWith(prefix))
    .sort();
  return Buffer.concat(names.map((n) => readFileSync(join(dir, n))));
}

function recordsOf(bytes: Buffer): Buffer[] {
  return Array.from({ length: bytes.length / 100 }, (_, i) => bytes.subarray(i * 100, (i + 1) * 100));
}

/** The checksum computed here, independently: sum of CRC-32s, in hex. */
function checksum(records: Buffer[]): string {
  return records.reduce((sum, r) => sum + BigInt(crc32(r)), 0n).toString(16);
}

test('teragen → terasort (total order, 3 reducers) → teravalidate; byte-identical to LC_ALL=C sort', async () => {
  const input = join(tmp, 'in');
  const output = join(tmp, 'out');
  const gen = await runCli(['teragen', '30000', input, '--files', '3', '--json']);
  assert.equal(gen.code, 0, gen.stderr);
  const generated = JSON.parse(gen.stdout) as { records: number; checksum: string; files: string[] };
  const inputBytes = concat(input, 'part-m-');
  assert.equal(inputBytes.length, 3_000_000);
  assert.equal(generated.checksum, checksum(recordsOf(inputBytes)));

  const run = await runCli([
    'run',
    'examples/terasort.ts',
    '--input',
    input,
    '--output',
    output,
    '--reducers',
    '3',
    '--workers',
    '2',
    '--split-size',
    '512k',
    '--json',
  ]);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as {
    phases: Record<string, { inputRecords: number }>;
    totalOrder: object;
  };
  assert.ok(report.phases.sample && report.totalOrder, 'sampled, as its own phase');

  const sorted = concat(output, 'part-r-');
  const bySort = execFileSync('sort', [...generated.files], {
    env: { ...process.env, LC_ALL: 'C' },
    maxBuffer: 1 << 26,
  });
  assert.ok(sorted.equals(bySort), 'the part files concatenated are what LC_ALL=C sort writes');
  // Independently of sort: keys ascend, and the records are the input's.
  const records = recordsOf(sorted);
  for (let i = 1; i < records.length; i++) {
    assert.ok(
      Buffer.compare(records[i - 1]!.subarray(0, 10), records[i]!.subarray(0, 10)) <= 0,
      `record ${i}`,
    );
  }
  assert.deepEqual(
    records.map((r) => r.toString('latin1')).sort(),
    recordsOf(inputBytes)
      .map((r) => r.toString('latin1'))
      .sort(),
  );
  const sizes = readdirSync(output)
    .filter((n) => n.startsWith('part-r-'))
    .map((n) => readFileSync(join(output, n)).length / 100);
  for (const n of sizes) assert.ok(n > 30000 / 3 / 2, `balanced parts: ${sizes}`);

  const valid = await runCli(['teravalidate', output, '--input', input, '--json']);
  assert.equal(valid.code, 0, valid.stderr);
  const v = JSON.parse(valid.stdout) as {
    ok: boolean;
    records: number;
    checksum: string;
    input: { checksum: string };
  };
  assert.deepEqual(
    [v.ok, v.records, v.checksum, v.input.checksum],
    [true, 30000, generated.checksum, generated.checksum],
  );

  // teravalidate catches what a broken sort would do.
  const broken = join(tmp, 'broken');
  const breakAndValidate = async (change: (bytes: Buffer) => Buffer, why: RegExp): Promise<void> => {
    rmSync(broken, { recursive: true, force: true });
    mkdirSync(broken);
    for (const n of readdirSync(output).filter((f) => f.startsWith('part-'))) {
      copyFileSync(join(output, n), join(broken, n));
    }
    const part = join(broken, 'part-r-00001');
    writeFileSync(part, change(readFileSync(part)));
    const r = await runCli(['teravalidate', broken, '--input', input]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout + r.stderr, why);
  };
  await breakAndValidate(
    (b) => Buffer.concat([b.subarray(100, 200), b.subarray(0, 100), b.subarray(200)]),
    /not sorted: part-r-00001, record 1 \(byte 100\)/,
  );
  await breakAndValidate((b) => b.subarray(100), /DIFFERENT/);
  await breakAndValidate((b) => {
    const c = Buffer.from(b);
    c[150] ^= 1; // a payload byte: order holds, the checksum does not
    return c;
  }, /DIFFERENT/);
  await breakAndValidate(
    (b) => Buffer.concat([readFileSync(join(output, 'part-r-00000')).subarray(0, 100), b]),
    /between part-r-00000 and part-r-00001/,
  );
});

test('teragen: the same records whatever the number of files and threads; another seed, other records', async () => {
  const a = join(tmp, 'gen-a');
  const b = join(tmp, 'gen-b');
  const c = join(tmp, 'gen-c');
  assert.equal((await runCli(['teragen', '5000', a, '--files', '1', '--workers', '1'])).code, 0);
  assert.equal((await runCli(['teragen', '5000', b, '--files', '7', '--workers', '2'])).code, 0);
  assert.equal((await runCli(['teragen', '5000', c, '--seed', '3'])).code, 0);
  assert.ok(concat(a, 'part-m-').equals(concat(b, 'part-m-')));
  assert.ok(!concat(a, 'part-m-').equals(concat(c, 'part-m-')));
  const again = await runCli(['teragen', '5000', a]);
  assert.equal(again.code, 2, 'an existing directory needs --overwrite');
  assert.match(again.stderr, /--overwrite/);
  assert.match((await runCli(['teragen', '--help'])).stdout, /gensort -a/);
});

test('binary records ({ fixed: 100 }, any bytes, line ends included) sort by key through the same job', async () => {
  const input = join(tmp, 'binary');
  mkdirSync(input);
  const records = Array.from({ length: 4000 }, () => randomBytes(100));
  for (const r of records.slice(0, 50)) r[5] = 0x0a; // newlines inside keys and payloads are just bytes
  writeFileSync(join(input, 'a.bin'), Buffer.concat(records.slice(0, 2500)));
  writeFileSync(join(input, 'b.bin'), Buffer.concat(records.slice(2500)));
  const output = join(tmp, 'binary-out');
  await runJob(terasort, { input, output, reducers: 4, workers: 2, splitSize: 64 * 1024 }).done;
  const expected = [...records].sort((x, y) => Buffer.compare(x.subarray(0, 10), y.subarray(0, 10)));
  assert.ok(concat(output, 'part-r-').equals(Buffer.concat(expected)));
});

test('tsmr run --total-order sorts a streaming job across its part files (the mapper is sampled too)', async () => {
  const input = join(tmp, 'words');
  mkdirSync(input);
  const words = Array.from({ length: 3000 }, (_, i) => `w${(i * 7919) % 3001}`);
  writeFileSync(join(input, 'words.txt'), `${words.join('\n')}\n`);
  const output = join(tmp, 'words-out');
  const run = await runCli([
    'run',
    '--mapper',
    'cat',
    '--input',
    input,
    '--output',
    output,
    '--reducers',
    '3',
    '--total-order',
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /sample .* total order +2 split points/s);
  const parts = readdirSync(output)
    .filter((n) => n.startsWith('part-r-'))
    .sort()
    .map((n) => readFileSync(join(output, n), 'latin1'));
  assert.ok(
    parts.every((p) => p.length > 0),
    'every reducer got a range',
  );
  const expected = [...words].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  assert.equal(parts.join(''), expected.map((w) => `${w}\t\n`).join(''));
});
