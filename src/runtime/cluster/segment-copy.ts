/**
 * One try at copying one map output segment from a worker's shuffle server
 * into a local file (Hadoop's `Fetcher.copyMapOutput`), verified on the way.
 *
 * Before any byte is written, the response's headers must agree with what
 * the coordinator said about the segment (length, records, CRC-32) and carry
 * a valid reply signature (the server holds the job's key). The body is
 * written to the file chunk by chunk as it arrives, the next chunk read only
 * when the last one is written (so memory is a few socket buffers whatever
 * the segment's size), while its CRC-32 is computed incrementally
 * (`zlib.crc32(chunk, previous)`) and checked at the end. Node's HTTP parser
 * ends the body at `content-length`, and fails it when the connection closes
 * before, so a body that ends normally has the segment's length.
 *
 * Outcomes are three, so that the caller can tell whose fault a failure is:
 * - resolves `undefined`: the file holds exactly the segment;
 * - resolves a {@link CopyFailure}: the source failed (connection refused or
 *   cut, timeout, non-200 status, mismatching headers or CRC);
 * - rejects: a local failure (`TSMR_IO`: the file could not be written) or
 *   the signal aborted (with its reason). Neither is the map output's fault.
 *
 * Only a successful copy leaves its file behind.
 */
import { open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import http from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { crc32 } from 'node:zlib';
import { ErrorCode, TsmrError, isTsmrError } from '../../errors.ts';
import type { ErrorCode as Code } from '../../errors.ts';
import { ioError } from '../../shuffle/file-io.ts';
import { REPLY_HEADER, replySignature, signShuffleRequest } from './shuffle-auth.ts';
import { CRC32_HEADER, RECORDS_HEADER, shufflePath } from './shuffle-protocol.ts';
import { tokensEqual } from './token.ts';

/** One segment to fetch: where it is and what the coordinator says it holds (from the map output index). */
export interface ShuffleSource {
  /** Base URL of the worker's shuffle server, e.g. `http://10.0.0.5:40123` (any path in it is ignored). */
  url: string;
  jobId: string;
  /** The map task, `m-00003` (what a `fetchFailed` event names). */
  mapTaskId: string;
  /** The map attempt whose output is fetched, `m-00003_1`. */
  mapAttemptId: string;
  /** Reduce partition. */
  partition: number;
  /** Bytes of the segment. */
  length: number;
  records: number;
  /** `zlib.crc32` of the segment's bytes. */
  crc32: number;
}

/** A failed try: `error` is a TsmrError naming the source; an auth failure is not `retriable`. */
export interface CopyFailure {
  error: TsmrError;
  retriable: boolean;
}

/** What one copy needs besides its source. */
export interface CopyContext {
  jobKey: Uint8Array;
  /** Connection pools (keep-alive) for `http:` and `https:` sources. */
  agents: { http: http.Agent; https: https.Agent };
  /** A try fails when no byte arrives for this long (ms): Hadoop's shuffle read timeout. */
  timeoutMs: number;
  signal: AbortSignal;
  /** Epoch ms, for the request signature. */
  now(): number;
  /** Called with each chunk's byte count as it is written. */
  onBytes(bytes: number): void;
}

/** Copies `source` into `file` (created; it must not exist). See the module doc for outcomes. */
export async function copySegment(
  source: ShuffleSource,
  file: string,
  ctx: CopyContext,
): Promise<CopyFailure | undefined> {
  const path = shufflePath(source);
  const headers = signShuffleRequest(ctx.jobKey, 'GET', path, ctx.now());
  let timedOut = false;
  let res: IncomingMessage;
  try {
    res = await get(new URL(path, source.url), headers, ctx, () => (timedOut = true));
  } catch (cause) {
    ctx.signal.throwIfAborted();
    const reason = timedOut
      ? `no response within ${ctx.timeoutMs} ms`
      : `request failed (${describe(cause)})`;
    return failure(ErrorCode.IO, source, reason, cause);
  }
  const refused = checkResponse(res, source, ctx.jobKey, headers.authorization.split(' ')[1]);
  if (refused) {
    res.destroy();
    return refused;
  }
  let out: FileHandle;
  try {
    out = await open(file, 'wx');
  } catch (cause) {
    res.destroy();
    throw ioError('create', file, cause);
  }
  let result: CopyFailure | undefined;
  try {
    result = await receive(res, out, file, source, ctx, () => timedOut).finally(() => out.close());
  } catch (error) {
    await rm(file, { force: true });
    throw isTsmrError(error) || ctx.signal.aborted ? error : ioError('close', file, error);
  }
  if (result) await rm(file, { force: true });
  return result;
}

/** Sends a GET; resolves when the response headers are in. `onTimeout` runs before the request is destroyed for idleness. */
function get(
  url: URL,
  headers: OutgoingHttpHeaders,
  ctx: CopyContext,
  onTimeout: () => void,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const agent = secure ? ctx.agents.https : ctx.agents.http;
    const req = (secure ? https : http).request(url, {
      headers,
      agent,
      signal: ctx.signal,
      timeout: ctx.timeoutMs,
    });
    req.once('response', resolve).once('error', reject);
    req.once('timeout', () => {
      onTimeout();
      req.destroy();
    });
    req.end();
  });
}

