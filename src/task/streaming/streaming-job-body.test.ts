import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import type { Key, MapContext, ReduceContext, Values } from '../../api/types.ts';
import { isTsmrError } from '../../errors.ts';
import type { Group } from '../../shuffle/map-output-collector.ts';
import { CounterSet } from '../counters.ts';
import type { MapperBody, ReducerBody } from '../job-body.ts';
import { STDIN_BATCH_BYTES } from './streaming-process.ts';
import { MAP_EMIT_BUDGET_BYTES, OUTPUT_LINE_MAX_BYTES, streamingJobBody } from './streaming-job-body.ts';

const fixtures = resolve(import.meta.dirname, '../../../test/fixtures/streaming');

interface Fake {
  pairs: [string, string][];
  chunks: Buffer[];
  counters: CounterSet;
  status: string | undefined;
  /** True while a body call (or the promise it returned) is in progress. */
  inside: boolean;
  emitsOutside: number;
}

function fakeContext(kind: 'map' | 'reduce'): { fake: Fake; ctx: MapContext & ReduceContext } {
  const fake: Fake = {
    pairs: [],
    chunks: [],
    counters: new CounterSet(),
    status: undefined,
    inside: false,
    emitsOutside: 0,
  };
  const ctx = {
    jobId: 'job-test-1',
    taskId: kind === 'map' ? 'm-00004' : 'r-00002',
    attempt: 3,
    params: {},
    numReducers: 5,
    partition: 2,
    inputFile: '',
    input: 0,
    file: (name: string) => assert.fail(`no side file ${name}`),
    counter: (group: string, name: string) => fake.counters.counter(group, name),
    setStatus: (text: string) => (fake.status = text),
    emit(key: unknown, value: unknown) {
      if (!fake.inside) fake.emitsOutside++;
      if (kind === 'map') {
        assert.equal(typeof key, 'string', 'keys are latin1 strings');
        assert.equal(typeof value, 'string', 'values are latin1 strings');
        fake.pairs.push([key as string, value as string]);
      } else {
        assert.equal(key, null);
        assert.ok(value instanceof Uint8Array);
        fake.chunks.push(Buffer.from(value));
      }
    },
    emitText() {
      assert.fail('streaming jobs do not emit text ranges');
    },
  };
  return { fake, ctx };
}

/** Calls a body method the way the task runner does, tracking when output may be emitted. */
async function call(fake: Fake, fn: () => void | Promise<void>): Promise<boolean> {
  fake.inside = true;
  try {
    const r = fn();
    if (r === undefined) return false;
    await r;
    return true;
  } finally {
    fake.inside = false;
  }
}

async function runMapper(
  command: string,
  lines: (string | Buffer)[],
): Promise<{ fake: Fake; error: unknown; waits: number }> {
  const { fake, ctx } = fakeContext('map');
  const body = streamingJobBody({ kind: 'streaming', mapper: command });
  let waits = 0;
  let error: unknown;
  try {
    const mapper = (await body.mapper(ctx)) as MapperBody;
    let offset = 0;
    for (const line of lines) {
      const bytes = typeof line === 'string' ? Buffer.from(line, 'latin1') : line;
      if (await call(fake, () => mapper.record(offset, bytes))) waits++;
      offset += bytes.length + 1;
    }
    await call(fake, () => mapper.close?.());
  } catch (e) {
    error = e;
  }
  return { fake, error, waits };
}

function values<V>(items: V[]): Values<V> {
  return {
    [Symbol.iterator]: () => items[Symbol.iterator](),
    async *[Symbol.asyncIterator]() {
      yield* items;
    },
    entries: () => {
      throw new Error('streaming bodies read values only');
    },
  };
}

