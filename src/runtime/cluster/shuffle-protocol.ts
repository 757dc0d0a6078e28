/**
 * The wire format of the shuffle, shared by server and fetcher.
 *
 * A segment's address on a worker's shuffle server is
 * `/shuffle/<jobId>/<mapAttemptId>/<partition>`, e.g.
 * `/shuffle/job-20261201-121943-a1b2c3/m-00003_1/7` (Hadoop's ShuffleHandler
 * takes `?job=…&map=…&reduce=…` the same way: ids, never a file path).
 *
 * Ids are checked strictly, against the exact forms tsmr generates (`ids.ts`),
 * so that a request path is either one canonical string or rejected: no `..`,
 * no percent-encoding, no query, no trailing slash. The same checks guard the
 * fetcher, which builds local file names from these ids.
 *
 * A `200` response carries the segment's bytes, `content-length` = its
 * length, and the facts of the map output index in {@link RECORDS_HEADER}
 * and {@link CRC32_HEADER} (decimal), so that the fetcher can check them
 * against what the coordinator said before it reads a byte. Authentication
 * headers are in `shuffle-auth.ts`.
 */
import { isAttemptId, isJobId } from './ids.ts';

/** A partition: a decimal integer without leading zeros, at most 9 digits (R is far below 10⁹). */
const PARTITION = /^(?:0|[1-9]\d{0,8})$/;
const PREFIX = '/shuffle/';

/** Response header: records in the segment (decimal). */
export const RECORDS_HEADER = 'x-tsmr-records';
/** Response header: `zlib.crc32` of the segment's bytes (decimal, unsigned). */
export const CRC32_HEADER = 'x-tsmr-crc32';

/** What a shuffle path names. */
export interface SegmentAddress {
  jobId: string;
  /**
   * A map attempt id, `m-00003_1` (task id and attempt number, as `attemptIdOf`
   * makes it); or, for the results of a job without an output directory, the
   * reduce attempt whose records file it is (`r-00001_0`, partition 0).
   */
  mapAttemptId: string;
  /** Reduce partition, an integer ≥ 0. */
  partition: number;
}

/**
 * The request path of a segment.
 * @throws TypeError for an id or partition that {@link parseShufflePath} would reject.
 */
export function shufflePath(address: SegmentAddress): string {
  const path = `${PREFIX}${address.jobId}/${address.mapAttemptId}/${address.partition}`;
  if (!parseShufflePath(path)) throw new TypeError(`not a valid shuffle segment address: ${path}`);
  return path;
}

/**
 * Parses a request target (`req.url`, as received: no decoding, no
 * normalisation). Undefined when it is not exactly a canonical shuffle path.
 */
export function parseShufflePath(target: string): SegmentAddress | undefined {
  if (!target.startsWith(PREFIX)) return undefined;
  const parts = target.slice(PREFIX.length).split('/');
  if (parts.length !== 3) return undefined;
  const [jobId, mapAttemptId, partition] = parts;
  if (!isJobId(jobId) || !isAttemptId(mapAttemptId) || !PARTITION.test(partition)) return undefined;
  return { jobId, mapAttemptId, partition: Number(partition) };
}
