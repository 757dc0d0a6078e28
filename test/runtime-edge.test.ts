/**
 * Edge cases of the runtime: the job driver against a scripted executor
 * (commit errors, re-executed maps), and runJob failure paths.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { ErrorCode, isRetriable, serializeError, TsmrError } from '../src/errors.ts';
import { prepareOutput } from '../src/io/committer.ts';
import { fileOutputCommitter, type OutputCommitter, recordsCommitter } from '../src/io/output-committer.ts';
import { normalizeOutputFormat } from '../src/io/output-writer.ts';
import { driveJob, type DriverInput } from '../src/runtime/job-driver.ts';
import type { AttemptExecutor } from '../src/runtime/executor.ts';
import { resolveSettings } from '../src/runtime/settings.ts';
import { validationError } from '../src/runtime/validation.ts';
import { moduleJobBody } from '../src/task/module-job-body.ts';
import type { AttemptOutcome, TaskMessage, TaskResult } from '../src/task/messages.ts';
import { runJob } from '../src/index.ts';
import countWords from './fixtures/jobs/count-words.ts';

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tsmr-runtime-edge-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const body = moduleJobBody(countWords, 'count-words');

/** An executor whose attempts end as `outcome` says, on the next macrotask. */
function scripted(
  outcome: (msg: TaskMessage) => TaskResult | Error,
): AttemptExecutor & { started: string[] } {
  const started: string[] = [];
  return {
    started,
    workers: [{ id: 'local', slots: 2 }],
    start(_w, msg) {
      started.push(`${msg.taskId}_${msg.attempt}`);
      const settled = new Promise<AttemptOutcome>((resolve) =>
        setImmediate(() => {
          const r = outcome(msg);
          if (r instanceof Error) resolve({ ok: false, error: serializeError(r), retriable: isRetriable(r) });
          else resolve({ ok: true, result: r, mapOutput: { kind: 'local', path: '/nonexistent' } });
        }),
      );
      return { outcome: settled, kill: () => {} };
    },
    discard: async () => {},
    releaseJob: async () => {},
    close: async () => {},
  };
}

/** A map attempt's result; it read `bytes` of its split (the whole split, 10 bytes, by default). */
function mapResult(records: number, bytes = 10): TaskResult {
  return {
    counters: {
      'tsmr/MAP_INPUT_RECORDS': records,
      'tsmr/MAP_INPUT_BYTES': bytes,
      'tsmr/MAP_OUTPUT_RECORDS': records,
    },
    mapOutput: { partitions: [{ offset: 0, length: 10, records, crc32: 0 }], records, bytes: 10 },
    input: { bytes, records },
  };
}

function reduceResult(records: number): TaskResult {
  return {
    counters: { 'tsmr/REDUCE_INPUT_RECORDS': records, 'tsmr/REDUCE_OUTPUT_RECORDS': 1 },
    input: { bytes: 10, records },
  };
}