async function runReducer(
  command: string | undefined,
  groups: [string, string[]][],
): Promise<{ fake: Fake; output: Buffer; error: unknown }> {
  const { fake, ctx } = fakeContext('reduce');
  const body = streamingJobBody({ kind: 'streaming', mapper: 'cat', reducer: command });
  let error: unknown;
  try {
    const reducer = (await body.reducer!(ctx)) as ReducerBody;
    for (const [key, vals] of groups) {
      await call(fake, () => reducer.group(key, values(vals)));
    }
    await call(fake, () => reducer.close?.());
  } catch (e) {
    error = e;
  }
  return { fake, output: Buffer.concat(fake.chunks), error };
}

test('mapper: lines in, pairs out split at the first tab; bytes unchanged; emits only inside calls', async () => {
  const { fake, error } = await runMapper('cat', [
    'k\tv',
    'k2\tv\tw',
    'no tab',
    '\tempty key',
    '',
    '\xff\xfe\x80\tnot utf-8 \xc3',
  ]);
  assert.equal(error, undefined);
  assert.deepEqual(fake.pairs, [
    ['k', 'v'],
    ['k2', 'v\tw'],
    ['no tab', ''],
    ['', 'empty key'],
    ['', ''],
    ['\xff\xfe\x80', 'not utf-8 \xc3'],
  ]);
  assert.equal(fake.emitsOutside, 0);
});

test('mapper: a last output line without newline is a pair', async () => {
  const { fake, error } = await runMapper("printf 'a\\tb\\nlast'", ['x']);
  assert.equal(error, undefined);
  assert.deepEqual(fake.pairs, [
    ['a', 'b'],
    ['last', ''],
  ]);
});

test('mapper: environment and a scratch directory of its own, removed afterwards', async () => {
  const { fake, error } = await runMapper(
    'cat >/dev/null; printf "%s\\t%s\\n" dir "$(pwd)" job "$TSMR_JOB_ID" task "$TSMR_TASK_ID" type "$TSMR_TASK_TYPE" ' +
      'attempt "$TSMR_ATTEMPT" r "$TSMR_NUM_REDUCERS" partition "${TSMR_PARTITION-unset}" home "$HOME"; ls -A | wc -l',
    ['a', 'b'],
  );
  assert.equal(error, undefined);
  const got = Object.fromEntries(fake.pairs);
  assert.deepEqual(
    { ...got, dir: undefined },
    {
      dir: undefined,
      job: 'job-test-1',
      task: 'm-00004',
      type: 'map',
      attempt: '3',
      r: '5',
      partition: 'unset',
      home: process.env.HOME ?? '',
      [fake.pairs.at(-1)?.[0] ?? '']: '',
    },
  );
  assert.equal(fake.pairs.at(-1)?.[0].trim(), '0', 'the scratch dir starts empty');
  assert.match(got.dir, /tsmr-streaming-\d+\/map-/);
  assert.notEqual(got.dir, process.cwd());
  assert.equal(existsSync(got.dir), false, 'scratch dir removed');
});

test('mapper: relative script paths in the command are found (shipped into the scratch dir)', async () => {
  const rel = join('test', 'fixtures', 'streaming', 'wc_map.sh');
  const cwd = process.cwd();
  process.chdir(resolve(import.meta.dirname, '../../..'));
  try {
    const { fake, error } = await runMapper(`./${rel}`, ['b a b']);
    assert.equal(error, undefined);
    assert.deepEqual(fake.pairs, [
      ['b', '1'],
      ['a', '1'],
      ['b', '1'],
    ]);
    const py = await runMapper(`python3 ${join('test', 'fixtures', 'streaming', 'wc_map.py')}`, ['x  y']);
    assert.equal(py.error, undefined);
    assert.deepEqual(py.fake.pairs, [
      ['x', '1'],
      ['y', '1'],
    ]);
  } finally {
    process.chdir(cwd);
  }
});

