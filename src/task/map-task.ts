/**
 * One map attempt: read the split's records, call the mapper, collect and
 * spill its output, and leave one map output file with one sorted segment per
 * partition (DESIGN.md §4 step 2). In a map-only job (R = 0) the records go
 * straight to the attempt's output file instead, in emit order, as Hadoop
 * writes `part-m-NNNNN` files when a job has no reduce tasks.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { attemptIdOf } from '../engine/scheduler-types.ts';
import type { Key, MapContext } from '../api/types.ts';
import { ErrorCode, TsmrError } from '../errors.ts';
import { readSplit } from '../io/record-reader.ts';
import type { FoldTableCache } from '../shuffle/fold-table.ts';
import { checkGroupKey, prefixPartition } from '../shuffle/group-prefix.ts';
import { MapOutputCollector } from '../shuffle/map-output-collector.ts';
import { checkText, decodeText } from '../shuffle/text-bytes.ts';
import { decodeSplitPoints, totalOrderPartition } from '../shuffle/total-order-partitioner.ts';
import { injectedFailure } from './injected-failure.ts';
import type { JobBody } from './job-body.ts';
import type { MapTaskMessage, TaskProgress, TaskResult } from './messages.ts';
import { abortQuietly, isThenable } from './module-job-body.ts';
import { markingRecordFailures } from './record-failure.ts';
import { skippedRecords } from './skipped-records.ts';
import { createAttemptState, setInputFile } from './task-context.ts';
import { openTaskOutput, type TaskOutput } from './task-output.ts';

/** After an awaited `map` call, progress is reported if none was for this long (ms). */
const ASYNC_PROGRESS_MS = 1000;

/**
 * @param scratchDir this attempt's own directory (created if missing): spills
 *   and the map output file `mapOutputPath(scratchDir, attemptId)` with its index.
 * @param foldTableCache where a job with `combineValues` takes the fold table
 *   of this thread's previous map task from, and leaves its own.
 */
