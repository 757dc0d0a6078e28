/**
 * The `ClientService` messages of in-memory input and results
 * (`client_service.proto`): `UploadInput` chunks of spool files, and the
 * `GetResults` answer, a job's committed records outputs on their workers.
 * Checked reading on the receiving side, as the other `wire-*.ts`.
 */
import { create } from '@bufbuild/protobuf';
import { parseAttemptId } from '../../engine/scheduler-types.ts';
import type { SerializedError } from '../../errors.ts';
import type { SegmentInfo } from '../../shuffle/run-writer.ts';
import {
  GetResultsResponseSchema,
  UploadInputRequestSchema,
} from './gen/tsmr/cluster/v1/client_service_pb.js';
import type * as pb from './gen/tsmr/cluster/v1/client_service_pb.js';
import {
  attemptIdStr,
  badMessage,
  big,
  httpUrl,
  int,
  list,
  num64,
  str,
  wireLimits,
  workerIdStr,
} from './wire-check.ts';
import { errorFromWire, errorToWire, segmentFromWire, segmentToWire } from './wire-common.ts';

/** Bytes of one `UploadInput` chunk at most (4 MiB: gRPC's default message size). */
export const UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024;
/** Spool files of one submission at most. */
export const MAX_UPLOADED_FILES = 100_000;
/** Committed reduce outputs of one job at most (R's bound). */
const MAX_RESULT_SEGMENTS = wireLimits.reducers;

/** One chunk of spool file `file` of a submission's in-memory input. */
export interface InputChunk {
  submissionId: string;
  file: number;
  /** Byte offset of `data` in the file. */
  offset: number;
  data: Uint8Array;
}

export function inputChunkToWire(c: InputChunk): pb.UploadInputRequest {
  return create(UploadInputRequestSchema, {
    submissionId: c.submissionId,
    file: c.file,
    offset: big(c.offset, 'UploadInputRequest.offset'),
    data: c.data,
  });
}

/** @throws TsmrError `TSMR_BAD_MESSAGE` naming the first field that breaks its rule. */
export function inputChunkFromWire(m: pb.UploadInputRequest, field = 'UploadInputRequest'): InputChunk {
  if (m.data.length > UPLOAD_CHUNK_BYTES) {
    throw badMessage(`${field}.data`, `has ${m.data.length} bytes, more than ${UPLOAD_CHUNK_BYTES}`);
  }
  return {
    submissionId: str(m.submissionId, `${field}.submission_id`, { max: wireLimits.name }),
    file: int(m.file, `${field}.file`, 0, MAX_UPLOADED_FILES - 1),
    offset: num64(m.offset, `${field}.offset`),
    data: m.data,
  };
}

/** Sizes of the uploaded spool files, checked. */
export function uploadedSizesFromWire(sizes: readonly bigint[], field: string): number[] {
  return list(sizes, field, MAX_UPLOADED_FILES).map((n, i) => num64(n, `${field}[${i}]`, 1));
}

/** A committed reduce output of a job run without an output directory, on the worker that wrote it. */
export interface ResultSegment {
  /** The committed reduce attempt, `r-00001_0` (map attempt, `m-00001_0`, in a map-only job). */
  attemptId: string;
  workerId: string;
  /** Base URL of that worker's shuffle server. */
  shuffleUrl: string;
  /** The records file's facts (offset 0). */
  segment: SegmentInfo;
}

/** Where a job's results are, or why they cannot be read. */
export type ResultsAnswer = { ok: true; segments: ResultSegment[] } | { ok: false; error: SerializedError };

export function resultsToWire(answer: ResultsAnswer): pb.GetResultsResponse {
  if (!answer.ok) return create(GetResultsResponseSchema, { error: errorToWire(answer.error) });
  return create(GetResultsResponseSchema, {
    segments: answer.segments.map((s) => ({
      attemptId: s.attemptId,
      workerId: s.workerId,
      shuffleUrl: s.shuffleUrl,
      segment: segmentToWire(s.segment, 'ResultSegment.segment'),
    })),
  });
}

/**
 * @throws TsmrError `TSMR_BAD_MESSAGE` naming the first field that breaks its
 *   rule: ids and URL, an offset other than 0, partitions not strictly
 *   increasing, segments beside an error.
 */
export function resultsFromWire(m: pb.GetResultsResponse, field = 'GetResultsResponse'): ResultsAnswer {
  if (m.error !== undefined) {
    if (m.segments.length > 0) throw badMessage(`${field}.segments`, 'must be empty when error is set');
    return { ok: false, error: errorFromWire(m.error, `${field}.error`) };
  }
  let previous = -1;
  // Reduce attempts; map attempts in a map-only job.
  const kind = m.segments[0]?.attemptId.startsWith('m-') ? 'map' : 'reduce';
  const segments = list(m.segments, `${field}.segments`, MAX_RESULT_SEGMENTS).map((s, i) => {
    const f = `${field}.segments[${i}]`;
    const attemptId = attemptIdStr(s.attemptId, `${f}.attempt_id`, kind);
    const { index } = parseAttemptId(attemptId)!;
    if (index <= previous) throw badMessage(`${f}.attempt_id`, 'is not in strictly increasing task order');
    previous = index;
    const segment = segmentFromWire(s.segment, `${f}.segment`);
    if (segment.offset !== 0) throw badMessage(`${f}.segment.offset`, 'must be 0');
    return {
      attemptId,
      workerId: workerIdStr(s.workerId, `${f}.worker_id`),
      shuffleUrl: httpUrl(s.shuffleUrl, `${f}.shuffle_url`),
      segment,
    };
  });
  return { ok: true, segments };
}