test('mapper: large input through cat with backpressure, in order', async () => {
  const lines = Array.from({ length: 60_000 }, (_, i) => `${i}\t${'v'.repeat(i % 97)}`);
  const { fake, error, waits } = await runMapper('cat', lines);
  assert.equal(error, undefined);
  assert.equal(fake.pairs.length, lines.length);
  for (let i = 0; i < lines.length; i += 997)
    assert.deepEqual(fake.pairs[i], [String(i), 'v'.repeat(i % 97)]);
  assert.ok(waits > 0, 'some records waited for stdin to drain');
  assert.equal(fake.emitsOutside, 0);
});

test('mapper: a command that writes much before reading does not deadlock', async () => {
  const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'x'.repeat(50)}`);
  const { fake, error } = await runMapper(
    'awk \'BEGIN { for (i = 0; i < 100000; i++) print "pre\\t" i } { print }\'',
    lines,
  );
  assert.equal(error, undefined);
  assert.equal(fake.pairs.length, 100_000 + lines.length);
  assert.deepEqual(fake.pairs[99_999], ['pre', '99999']);
  assert.deepEqual(fake.pairs.at(-1), [lines.at(-1), '']);
});

test('mapper: output emitted during one record() call is bounded, so the task can spill', async () => {
  const { fake, ctx } = fakeContext('map');
  let emittedBytes = 0;
  const emit = ctx.emit;
  ctx.emit = (key, value) => {
    emittedBytes += (key as string).length + (value as string).length + 2;
    emit(key, value);
  };
  // 300,000 lines (~3.6 MB, several budgets) before it reads any input.
  const command = 'awk \'BEGIN { for (i = 0; i < 300000; i++) print "pre\\t" i } { print }\'';
  const mapper = (await streamingJobBody({ kind: 'streaming', mapper: command }).mapper(ctx)) as MapperBody;
  let maxPerCall = 0;
  const line = Buffer.from(`input ${'x'.repeat(200)}`);
  for (let i = 0; i < 5000; i++) {
    const before = emittedBytes;
    await call(fake, () => mapper.record(i, line));
    maxPerCall = Math.max(maxPerCall, emittedBytes - before);
  }
  await call(fake, () => mapper.close?.());
  assert.equal(fake.pairs.length, 300_000 + 5000);
  assert.deepEqual(fake.pairs[299_999], ['pre', '299999']);
  assert.ok(maxPerCall > 0);
  assert.ok(maxPerCall <= MAP_EMIT_BUDGET_BYTES + 256 * 1024, `one record() emitted ${maxPerCall} bytes`);
  assert.equal(fake.emitsOutside, 0);
});

test('mapper: a record longer than the stdin batch passes whole', async () => {
  const long = Buffer.alloc(STDIN_BATCH_BYTES * 3 + 17, 'z');
  long[0] = 0x09;
  const { fake, error } = await runMapper('cat', ['a', long, 'b']);
  assert.equal(error, undefined);
  assert.deepEqual(
    fake.pairs.map(([k, v]) => [k, v.length]),
    [
      ['a', 0],
      ['', long.length - 1],
      ['b', 0],
    ],
  );
});

test('mapper: exiting without reading all input is not an error', async () => {
  const lines = Array.from({ length: 50_000 }, (_, i) => `line\t${i}`);
  const { fake, error } = await runMapper('head -n 2', lines);
  assert.equal(error, undefined);
  assert.deepEqual(fake.pairs, [
    ['line', '0'],
    ['line', '1'],
  ]);
  const none = await runMapper('true', lines);
  assert.equal(none.error, undefined);
  assert.deepEqual(none.fake.pairs, []);
});

function assertCommandError(error: unknown, ...patterns: RegExp[]): void {
  assert.ok(isTsmrError(error), `expected a TsmrError, got ${String(error)}`);
  assert.equal(error.code, 'TSMR_STREAMING_COMMAND');
  for (const p of patterns) assert.match(error.message, p);
}

test('mapper: non-zero exit fails with the command, the code and the stderr tail', async () => {
  const command = 'for i in $(seq 1 30); do echo "problem $i" >&2; done; exit 3';
  const { error } = await runMapper(command, ['a', 'b']);
  assertCommandError(
    error,
    /mapper command `for i in/,
    /exited with code 3/,
    /m-00004, attempt 3/,
    /problem 30/,
  );
  assert.doesNotMatch((error as Error).message, /problem 10\b/, 'only the last 20 lines');
  assert.match((error as Error).message, /problem 11\b/);
  assert.equal((error as { details: { exitCode: number } }).details.exitCode, 3);
});

