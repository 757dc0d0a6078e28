/**
 * End-to-end tests of streaming jobs (issue 3): `tsmr run --mapper … --reducer …`
 * through the real CLI in a child process, with real shell, awk and Python
 * scripts on real files (a part of the Brown corpus).
 */
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { brownFiles } from '../bench/corpus.ts';
import { shellWordCount } from '../bench/streaming.ts';
import type { JobReport } from '../src/index.ts';
import { runCli } from './support/run-cli.ts';

const fixtures = 'test/fixtures/streaming';
let tmp = '';
/** About a fifth of the Brown corpus (every fifth file, ~2 MB). */
let brown = '';
let runs = 0;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-streaming-e2e-'));
  brown = join(tmp, 'brown');
  mkdirSync(brown);
  brownFiles()
    .filter((_, i) => i % 5 === 0)
    .forEach((file) => copyFileSync(file, join(brown, basename(file))));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

interface CliResult {
  code: number | null;
  stderr: string;
  out: string;
  /** Part files by name, sorted. */
  parts: Map<string, Buffer>;
  /** Every file name in the output directory. */
  files: string[];
}

/** Runs `tsmr run <args> --output <new dir>` from the repository root. */
async function tsmr(args: string[]): Promise<CliResult> {
  const out = join(tmp, `out-${runs++}`);
  const { pid, code, stderr } = await runCli(['run', ...args, '--output', out, '--quiet']);
  // Scratch directories of attempts (those killed with their thread too) are gone with the process.
  const scratch = join(tmpdir(), `tsmr-streaming-${pid}`);
  assert.equal(existsSync(scratch), false, `${scratch} was left behind`);
  const files = existsSync(out) ? readdirSync(out).sort() : [];
  const parts = new Map(
    files.filter((f) => f.startsWith('part-')).map((f) => [f, readFileSync(join(out, f))]),
  );
  return { code, stderr, out, parts, files };
}

function succeeded(r: CliResult): JobReport {
  assert.equal(r.code, 0, `tsmr exited ${r.code}:\n${r.stderr}`);
  assert.ok(r.files.includes('_SUCCESS'), '_SUCCESS written');
  return JSON.parse(readFileSync(join(r.out, '_job.json'), 'utf8')) as JobReport;
}

/** `\n`-terminated lines of `data` (a last line without `\n` too), as latin1 strings. */
function lines(data: Buffer): string[] {
  const text = data.toString('latin1');
  const result = text.split('\n');
  if (result.at(-1) === '') result.pop();
  return result;
}

/** Byte order of latin1 strings (= `LC_ALL=C sort`). */
function byBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function keyOf(line: string): string {
  const tab = line.indexOf('\t');
  return tab === -1 ? line : line.slice(0, tab);
}

/** Every part's lines are in key order; returns all lines, part after part. */
function sortedParts(r: CliResult): string[] {
  const all: string[] = [];
  for (const [name, data] of r.parts) {
    const ls = lines(data);
    for (let i = 1; i < ls.length; i++) {
      assert.ok(byBytes(keyOf(ls[i - 1]), keyOf(ls[i])) <= 0, `${name}: line ${i + 1} out of key order`);
    }
    all.push(...ls);
  }
  return all;
}

function noResults(r: CliResult): void {
  assert.deepEqual([...r.parts.keys()], [], 'no part files remain');
  assert.ok(!r.files.includes('_SUCCESS'), 'no _SUCCESS');
}

const moduleRuns = new Map<number, Promise<Map<string, Buffer>>>();
/** The module job examples/wordcount.ts on the same input with R reducers: its part files. */
function moduleResult(reducers: number): Promise<Map<string, Buffer>> {
  let run = moduleRuns.get(reducers);
  if (run === undefined) {
    run = tsmr(['examples/wordcount.ts', '--input', brown, '--reducers', String(reducers)]).then((r) => {
      succeeded(r);
      return r.parts;
    });
    moduleRuns.set(reducers, run);
  }
  return run;
}

