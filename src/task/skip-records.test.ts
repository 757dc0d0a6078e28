/**
 * Skip mode in one map attempt: a failure on a record is marked so the
 * driver can skip it, the next attempt leaves it out and writes it to its
 * skipped-records file, and failures a record did not cause stay unmarked.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { MapContext } from '../api/types.ts';
import { isTsmrError, serializeError } from '../errors.ts';
import { normalizeInputFormat } from '../io/record-reader.ts';
import { normalizeOutputFormat } from '../io/output-writer.ts';
import { tempDir } from '../shuffle/test-support.ts';
import type { JobBody } from './job-body.ts';
import { runMapTask } from './map-task.ts';
import type { BadRecord, MapTaskMessage } from './messages.ts';
import { failedRecord } from './record-failure.ts';

/** Emits each line; throws on lines containing BOOM; with `combineThrows`, its combiner throws at the first spill. */
function body(combineThrows = false): JobBody {
  return {
    name: 'boom',
    inputFormat: normalizeInputFormat(undefined),
    outputFormat: normalizeOutputFormat(undefined),
    mapper: (ctx: MapContext) => ({
      record(_k, line) {
        if ((line as string).includes('BOOM')) throw new TypeError(`cannot map ${line as string}`);
        ctx.emit(line as string, 1);
      },
    }),
    combiner: combineThrows
      ? () => () => {
          throw new Error('combiner broke');
        }
      : undefined,
    reducer: () => ({ group() {} }),
  };
}

function message(input: string, attempt: number, skip: MapTaskMessage['skip']): MapTaskMessage {
  const { size, mtimeMs } = statSync(input);
  return {
    kind: 'map',
    jobId: 'job',
    taskId: 'm-00000',
    attempt,
    job: { kind: 'module', moduleUrl: 'unused', exportName: 'default' },
    params: {},
    numReducers: 2,
    split: {
      index: 0,
      parts: [{ path: input, start: 0, end: size, compressed: false, size, mtimeMs }],
      length: size,
    },
    inputFormat: normalizeInputFormat(undefined),
    sortBufferBytes: 1024,
    mergeFanIn: 8,
    skip,
  };
}

/** The bad record a failed attempt blames (asserting it failed). */
async function failure(run: Promise<unknown>): Promise<BadRecord | undefined> {
  const error = await run.then(
    () => assert.fail('the attempt should fail'),
    (e: unknown) => e,
  );
  assert.ok(isTsmrError(error));
  return failedRecord(serializeError(error));
}

test('a record map throws on is blamed, skipped by the next attempt and written with its error', async (t) => {
  const dir = tempDir(t, 'tsmr-skip-');
  const input = join(dir, 'in.txt');
  writeFileSync(input, 'a\nb BOOM\nc\nBOOM again\nd\n');
  const records: BadRecord[] = [];
  for (let attempt = 0; attempt < 2; attempt++) {
    const bad = await failure(
      runMapTask(
        message(input, attempt, { records: [...records] }),
        body(),
        join(dir, `s${attempt}`),
        () => {},
      ),
    );
    assert.ok(bad !== undefined);
    records.push(bad);
  }
  assert.deepEqual(
    records.map((r) => [r.file, r.offset, r.error.code]),
    [
      [input, 2, 'TSMR_USER_CODE'],
      [input, 11, 'TSMR_USER_CODE'],
    ],
  );
  assert.match(
    records[0]!.error.message,
    /^map failed on the record at byte 2 of .*in\.txt: cannot map b BOOM$/,
  );
  const output = { dir: join(dir, 'out', '_skipped'), fileName: 'm-00000.jsonl' };
  const result = await runMapTask(message(input, 2, { records, output }), body(), join(dir, 's2'), () => {});
  assert.equal(result.counters['tsmr/MAP_SKIPPED_RECORDS'], 2);
  assert.equal(result.counters['tsmr/MAP_INPUT_RECORDS'], 3, 'skipped records are not map input');
  assert.equal(result.mapOutput?.records, 3);
  const lines = readFileSync(join(output.dir, output.fileName), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines, [
    { file: input, offset: 2, record: 'b BOOM', error: records[0]!.error },
    { file: input, offset: 11, record: 'BOOM again', error: records[1]!.error },
  ]);
});

test('outside skip mode nothing is marked; in skip mode a spill failure blames no record', async (t) => {
  const dir = tempDir(t, 'tsmr-skip-');
  const input = join(dir, 'in.txt');
  writeFileSync(input, 'BOOM\n');
  assert.equal(
    await failure(runMapTask(message(input, 0, undefined), body(), join(dir, 'a'), () => {})),
    undefined,
  );
  const many = join(dir, 'many.txt');
  writeFileSync(many, Array.from({ length: 500 }, (_, i) => `word${i}\n`).join(''));
  const spill = runMapTask(message(many, 0, { records: [] }), body(true), join(dir, 'b'), () => {});
  await assert.rejects(
    spill.then(undefined, (e: unknown) => {
      assert.ok(isTsmrError(e) && typeof e.details.offset === 'number', 'the spill happened at a record');
      throw e;
    }),
  );
  assert.equal(await failure(spill), undefined, 'the combiner failed, not the record');
});