test('mapper: a failure mid-stream is reported before the input ends', async () => {
  const lines = Array.from({ length: 200_000 }, (_, i) => `line ${i}`);
  const { fake, ctx } = fakeContext('map');
  const mapper = (await streamingJobBody({
    kind: 'streaming',
    mapper: 'head -n 1; echo boom >&2; exit 1',
  }).mapper(ctx)) as MapperBody;
  let fedBeforeError = 0;
  let error: unknown;
  try {
    for (const line of lines) {
      await call(fake, () => mapper.record(0, Buffer.from(line)));
      fedBeforeError++;
    }
    await mapper.close?.();
  } catch (e) {
    error = e;
  }
  assertCommandError(error, /exited with code 1/, /boom/);
  assert.ok(fedBeforeError < lines.length, 'failed before the last record');
});

test('mapper: death by a signal names the signal; a missing command shows the shell message', async () => {
  const killed = await runMapper('echo about to die >&2; kill -9 $$', ['a']);
  assertCommandError(killed.error, /killed by signal SIGKILL/, /about to die/);
  const missing = await runMapper('no-such-command-tsmr-test', ['a']);
  assertCommandError(missing.error, /exited with code 127/, /no-such-command-tsmr-test.*not found/);
});

test('mapper: reporter lines on stderr become counters and status; other stderr is no error', async () => {
  const { fake, error } = await runMapper(
    'n=0; while read -r l; do n=$((n+1)); echo "reporter:counter:my group,lines,1" >&2; done; ' +
      'echo "reporter:counter:my group,big,-7" >&2; echo "reporter:status:read $n lines" >&2; echo noise >&2',
    ['a', 'b', 'c'],
  );
  assert.equal(error, undefined);
  assert.equal(fake.counters.get('my group/lines'), 3);
  assert.equal(fake.counters.get('my group/big'), -7);
  assert.equal(fake.status, 'read 3 lines');
});

test('reducer: key\\tvalue lines in, stdout byte for byte out (no final newline kept)', async () => {
  const { output, error, fake } = await runReducer(
    'cat; printf "partition=%s type=%s task=%s" "$TSMR_PARTITION" "$TSMR_TASK_TYPE" "$TSMR_TASK_ID"',
    [
      ['', ['empty key']],
      ['a', ['1', '2', '']],
      ['\xff', ['\x80']],
    ],
  );
  assert.equal(error, undefined);
  assert.equal(
    output.toString('latin1'),
    '\tempty key\na\t1\na\t2\na\t\n\xff\t\x80\npartition=2 type=reduce task=r-00002',
  );
  assert.equal(fake.chunks.length, 6, 'one output record per line');
  assert.equal(fake.emitsOutside, 0);
});

test('reducer: large groups stream through with bounded batches', async () => {
  const many = Array.from({ length: 100_000 }, (_, i) => String(i));
  const { output, error } = await runReducer(
    "awk -F '\\t' '{ n++; s += $2 } END { printf \"%d %.0f\", n, s }'",
    [['k', many]],
  );
  assert.equal(error, undefined);
  assert.equal(output.toString(), `100000 ${(99_999 * 100_000) / 2}`);
});

