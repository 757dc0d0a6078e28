/**
 * The shuffle server a worker runs: serves segments of the map outputs it
 * holds, `GET /shuffle/<jobId>/<mapAttemptId>/<partition>` (Hadoop's
 * ShuffleHandler plays this part on a NodeManager).
 *
 * A request goes through, in this order:
 *
 * 1. method: `GET` or `HEAD` (same headers, no body), else 405;
 * 2. path: exactly a canonical shuffle path (`shuffle-protocol.ts`), else 400;
 * 3. credentials (`shuffle-auth.ts`) under the job's key: missing, malformed,
 *    forged, expired or for another path or job → 401 with a log line
 *    (without secrets) and no data. An unknown job gets 401 too, so that a
 *    client without the key cannot learn which jobs exist;
 * 4. the worker's registry (`lookup`): unknown map attempt, or a partition
 *    beyond its output's, → 404. The file path comes from the registry only;
 * 5. the data file: missing or shorter than its index → 410 (the map output is
 *    lost; logged), another error → 500;
 * 6. 200: the segment's bytes, streamed from the file (never buffered whole),
 *    with `content-length`, the records and CRC-32 of the index
 *    (`shuffle-protocol.ts`) and the reply signature.
 *
 * A client that disconnects mid-stream closes the file at once (the read
 * stream is destroyed by `pipeline`); a read error mid-stream cuts the
 * connection, so the client sees a short body. The server never stops for a
 * bad request. HTTP/1.1 with keep-alive; HTTPS with `tls: { cert, key }`.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import http from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, TsmrError } from '../../errors.ts';
import type { Logger } from '../../observe/logger.ts';
import type { SegmentInfo } from '../../shuffle/run-writer.ts';
import { AUTH_SCHEME, REPLY_HEADER, replySignature, verifyShuffleRequest } from './shuffle-auth.ts';
import { CRC32_HEADER, RECORDS_HEADER, parseShufflePath } from './shuffle-protocol.ts';
import type { SegmentAddress } from './shuffle-protocol.ts';

/** A map output the worker holds and serves: its data file and index (as `MapOutput` has them). */
export interface ServedMapOutput {
  dataPath: string;
  /** One segment per partition, in partition order. */
  partitions: readonly SegmentInfo[];
}

export interface ShuffleServerOptions {
  /** Address to bind, e.g. `127.0.0.1`. The worker decides what it may bind (token rule). */
  host: string;
  /** Port; 0 picks a free one (see {@link ShuffleServer.listen}). */
  port: number;
  /** The shuffle key of a job (`deriveJobKey`), undefined for a job this worker does not know. */
  jobKey(jobId: string): Uint8Array | undefined;
  /** The worker's registry of map outputs; may be asynchronous. Undefined: not held here. */
  lookup(
    jobId: string,
    mapAttemptId: string,
  ): ServedMapOutput | undefined | Promise<ServedMapOutput | undefined>;
  /** Refusals are logged at `warn`, lost files and server errors at `error`, client disconnects at `debug`. */
  logger: Pick<Logger, 'debug' | 'warn' | 'error'>;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Other routes on the same port, tried before the shuffle's (a worker's
   * `/metrics`): handles the request and returns true, or returns false. Not
   * authenticated, not counted in {@link ShuffleServerStats}.
   */
  httpRoutes?(req: IncomingMessage, res: ServerResponse): boolean;
}

/** How requests ended, by outcome. */
export interface ShuffleResponseCounts {
  /** 200: the whole segment was sent (or its headers, for `HEAD`). */
  ok: number;
  /** 400 or 405. */
  badRequest: number;
  /** 401. */
  unauthorized: number;
  /** 404. */
  notFound: number;
  /** 410: the map output's file is gone or short. */
  gone: number;
  /** 500, or a read error mid-stream. */
  failed: number;
  /** The client disconnected before the segment was sent. */
  aborted: number;
}

/** Counters of a shuffle server (Hadoop's ShuffleHandler metrics: output bytes, outputs OK/failed, connections). */
export interface ShuffleServerStats {
  /** Bytes of segments sent whole (a segment cut short is not counted). */
  bytesServed: number;
  /** Requests being handled now. */
  active: number;
  responses: ShuffleResponseCounts;
}

export interface ShuffleServer {
  /**
   * Starts listening. Resolves with the bound address and the base URL
   * fetchers use (`http://127.0.0.1:40123`).
   * @throws TsmrError `TSMR_IO` when the address cannot be bound; `TSMR_INTERNAL` when called twice.
   */
  listen(): Promise<{ host: string; port: number; url: string }>;
  /**
   * Stops accepting, cuts every connection (idle keep-alive ones and
   * transfers in progress, whose clients then retry or report a fetch
   * failure) and resolves when the server is closed. Idempotent: every call
   * returns the same promise.
   */
  close(): Promise<void>;
  stats(): ShuffleServerStats;
}

type Outcome = keyof ShuffleResponseCounts;