/** A failure when the response is not a 200 with the segment the coordinator described, signed with the job key. */
function checkResponse(
  res: IncomingMessage,
  source: ShuffleSource,
  jobKey: Uint8Array,
  requestSignature: string,
): CopyFailure | undefined {
  const status = res.statusCode ?? 0;
  if (status !== 200) {
    const reason = `HTTP ${status} ${res.statusMessage ?? ''}`.trim();
    return status === 401 || status === 403
      ? failure(ErrorCode.AUTH, source, `${reason}: the job key was refused`, undefined, false)
      : failure(ErrorCode.IO, source, reason);
  }
  const told = {
    length: res.headers['content-length'],
    records: res.headers[RECORDS_HEADER],
    crc32: res.headers[CRC32_HEADER],
  };
  const expected = {
    length: String(source.length),
    records: String(source.records),
    crc32: String(source.crc32 >>> 0),
  };
  if (told.length !== expected.length || told.records !== expected.records || told.crc32 !== expected.crc32) {
    const reason = `the server's index says ${JSON.stringify(told)}, the coordinator's ${JSON.stringify(expected)}`;
    return failure(ErrorCode.CORRUPT_DATA, source, reason);
  }
  const reply = res.headers[REPLY_HEADER];
  if (typeof reply !== 'string' || !tokensEqual(reply, replySignature(jobKey, requestSignature, source))) {
    const reason = 'the reply signature is missing or wrong: the server lacks the job key';
    return failure(ErrorCode.AUTH, source, reason, undefined, false);
  }
  return undefined;
}

/** Writes the body to `out`, checking its CRC-32. Rejects with `TSMR_IO` for a write error, or the abort reason. */
async function receive(
  res: IncomingMessage,
  out: FileHandle,
  file: string,
  source: ShuffleSource,
  ctx: CopyContext,
  timedOut: () => boolean,
): Promise<CopyFailure | undefined> {
  let received = 0;
  let crc = 0;
  let local: TsmrError | undefined;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      crc = crc32(chunk, crc);
      received += chunk.length;
      try {
        for (let at = 0; at < chunk.length;)
          at += (await out.write(chunk, at, chunk.length - at)).bytesWritten;
      } catch (cause) {
        local = ioError('write', file, cause);
        break; // destroys the response
      }
      ctx.onBytes(chunk.length);
    }
  } catch (cause) {
    ctx.signal.throwIfAborted();
    const reason = timedOut() ? `no data for ${ctx.timeoutMs} ms` : `connection broke (${describe(cause)})`;
    return failure(ErrorCode.IO, source, `${reason} after ${received} of ${source.length} bytes`, cause);
  }
  if (local) throw local;
  if (crc >>> 0 !== source.crc32 >>> 0) {
    const reason = `CRC-32 mismatch (computed ${crc >>> 0}, index says ${source.crc32 >>> 0})`;
    return failure(ErrorCode.CORRUPT_DATA, source, reason);
  }
  return undefined;
}

function failure(
  code: Code,
  source: ShuffleSource,
  reason: string,
  cause?: unknown,
  retriable = true,
): CopyFailure {
  const { url, mapTaskId, mapAttemptId, partition } = source;
  const error = new TsmrError(
    code,
    `could not fetch segment ${partition} of map attempt ${mapAttemptId} from ${url}: ${reason}`,
    { cause, details: { taskId: mapTaskId, mapTaskId, mapAttemptId, partition, url, reason } },
  );
  return { error, retriable };
}

function describe(cause: unknown): string {
  const e = cause as { code?: unknown; message?: unknown } | null;
  return typeof e?.code === 'string' ? e.code : String(e?.message ?? cause);
}