test('word count with shell scripts (tr/awk) and a combiner equals the module job, byte for byte', async () => {
  const [streaming, expected] = await Promise.all([
    tsmr([...shellWordCount, '--input', brown, '--reducers', '1', '--split-size', '256k']),
    moduleResult(1).then((parts) => parts.get('part-r-00000') as Buffer),
  ]);
  const report = succeeded(streaming);
  assert.ok(report.phases.map && report.phases.map.tasks > 1, 'several map tasks');
  assert.ok(expected.length > 100_000, `the module job wrote ${expected.length} bytes`);
  assert.equal(streaming.parts.get('part-r-00000')?.equals(expected), true);
  assert.equal(report.outputRecords, lines(expected).length, 'one output record per reducer output line');
});

test('word count in Python with 7 reducers equals the module job, part by part', async () => {
  const [streaming, expected] = await Promise.all([
    tsmr([
      '--mapper',
      `python3 ${fixtures}/wc_map.py`,
      '--reducer',
      `python3 ${fixtures}/wc_reduce.py`,
      '--input',
      brown,
      '--reducers',
      '7',
    ]),
    moduleResult(7),
  ]);
  succeeded(streaming);
  assert.deepEqual(
    [...streaming.parts.keys()],
    Array.from({ length: 7 }, (_, i) => `part-r-0000${i}`),
  );
  for (const [name, data] of streaming.parts) assert.ok(data.length > 0, `${name} is not empty`);
  sortedParts(streaming);
  // Keys partition as the module job's latin1 string keys do: the same words in the same part files.
  assert.deepEqual([...streaming.parts.keys()], [...expected.keys()]);
  for (const [name, data] of streaming.parts) assert.ok(data.equals(expected.get(name) as Buffer), name);
});

test('failed attempts are retried and the output is unchanged (--simulate-failures)', async () => {
  const [streaming, expected] = await Promise.all([
    tsmr([
      ...shellWordCount,
      '--input',
      brown,
      '--reducers',
      '7',
      '--split-size',
      '512k',
      '--simulate-failures',
      '0.3',
    ]),
    moduleResult(7),
  ]);
  const report = succeeded(streaming);
  assert.ok(
    report.attempts.some((a) => a.status === 'failed'),
    'some attempts failed',
  );
  assert.deepEqual([...streaming.parts.keys()], [...expected.keys()]);
  for (const [name, data] of streaming.parts) assert.ok(data.equals(expected.get(name) as Buffer), name);
});

test('grep without a reducer: matching lines, sorted by key (text before the first tab), ties in input order', async () => {
  const r = await tsmr([
    '--mapper',
    "grep -F 'jury' || true",
    '--input',
    brown,
    '--split-size',
    '256k',
    '--reducers',
    '1',
  ]);
  succeeded(r);
  const input = readdirSync(brown)
    .sort()
    .flatMap((f) => lines(readFileSync(join(brown, f))))
    .filter((l) => l.includes('jury'));
  assert.ok(input.length > 5);
  // Identity reducer: `key\tvalue`; a line without a tab gets one at its end.
  const expected = input
    .map((l) => (l.includes('\t') ? l : `${l}\t`))
    .map((l, i) => ({ l, i }))
    .sort((a, b) => byBytes(keyOf(a.l), keyOf(b.l)) || a.i - b.i)
    .map(({ l }) => l);
  assert.deepEqual(sortedParts(r), expected);
});

test('empty keys, lines without tabs and bytes that are not UTF-8 pass unchanged', async () => {
  const dir = join(tmp, 'bytes');
  mkdirSync(dir);
  const data = Buffer.concat([
    Buffer.from('b\tsecond\n\tempty key\nno tab here\n\n', 'latin1'),
    Buffer.from([0xff, 0xfe, 0x09, 0x80, 0xc3, 0x28, 0x0a]),
    Buffer.from('a\t1\ta\n\tempty key again\nA\tupper\n\xe9t\xe9\tlatin1\n', 'latin1'),
  ]);
  writeFileSync(join(dir, 'input.bin'), data);
  const r = await tsmr(['--mapper', 'cat', '--reducer', 'cat', '--input', dir, '--reducers', '1']);
  succeeded(r);
  assert.equal(
    r.parts.get('part-r-00000')?.toString('latin1'),
    [
      // Equal keys keep their input order: the empty key comes from lines 2, 4 (an empty line) and 7.
      '\tempty key',
      '\t',
      '\tempty key again',
      'A\tupper',
      'a\t1\ta',
      'b\tsecond',
      'no tab here\t',
      '\xe9t\xe9\tlatin1',
      '\xff\xfe\t\x80\xc3(',
      '',
    ].join('\n'),
  );
});

