/**
 * `handle.results()` of a cluster job without an output directory, on the
 * client's side. The committed reduce outputs stay on the workers that wrote
 * them, each served by its worker's shuffle server like a map output segment
 * (`GET /shuffle/<jobId>/<reduceAttemptId>/0`, HMAC with the job's key,
 * which the client derives from the cluster token). The client asks the
 * coordinator where they are (`GetResults`), copies every one into a local
 * scratch directory (`shuffle-fetcher.ts`: bounded parallel, CRC-checked,
 * retried, streamed to disk), tells the coordinator it has them
 * (`ReleaseResults`, after which the workers delete them), and merges them
 * in key order exactly as local mode does (`results.ts`, which deletes the
 * directory when the iteration ends). Memory stays bounded; the client's
 * disk holds the results, as local mode's scratch does.
 *
 * A worker lost before the copy ended (its results gone with it) is
 * `TSMR_WORKER_LOST` naming it, never missing records.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Key } from '../../api/types.ts';
import { parseAttemptId } from '../../engine/scheduler-types.ts';
import { deserializeError, ErrorCode, isTsmrError, TsmrError } from '../../errors.ts';
import type { SegmentRef } from '../../shuffle/segment-reader.ts';
import { readResults } from '../results.ts';
import type { ResultRecord } from '../run-options.ts';
import { createClusterClient } from './client.ts';
import type { ClusterConnection } from './client.ts';
import { jobKeyOf } from './shuffle-auth.ts';
import { fetchSegments } from './shuffle-fetcher.ts';
import type { ResultSegment } from './wire-records.ts';

/**
 * Streams the results of job `jobId` from the cluster at `connection`.
 * @throws TsmrError `TSMR_WORKER_LOST` (details `{ jobId, workerId, attemptId }`)
 *   when a worker holding results was lost or cannot serve them;
 *   `TSMR_USAGE` when the results were released or expired; the errors of
 *   `client.ts` for the RPCs.
 */
export async function* readClusterResults(
  connection: ClusterConnection,
  jobId: string,
): AsyncGenerator<ResultRecord<Key, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), `tsmr-results-${jobId}-`));
  let segments: SegmentRef[];
  const client = createClusterClient(connection);
  try {
    const answer = await client.results(jobId);
    if (!answer.ok) throw deserializeError(answer.error);
    segments = await copyResults(answer.segments, jobId, connection, dir);
    // The copies are here: a release that fails only leaves the workers' files to the coordinator's timeout.
    await client.releaseResults(jobId).catch(() => {});
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    client.close();
  }
  yield* readResults(segments, dir);
}

async function copyResults(
  results: ResultSegment[],
  jobId: string,
  connection: ClusterConnection,
  dir: string,
): Promise<SegmentRef[]> {
  const sources = results.map((r) => ({
    url: r.shuffleUrl,
    jobId,
    mapTaskId: parseAttemptId(r.attemptId)!.taskId,
    mapAttemptId: r.attemptId,
    partition: 0,
    length: r.segment.length,
    records: r.segment.records,
    crc32: r.segment.crc32,
  }));
  try {
    return await fetchSegments(sources, { jobKey: jobKeyOf(connection.token, jobId), dir });
  } catch (error) {
    const failed = isTsmrError(error)
      ? (error.details.failedMapOutputs as Array<{ mapAttemptId: string; reason: string }> | undefined)
      : undefined;
    const first = failed?.[0];
    const holder = results.find((r) => r.attemptId === first?.mapAttemptId);
    if (first === undefined || holder === undefined) throw error;
    throw new TsmrError(
      ErrorCode.WORKER_LOST,
      `the results of job ${jobId} cannot be read: worker ${holder.workerId}, which holds ${holder.attemptId}, ` +
        `does not serve them (${first.reason}); it was lost or deleted them: run the job again`,
      { cause: error, details: { jobId, workerId: holder.workerId, attemptId: holder.attemptId } },
    );
  }
}