export async function runMapTask(
  msg: MapTaskMessage,
  body: JobBody,
  scratchDir: string,
  onProgress: (p: TaskProgress) => void,
  foldTableCache?: FoldTableCache,
): Promise<TaskResult> {
  const { ctx, counters, status } = createAttemptState(msg);
  const numPartitions = msg.numReducers;
  const userPartition = body.partition;
  const groupBy = body.groupBy;
  mkdirSync(scratchDir, { recursive: true });

  // A map-only job (R = 0) writes its records where reduce attempts would, unsorted (Hadoop's part-m files).
  const direct = msg.output === undefined ? undefined : openTaskOutput(msg.output, scratchDir, () => NO_KEY);
  let directRecords = 0;
  const newCollector = (): MapOutputCollector =>
    new MapOutputCollector({
      numPartitions,
      partition:
        msg.totalOrder !== undefined
          ? totalOrderPartition(decodeSplitPoints(msg.totalOrder.splitPoints))
          : userPartition !== undefined
            ? (_encodedKey: Buffer, key: Key) => callPartition(userPartition, key, numPartitions)
            : groupBy !== undefined
              ? prefixPartition(groupBy, numPartitions)
              : undefined,
      combiner: body.combiner?.({ ...ctx, emit: () => {} }),
      fold: body.combineValues,
      sortBufferBytes: msg.sortBufferBytes,
      mergeFanIn: msg.mergeFanIn,
      dir: scratchDir,
      name: attemptIdOf(msg.taskId, msg.attempt),
      counters,
      foldTableCache,
    });
  const collector = direct === undefined ? newCollector() : undefined;

  const mapCtx: MapContext = {
    ...ctx,
    emit:
      collector === undefined
        ? (key, value) => {
            (direct as TaskOutput).write(key, value);
            directRecords++;
          }
        : groupBy === undefined
          ? (key, value) => collector.emit(key, value)
          : (key, value) => {
              checkGroupKey(key, groupBy);
              collector.emit(key, value);
            },
    emitText:
      collector === undefined || groupBy !== undefined
        ? (bytes, start, end, value, encoding) =>
            mapCtx.emit(decodeText(bytes, start, end, checkText(bytes, start, end, encoding)), value)
        : (bytes, start, end, value, encoding) =>
            collector.emitText(bytes, start, end, checkText(bytes, start, end, encoding), value),
    // A data property, set as each file starts. A getter here would be a new
    // function per task, and V8 shares an accessor's map transition only for
    // the same getter: every context after a thread's first would be in
    // dictionary mode, and each ctx.emit a dictionary lookup.
    inputFile: '',
    input: msg.split.input ?? 0,
  };
  const mapper = await body.mapper(mapCtx);
  // Skip mode: leave out the records earlier attempts failed on; mark this attempt's failures on a record.
  const skip = msg.skip === undefined ? undefined : skippedRecords(msg.skip, msg.inputFormat);
  const mapRecords = skip === undefined ? mapper : markingRecordFailures(mapper);

  const crashBytes = msg.crashAt === undefined ? Number.POSITIVE_INFINITY : msg.crashAt * msg.split.length;
  let bytesRead = 0;
  let records = 0;
  const spillIfFull = (): void | Promise<void> => (collector?.full ? collector.spill() : undefined);
  // Progress comes with every chunk read; a map that awaits per record may take
  // long over one chunk, so after an awaited record it is also sent once a
  // second (Hadoop's reporter), lest a slow but working attempt time out.
  let reportedAt = Date.now();
  const afterAwait = (): void | Promise<void> => {
    const now = Date.now();
    if (now - reportedAt >= ASYNC_PROGRESS_MS) {
      reportedAt = now;
      onProgress({ bytes: bytesRead, records });
    }
    return spillIfFull();
  };

  let stats: { records: number; bytes: number };
  try {
    stats = await readSplit(
      msg.split,
      msg.inputFormat,
      (key, value) => {
        if (bytesRead >= crashBytes) throw injectedFailure(msg.taskId, msg.attempt);
        records++;
        const result = mapRecords.record(key, value);
        if (isThenable(result)) return Promise.resolve(result).then(afterAwait);
        return spillIfFull();
      },
      {
        onFile: (path) => setInputFile(mapCtx, msg.inputFormat, path),
        onProgress: (bytes) => {
          bytesRead = bytes;
          reportedAt = Date.now();
          onProgress({ bytes, records });
        },
        skip: skip?.hook,
      },
    );
    if (msg.crashAt !== undefined) throw injectedFailure(msg.taskId, msg.attempt);
    await mapper.close?.();
    skip?.close();
  } catch (error) {
    abortQuietly(mapper);
    skip?.abort();
    collector?.abort();
    await direct?.abort();
    throw error;
  }
  counters.add('MAP_INPUT_RECORDS', stats.records);
  counters.add('MAP_INPUT_BYTES', stats.bytes);
  if (skip !== undefined) counters.add('MAP_SKIPPED_RECORDS', skip.count);
  const input = { bytes: stats.bytes, records: stats.records };
  if (direct !== undefined) {
    const written = await direct.close();
    counters.add('MAP_OUTPUT_RECORDS', directRecords);
    onProgress(input);
    return {
      counters: counters.toJSON(),
      input,
      output: { files: [direct.path], ...written },
      status: status(),
    };
  }
  const { partitions, records: outputRecords, bytes } = await (collector as MapOutputCollector).finish();
  onProgress(input);
  return {
    counters: counters.toJSON(),
    input,
    mapOutput: { partitions, records: outputRecords, bytes },
    status: status(),
  };
}

/** The records-output key of a map-only job's records: all equal, so results keep map task order, then emit order. */
const NO_KEY = Buffer.alloc(0);

/** The map output data file a map attempt leaves in its scratch directory. */
export function mapOutputPath(scratchDir: string, attemptId: string): string {
  return join(scratchDir, `${attemptId}.data`);
}

function callPartition(partition: (key: Key, n: number) => number, key: Key, n: number): number {
  let p: number;
  try {
    p = partition(key, n);
  } catch (cause) {
    throw new TsmrError(ErrorCode.USER_CODE, `partition() threw: ${(cause as Error)?.message}`, { cause });
  }
  return p;
}