test('reducer: output lines longer than the limit pass in pieces, bytes unchanged', async () => {
  const command = `cat >/dev/null; head -c ${OUTPUT_LINE_MAX_BYTES * 2 + 10} /dev/zero; printf '\\nend'`;
  const { output, error, fake } = await runReducer(command, [['a', ['1']]]);
  assert.equal(error, undefined);
  assert.equal(output.length, OUTPUT_LINE_MAX_BYTES * 2 + 14);
  assert.equal(output.subarray(-4).toString(), '\nend');
  assert.ok(fake.chunks.length >= 3 && fake.chunks.length <= 4, `${fake.chunks.length} records`);
  assert.ok(fake.chunks.every((c) => c.length <= OUTPUT_LINE_MAX_BYTES + 64 * 1024 + 1));
});

test('reducer: one that prints nothing writes nothing; one that fails is an error', async () => {
  const silent = await runReducer('cat >/dev/null', [['a', ['1']]]);
  assert.equal(silent.error, undefined);
  assert.equal(silent.output.length, 0);
  const failing = await runReducer('cat >/dev/null; echo reduce went wrong >&2; exit 2', [['a', ['1']]]);
  assertCommandError(failing.error, /reducer command/, /exited with code 2/, /reduce went wrong/, /r-00002/);
});

test('identity reducer (no --reducer): key\\tvalue\\n for every value', async () => {
  const big = 'y'.repeat(STDIN_BATCH_BYTES + 5);
  const { output, error, fake } = await runReducer(undefined, [
    ['', ['']],
    ['k', ['1', '2']],
    ['big', [big]],
    ['\xfe', ['\xff']],
  ]);
  assert.equal(error, undefined);
  assert.equal(output.toString('latin1'), `\t\nk\t1\nk\t2\nbig\t${big}\n\xfe\t\xff\n`);
  assert.equal(fake.chunks.length, 5, 'one output record per value');
});

/** A group as the engine gives it: a latin1 string key (or, to check that path too, a byte key). */
function group(key: string, vals: string[], asBytes = false): Group {
  const bytes = Buffer.from(key, 'latin1');
  return asBytes
    ? {
        encodedKey: Buffer.concat([Buffer.of(0x08), bytes]),
        key: new Uint8Array(bytes),
        values: values(vals),
      }
    : { encodedKey: Buffer.concat([Buffer.of(0x07), Buffer.from(key, 'utf8')]), key, values: values(vals) };
}

test('combiner: a process per call, groups in, parsed pairs out, counters from stderr', async () => {
  const { fake, ctx } = fakeContext('map');
  const body = streamingJobBody({ kind: 'streaming', mapper: 'cat', combiner: 'sh ./wc_reduce.sh' });
  const cwd = process.cwd();
  process.chdir(fixtures);
  try {
    const combine = body.combiner?.(ctx);
    assert.ok(combine);
    const out: [string, unknown][] = [];
    const emit = (key: Key, value: unknown): void => void out.push([key as string, value]);
    await combine([group('a', ['1', '2']), group('b', ['5'], true), group('\xff', ['1', '1', '1'])], emit);
    assert.deepEqual(out, [
      ['a', '3'],
      ['b', '5'],
      ['\xff', '3'],
    ]);
    out.length = 0;
    assert.equal(await combine([], emit), undefined, 'no process for no groups');
    assert.deepEqual(out, []);
    const failing = streamingJobBody({
      kind: 'streaming',
      mapper: 'cat',
      combiner: 'echo "reporter:counter:c,calls,1" >&2; echo "combiner broke" >&2; exit 4',
    }).combiner?.(ctx);
    await assert.rejects(
      async () => failing?.([group('a', ['1'])], emit),
      (e) => {
        assertCommandError(e, /combiner command/, /exited with code 4/, /combiner broke/);
        return true;
      },
    );
    assert.equal(fake.counters.get('c/calls'), 1);
  } finally {
    process.chdir(cwd);
  }
});

test('the body declares raw byte input and the internal raw output', () => {
  const body = streamingJobBody({ kind: 'streaming', mapper: 'cat' });
  assert.deepEqual(body.inputFormat, { type: 'text', encoding: 'buffer' });
  assert.deepEqual(body.outputFormat, { type: 'raw' });
  assert.equal(body.combiner, undefined);
});