function driverInput(executor: AttemptExecutor, committer: OutputCommitter): DriverInput {
  return {
    jobId: 'job-test',
    ref: undefined,
    body,
    splits: [
      {
        index: 0,
        parts: [{ path: '/x', start: 0, end: 10, compressed: false, size: 10, mtimeMs: 0 }],
        length: 10,
      },
    ],
    settings: resolveSettings({ input: [], workers: 2, reducers: 1 }, undefined),
    committer,
    executor,
    onProgress: () => {},
    log: pino({ level: 'silent' }),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${ms} ms (the job hangs)`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

test('a reduce commit that throws fails the job with that error instead of hanging', async () => {
  const executor = scripted((msg) => (msg.kind === 'map' ? mapResult(3) : reduceResult(3)));
  // The output directory was never prepared: commitTask throws TSMR_IO.
  const result = await withTimeout(
    driveJob(
      driverInput(
        executor,
        fileOutputCommitter(
          { dir: join(tmp, 'not-prepared'), replacing: false },
          normalizeOutputFormat(undefined),
        ),
      ),
    ),
    5000,
  );
  assert.equal(result.status, 'failed');
  assert.equal(result.error?.code, ErrorCode.IO);
  assert.match(result.error?.message ?? '', /r-00000/);
});

test('a map re-executed after fetch failures counts once in counters and the shuffle check', async () => {
  let reduceAttempts = 0;
  const executor = scripted((msg) => {
    if (msg.kind === 'map') return mapResult(3);
    // The first three reduce attempts find the map output corrupt: the map runs again.
    if (reduceAttempts++ < 3) {
      return new TsmrError(ErrorCode.CORRUPT_DATA, 'checksum mismatch', {
        details: { failedMapOutputs: [{ mapTaskId: 'm-00000', mapAttemptId: msg.sources[0]?.mapAttemptId }] },
      });
    }
    return reduceResult(3);
  });
  const result = await withTimeout(driveJob(driverInput(executor, recordsCommitter())), 5000);
  assert.equal(result.status, 'succeeded');
  assert.ok(executor.started.includes('m-00000_1'), `map re-executed: ${executor.started.join(' ')}`);
  assert.equal(result.counters['tsmr/MAP_INPUT_RECORDS'], 3);
  assert.equal(result.validation.shuffleRecordsMatch, true);
  assert.equal(result.validation.inputBytesMatch, true, 'the re-executed map counts its bytes once');
  assert.equal(validationError(result), undefined);
  assert.equal(result.phases.map?.tasks, 1);
});

test('skip mode: a map re-executed after fetch failures keeps the skipped records of its first commit', async () => {
  let reduceAttempts = 0;
  let skippingAttempts = 0;
  const executor = scripted((msg) => {
    if (msg.kind === 'map') {
      if (msg.attempt === 0) {
        return new TsmrError(ErrorCode.USER_CODE, 'map failed on the record at byte 3 of /x: no', {
          details: { file: '/x', offset: 3, failedOnRecord: true },
        });
      }
      assert.deepEqual(
        msg.skip?.records.map((r) => r.offset),
        [3],
      );
      assert.ok(msg.skip?.output !== undefined, 'with an output directory, skipped records are written');
      skippingAttempts++;
      return mapResult(3);
    }
    // The one reducer's report re-runs the map at once (it is all the reducers running).
    if (reduceAttempts++ < 1) {
      return new TsmrError(ErrorCode.CORRUPT_DATA, 'checksum mismatch', {
        details: { failedMapOutputs: [{ mapTaskId: 'm-00000', mapAttemptId: msg.sources[0]?.mapAttemptId }] },
      });
    }
    return reduceResult(3);
  });
  const out = join(tmp, 'out-skip-reexecuted');
  const prepared = await prepareOutput(out, { overwrite: false, inputs: [] });
  const input = driverInput(executor, fileOutputCommitter(prepared, normalizeOutputFormat(undefined)));
  input.settings = { ...input.settings, skipBadRecords: 1, maxAttempts: 2 };
  const result = await withTimeout(driveJob(input), 5000);
  assert.equal(result.status, 'succeeded', result.error?.message);
  assert.deepEqual(
    executor.started.filter((a) => a.startsWith('m-')),
    ['m-00000_0', 'm-00000_1', 'm-00000_2'],
  );
  assert.equal(skippingAttempts, 2, 'both later attempts skip the record');
  assert.equal(result.skippedRecords?.count, 1);
  assert.deepEqual(readdirSync(join(out, '_temporary', 'committed')).sort(), ['m-00000', 'r-00000']);
});

test('committed map attempts that read other than the planned bytes fail validation with TSMR_INPUT_CHANGED', async () => {
  const executor = scripted((msg) => (msg.kind === 'map' ? mapResult(3, 4) : reduceResult(3)));
  const result = await withTimeout(driveJob(driverInput(executor, recordsCommitter())), 5000);
  assert.equal(result.validation.inputBytesMatch, false);
  assert.equal(result.validation.shuffleRecordsMatch, true);
  const error = validationError(result);
  assert.equal(error?.code, ErrorCode.INPUT_CHANGED);
  assert.match(error?.message ?? '', /read 4 bytes of input, the splits planned 10/);
});

test('a failure before any task runs leaves no _temporary in the output directory', async () => {
  async function* failing(): AsyncGenerator<string> {
    yield 'a b';
    throw new Error('input source broke');
  }
  const out = join(tmp, 'out-input-fails');
  await assert.rejects(
    runJob(countWords, { input: failing(), output: out, workers: 0 }).done,
    /input source broke/,
  );
  assert.ok(
    !existsSync(join(out, '_temporary')),
    `left: ${existsSync(out) ? readdirSync(out).join(' ') : ''}`,
  );
});
