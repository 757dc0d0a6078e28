/**
 * The fetch stage of a reduce attempt (Hadoop's shuffle "copy" phase): turns
 * the map outputs it must read into local segments for its merge, and names
 * the map attempts whose output could not be read.
 *
 * A local source (local mode, or a map output on this worker) is read where
 * it is. A source on another worker is copied by `fetchRemote` (the cluster
 * worker's shuffle fetcher: bounded parallel HTTP fetches, CRC-checked, into
 * `dir`); without one, such a source is an internal error.
 */
import { type ErrorDetails, ErrorCode, isTsmrError, TsmrError } from '../errors.ts';
import type { SegmentRef } from '../shuffle/segment-reader.ts';
import type { MapOutputSource } from './messages.ts';

/** Copies remote sources into files under `dir`; the refs come back in the order of `sources`. */
export type FetchRemote = (sources: readonly MapOutputSource[], dir: string) => Promise<SegmentRef[]>;

/** A map attempt whose output a reduce attempt could not read, as a fetch-failure report names it. */
export interface FailedMapOutput {
  mapTaskId: string;
  mapAttemptId: string;
}

/**
 * The segments to merge, in the order of `sources`. Each ref's `source` is
 * the map attempt id, so a corrupt segment found later names it.
 * @throws what `fetchRemote` throws (its `details.failedMapOutputs` name the sources).
 */
export async function localSegments(
  sources: readonly MapOutputSource[],
  dir: string,
  fetchRemote?: FetchRemote,
): Promise<SegmentRef[]> {
  const remote = sources.filter((s) => s.location.kind === 'worker');
  if (remote.length > 0 && fetchRemote === undefined) {
    throw new TsmrError(
      ErrorCode.INTERNAL,
      'a reduce attempt got map outputs on other workers but has no fetcher',
    );
  }
  const fetched = remote.length > 0 && fetchRemote ? await fetchRemote(remote, dir) : [];
  let next = 0;
  return sources.map((s) =>
    s.location.kind === 'local'
      ? { path: s.location.path, ...s.segment, source: s.mapAttemptId }
      : (fetched[next++] as SegmentRef),
  );
}

/**
 * Adds `details.failedMapOutputs` to a `TSMR_CORRUPT_DATA` error about one of
 * `sources` (a segment's checksum, framing or record count failed while
 * merging), so that the runtime reports a fetch failure for that map attempt.
 * Other errors pass unchanged.
 */
export function nameFailedMapOutput(error: unknown, sources: readonly MapOutputSource[]): unknown {
  if (!isTsmrError(error) || error.code !== ErrorCode.CORRUPT_DATA || error.details.failedMapOutputs) {
    return error;
  }
  const source = sources.find((s) => s.mapAttemptId === error.details.source);
  if (source !== undefined) {
    const failed: FailedMapOutput[] = [{ mapTaskId: source.mapTaskId, mapAttemptId: source.mapAttemptId }];
    error.details.failedMapOutputs = failed;
  }
  return error;
}

/**
 * The map attempts an attempt's (serialized) error says could not be read
 * (none for other errors). An entry refused for credentials (`code:
 * 'TSMR_AUTH'`, from the shuffle fetcher) is no fault of the map output and
 * is left out: re-running the map would not help.
 */
export function failedMapOutputs(error: { details?: ErrorDetails }): FailedMapOutput[] {
  const listed = error.details?.failedMapOutputs;
  if (!Array.isArray(listed)) return [];
  return listed.filter(
    (f): f is FailedMapOutput =>
      typeof f === 'object' &&
      f !== null &&
      typeof f.mapTaskId === 'string' &&
      typeof f.mapAttemptId === 'string',
  );
}
