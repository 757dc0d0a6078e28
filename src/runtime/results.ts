/**
 * Reads back the results of a job run without an output directory: merges the
 * committed reduce outputs (see `src/task/records-output.ts`) in reduce-key
 * order and yields the emitted `[key, value]` pairs.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Key } from '../api/types.ts';
import { mergeSegments } from '../shuffle/merger.ts';
import type { SegmentRef } from '../shuffle/segment-reader.ts';
import { decodeValue } from '../shuffle/value-codec.ts';
import type { ResultRecord } from './run-options.ts';

/** Streams the results; deletes `workDir` when the iteration ends (completed or not). */
export async function* readResults(
  segments: SegmentRef[],
  workDir: string,
): AsyncGenerator<ResultRecord<Key, unknown>> {
  let cursor: ReturnType<typeof mergeSegments> | undefined;
  try {
    cursor = mergeSegments(segments, { fanIn: 64, tmpDir: join(workDir, 'results-merge') });
    while (cursor.next()) {
      yield decodeValue(cursor.buf, cursor.valueStart, cursor.valueEnd) as ResultRecord<Key, unknown>;
    }
  } finally {
    cursor?.close();
    await rm(workDir, { recursive: true, force: true });
  }
}