test('words that look like numbers stay distinct through the shell word count', async () => {
  const dir = join(tmp, 'numbers');
  mkdirSync(dir);
  writeFileSync(join(dir, 'input.txt'), '1 01 1.0 1e0 +1\n1 0x1 .5 0.5\n');
  const r = await tsmr([...shellWordCount, '--input', dir, '--reducers', '1']);
  succeeded(r);
  assert.equal(
    r.parts.get('part-r-00000')?.toString(),
    '+1\t1\n.5\t1\n0.5\t1\n01\t1\n0x1\t1\n1\t2\n1.0\t1\n1e0\t1\n',
  );
});

test('a mapper that exits 1 fails the job with the command, the code and its stderr; nothing is committed', async () => {
  const r = await tsmr([
    '--mapper',
    'echo "cannot parse record 42" >&2; exit 1',
    '--input',
    brown,
    '--max-attempts',
    '1',
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /TSMR_STREAMING_COMMAND|mapper command/);
  assert.match(r.stderr, /echo "cannot parse record 42" >&2; exit 1/);
  assert.match(r.stderr, /exited with code 1/);
  assert.match(r.stderr, /cannot parse record 42/);
  noResults(r);
});

test('a mapper killed by a signal fails the job and names the signal', async () => {
  const r = await tsmr([
    '--mapper',
    'echo "dying now" >&2; kill -9 $$',
    '--input',
    brown,
    '--max-attempts',
    '1',
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /kill -9 \$\$/);
  assert.match(r.stderr, /SIGKILL/);
  assert.match(r.stderr, /dying now/);
  noResults(r);
});

test('a failing reducer fails the job', async () => {
  const r = await tsmr([
    '--mapper',
    'cat',
    '--reducer',
    'cat >/dev/null; echo "reducer gave up" >&2; exit 3',
    '--input',
    brown,
    '--max-attempts',
    '1',
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /exited with code 3/);
  assert.match(r.stderr, /reducer gave up/);
  noResults(r);
});

test('counters from stderr reach _job.json; a reducer that prints nothing leaves empty parts; environment', async () => {
  const mapper =
    'n=0; while IFS= read -r line; do n=$((n+1)); done; ' +
    'echo "reporter:counter:streaming test,lines,$n" >&2; echo "reporter:status:saw $n lines" >&2; ' +
    'echo "some other diagnostic" >&2; printf "%s\\t%s\\n" "$TSMR_TASK_TYPE" "$TSMR_TASK_ID"';
  const silent = await tsmr([
    '--mapper',
    mapper,
    '--reducer',
    'cat >/dev/null',
    '--input',
    brown,
    '--reducers',
    '2',
  ]);
  const report = succeeded(silent);
  const inputLines = readdirSync(brown).reduce((n, f) => n + lines(readFileSync(join(brown, f))).length, 0);
  assert.equal(report.counters['streaming test/lines'], inputLines);
  assert.deepEqual([...silent.parts.keys()], ['part-r-00000', 'part-r-00001']);
  for (const data of silent.parts.values()) assert.equal(data.length, 0);

  const env = await tsmr([
    '--mapper',
    'cat >/dev/null; printf "%s\\t%s\\n" "$TSMR_TASK_TYPE" "$TSMR_JOB_ID"',
    '--reducer',
    'cat; printf "%s %s %s %s\\n" "$TSMR_TASK_TYPE" "$TSMR_TASK_ID" "$TSMR_PARTITION" "$TSMR_NUM_REDUCERS"',
    '--input',
    brown,
    '--reducers',
    '3',
  ]);
  const envReport = succeeded(env);
  const all = sortedParts(env);
  assert.ok(all.includes(`map\t${envReport.jobId}`), all.join('\n'));
  for (let i = 0; i < 3; i++) {
    assert.match(
      env.parts.get(`part-r-0000${i}`)?.toString() ?? '',
      new RegExp(`reduce r-0000${i} ${i} 3\\n$`),
    );
  }
});
