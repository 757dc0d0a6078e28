/**
 * One reduce attempt: merge segment `partition` of every map output, group by
 * key, call the reducer once per key in key order, and write the attempt's
 * output file (DESIGN.md §4 step 4). Commit is the runtime's job.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Key, ReduceContext } from '../api/types.ts';
import { ErrorCode, isTsmrError, TsmrError } from '../errors.ts';
import { groupByKey } from '../shuffle/grouper.ts';
import { formatKey } from '../shuffle/key-codec.ts';
import { mergeSegments } from '../shuffle/merger.ts';
import { injectedFailure } from './injected-failure.ts';
import type { JobBody, ReducerBody } from './job-body.ts';
import type { ReduceTaskMessage, TaskProgress, TaskResult } from './messages.ts';
import { abortQuietly, isThenable } from './module-job-body.ts';
import { type FetchRemote, localSegments, nameFailedMapOutput } from './fetch-stage.ts';
import { openTaskOutput } from './task-output.ts';
import { createAttemptState } from './task-context.ts';

/** Progress is reported once per this many records read, also within one key's values (so at least once per 4096 keys). */
const PROGRESS_EVERY_RECORDS = 4096;

/**
 * @param scratchDir this attempt's own directory (created if missing): merge
 *   runs, fetched segments, and a records output.
 * @param fetchRemote copies map outputs held by other workers (cluster mode).
 */
export async function runReduceTask(
  msg: ReduceTaskMessage,
  body: JobBody,
  scratchDir: string,
  onProgress: (p: TaskProgress) => void,
  fetchRemote?: FetchRemote,
): Promise<TaskResult> {
  try {
    return await reduce(msg, body, scratchDir, onProgress, fetchRemote);
  } catch (error) {
    throw nameFailedMapOutput(error, msg.sources);
  }
}

async function reduce(
  msg: ReduceTaskMessage,
  body: JobBody,
  scratchDir: string,
  onProgress: (p: TaskProgress) => void,
  fetchRemote: FetchRemote | undefined,
): Promise<TaskResult> {
  const { ctx, counters, status } = createAttemptState(msg);
  const tmpDir = join(scratchDir, 'merge');
  mkdirSync(tmpDir, { recursive: true });

  const segments = await localSegments(msg.sources, join(scratchDir, 'fetch'), fetchRemote);
  const totalRecords = segments.reduce((n, s) => n + s.records, 0);
  const totalBytes = segments.reduce((n, s) => n + s.length, 0);
  const crashAfterRecords = msg.crashAt === undefined ? Number.POSITIVE_INFINITY : msg.crashAt * totalRecords;

  const merged = mergeSegments(segments, { fanIn: msg.mergeFanIn, tmpDir });
  const groups = groupByKey(merged, {
    groupBy: body.groupBy,
    every: PROGRESS_EVERY_RECORDS,
    onRecords: (records) => onProgress({ records, bytes: fraction(records, totalRecords) * totalBytes }),
  });
  let currentKey: Buffer | undefined;
  const writer = openTaskOutput(msg.output, scratchDir, () => currentKey as Buffer);
  let outputRecords = 0;
  const reduceCtx: ReduceContext = {
    ...ctx,
    partition: msg.partition,
    emit(key, value) {
      outputRecords++;
      writer.write(key, value);
    },
  };

  let groupCount = 0;
  let reducer: ReducerBody | undefined;
  try {
    if (body.reducer === undefined)
      throw new TsmrError(ErrorCode.INTERNAL, 'a map-only job has no reduce tasks');
    reducer = await body.reducer(reduceCtx);
    const reduceGroup = reducer.group.bind(reducer);
    for (const group of groups) {
      if (groups.records >= crashAfterRecords) throw injectedFailure(msg.taskId, msg.attempt);
      currentKey = group.encodedKey;
      const result = callReducer(reduceGroup, group.key, group.values);
      if (isThenable(result)) await result.then(undefined, (cause: unknown) => rethrow(cause, group.key));
      groupCount++;
    }
    if (msg.crashAt !== undefined) throw injectedFailure(msg.taskId, msg.attempt);
    await reducer.close?.();
  } catch (error) {
    abortQuietly(reducer);
    await writer.abort();
    throw error;
  } finally {
    merged.close();
  }
  const written = await writer.close();
  counters.add('REDUCE_INPUT_GROUPS', groupCount);
  counters.add('REDUCE_INPUT_RECORDS', groups.records);
  counters.add('REDUCE_OUTPUT_RECORDS', outputRecords);
  counters.add('REDUCE_SHUFFLE_BYTES', totalBytes);
  const input = { records: groups.records, bytes: totalBytes };
  onProgress(input);
  return {
    counters: counters.toJSON(),
    input,
    output: { files: [writer.path], ...written },
    checksumsVerified: segments.length,
    status: status(),
  };
}

function fraction(done: number, total: number): number {
  return total === 0 ? 1 : Math.min(1, done / total);
}

function callReducer(
  group: (key: Key, values: never) => void | Promise<void>,
  key: Key,
  values: unknown,
): void | Promise<void> {
  try {
    return group(key, values as never);
  } catch (cause) {
    rethrow(cause, key);
  }
}

function rethrow(cause: unknown, key: Key): never {
  if (isTsmrError(cause) && cause.code !== ErrorCode.USER_CODE) throw cause;
  throw new TsmrError(
    ErrorCode.USER_CODE,
    `reduce failed on key ${formatKey(key)}: ${(cause as Error)?.message ?? String(cause)}`,
    { cause, details: { key: formatKey(key) } },
  );
}