/** Creates a shuffle server (not listening yet). */
export function createShuffleServer(options: ShuffleServerOptions): ShuffleServer {
  const log = options.logger;
  const counts: ShuffleResponseCounts = {
    ok: 0,
    badRequest: 0,
    unauthorized: 0,
    notFound: 0,
    gone: 0,
    failed: 0,
    aborted: 0,
  };
  let bytesServed = 0;
  let active = 0;

  const reply = (res: ServerResponse, status: number, outcome: Outcome, extra: OutgoingHttpHeaders = {}) => {
    counts[outcome]++;
    const body = `${http.STATUS_CODES[status]}\n`;
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': body.length, ...extra });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? '';
    const target = req.url ?? '';
    const remote = req.socket.remoteAddress;
    if (method !== 'GET' && method !== 'HEAD') return reply(res, 405, 'badRequest', { allow: 'GET, HEAD' });
    const address = parseShufflePath(target);
    if (!address) {
      log.warn({ remote, target: target.slice(0, 200) }, 'shuffle request refused: not a shuffle path');
      return reply(res, 400, 'badRequest');
    }
    const key = options.jobKey(address.jobId);
    const check = verifyShuffleRequest(key, { method, path: target, headers: req.headers }, Date.now());
    if (!check.ok) {
      log.warn({ remote, ...address, reason: check.reason }, 'shuffle request refused: not authenticated');
      return reply(res, 401, 'unauthorized', { 'www-authenticate': AUTH_SCHEME });
    }
    const output = await options.lookup(address.jobId, address.mapAttemptId);
    const segment = output?.partitions[address.partition];
    if (!output || !segment) return reply(res, 404, 'notFound');

    let file: FileHandle | undefined;
    if (segment.length > 0) {
      file = await openSegmentFile(output.dataPath, segment, address);
      if (!file) return reply(res, 410, 'gone');
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': segment.length,
      [RECORDS_HEADER]: segment.records,
      [CRC32_HEADER]: segment.crc32 >>> 0,
      // An unknown job (key undefined) never verifies.
      [REPLY_HEADER]: replySignature(key as Uint8Array, check.signature, segment),
    });
    if (!file || method === 'HEAD') {
      await file?.close();
      counts.ok++;
      res.end();
      return;
    }
    const stream = file.createReadStream({ start: segment.offset, end: segment.offset + segment.length - 1 });
    // Whose fault a broken transfer is: the first to fail (pipeline then destroys the other with an error).
    let readError: unknown;
    let clientGone = false;
    res.once('close', () => (clientGone = !res.writableFinished));
    stream.once('error', (err) => (readError = clientGone ? undefined : err));
    try {
      await pipeline(stream, res);
      bytesServed += segment.length;
      counts.ok++;
    } catch {
      if (readError !== undefined) {
        counts.failed++;
        log.error(
          { err: readError, ...address, file: output.dataPath },
          'shuffle segment read failed mid-stream',
        );
      } else {
        counts.aborted++;
        log.debug({ remote, ...address }, 'shuffle client disconnected mid-stream');
      }
    }
  };

  /** Opens the data file if it holds the whole segment; undefined (logged) when it is gone or short. */
  const openSegmentFile = async (
    dataPath: string,
    segment: SegmentInfo,
    address: SegmentAddress,
  ): Promise<FileHandle | undefined> => {
    let file: FileHandle;
    try {
      file = await open(dataPath, 'r');
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
      log.error({ ...address, file: dataPath }, 'shuffle: map output file is gone');
      return undefined;
    }
    let size: number;
    try {
      size = (await file.stat()).size;
    } catch (err) {
      await file.close();
      throw err;
    }
    if (size >= segment.offset + segment.length) return file;
    await file.close();
    log.error(
      { ...address, file: dataPath, size, segment },
      'shuffle: map output file is shorter than its index',
    );
    return undefined;
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (options.httpRoutes?.(req, res)) return;
    active++;
    res.once('close', () => active--);
    handle(req, res).catch((err: unknown) => {
      log.error({ err, target: req.url?.slice(0, 200) }, 'shuffle request failed');
      if (res.headersSent) {
        counts.failed++;
        res.destroy();
      } else {
        reply(res, 500, 'failed');
      }
    });
  };

  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, onRequest)
    : http.createServer(onRequest);
  let listening: Promise<{ host: string; port: number; url: string }> | undefined;
  let closing: Promise<void> | undefined;

  return {
    listen() {
      if (listening || closing) {
        return Promise.reject(
          new TsmrError(ErrorCode.INTERNAL, 'shuffle server: listen() after listen() or close()'),
        );
      }
      listening = new Promise((resolve, reject) => {
        const onError = (cause: Error) =>
          reject(
            new TsmrError(
              ErrorCode.IO,
              `shuffle server cannot listen on ${options.host}:${options.port}: ${cause.message}`,
              {
                cause,
                details: { host: options.host, port: options.port },
              },
            ),
          );
        server.once('error', onError);
        server.listen(options.port, options.host, () => {
          server.off('error', onError);
          const { address, port } = server.address() as AddressInfo;
          const host = address.includes(':') ? `[${address}]` : address;
          resolve({ host: address, port, url: `${options.tls ? 'https' : 'http'}://${host}:${port}` });
        });
      });
      return listening;
    },

    close() {
      closing ??= (async () => {
        await listening?.catch(() => undefined);
        if (!server.listening) return;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },

    stats: () => ({ bytesServed, active, responses: { ...counts } }),
  };
}
