/**
 * Credentials of the shuffle: per-job keys, request signatures and reply
 * signatures.
 *
 * The model is Hadoop's shuffle security (`SecureShuffleUtils`): each job has
 * a secret key; a fetcher sends an HMAC of the request URL (`UrlHash`), the
 * ShuffleHandler checks it and answers with an HMAC of that hash
 * (`ReplyHash`), so that the fetcher knows the server holds the key too.
 * Here:
 *
 * - **Job key** = HMAC-SHA256(cluster token, `"tsmr shuffle key v1\0" + jobId`),
 *   32 bytes. A key given to one job's tasks opens no other job's data, and
 *   the cluster token never travels with shuffle requests.
 * - **Request signature** = HMAC-SHA256(job key, `method \n path \n expires`),
 *   base64url, sent as `authorization: TSMR-HMAC <signature>` with
 *   `x-tsmr-expires: <seconds since epoch>`. Hadoop's hash has no expiry; ours
 *   bounds replay of a captured request to its path and to
 *   {@link SIGNATURE_TTL_S} (plus clock skew). Over plain HTTP a captured
 *   request can still be replayed within that window and the data can be
 *   read on the wire: use TLS where the network is not trusted.
 * - **Reply signature** = HMAC-SHA256(job key, `reply \n request signature \n
 *   length \n records \n crc32`), in `x-tsmr-reply`: the server knows the key,
 *   and the segment facts in the headers are its own.
 *
 * Signatures are compared in constant time (`tokensEqual` of `token.ts`).
 */
import { createHmac } from 'node:crypto';
import { usageError } from '../../errors.ts';
import { tokensEqual } from './token.ts';

/** Scheme of the `authorization` header. */
export const AUTH_SCHEME = 'TSMR-HMAC';
/** Header with the expiry (integer seconds since the epoch) of a signed request. */
export const EXPIRES_HEADER = 'x-tsmr-expires';
/** Header with the server's reply signature. */
export const REPLY_HEADER = 'x-tsmr-reply';
/** How long a request signature is valid, in seconds, by default (60). */
export const SIGNATURE_TTL_S = 60;
/** Clock difference between two machines that verification tolerates, in seconds (60). */
export const CLOCK_SKEW_S = 60;

const KEY_LABEL = 'tsmr shuffle key v1\0';
const EXPIRES = /^\d{1,12}$/;
/** Stands in for the key of an unknown job, so that it costs the same HMAC as a known one. */
const NO_KEY = Buffer.alloc(32);

/**
 * The shuffle key of one job: 32 bytes.
 * @throws TsmrError `TSMR_USAGE` for an empty cluster token.
 */
export function deriveJobKey(clusterToken: string | Uint8Array, jobId: string): Buffer {
  if (clusterToken.length === 0) throw usageError('the cluster token is empty');
  return createHmac('sha256', clusterToken).update(KEY_LABEL).update(jobId).digest();
}

/** Stands in for the cluster token in shuffle keys when there is none (loopback only: anyone on the machine may read). */
const NO_TOKEN_SECRET = 'tsmr: no cluster token (loopback only)';

/** {@link deriveJobKey} of a cluster whose token may be absent (a loopback cluster without one). */
export function jobKeyOf(clusterToken: string | undefined, jobId: string): Buffer {
  return deriveJobKey(clusterToken ?? NO_TOKEN_SECRET, jobId);
}

/** Headers that authenticate one shuffle request. */
export type SignedHeaders = {
  authorization: string;
  [EXPIRES_HEADER]: string;
};

/**
 * Signs a request for `path` (e.g. `/shuffle/job-…/m-00003_1/7`) made at
 * `now` (epoch ms), valid for `ttlSeconds` (default {@link SIGNATURE_TTL_S}).
 */
export function signShuffleRequest(
  key: Uint8Array,
  method: string,
  path: string,
  now: number,
  ttlSeconds = SIGNATURE_TTL_S,
): SignedHeaders {
  const expires = String(Math.floor(now / 1000) + ttlSeconds);
  return {
    authorization: `${AUTH_SCHEME} ${hmac(key, method, path, expires)}`,
    [EXPIRES_HEADER]: expires,
  };
}

/** Outcome of {@link verifyShuffleRequest}; `reason` is for the server's log, never for the client. */
export type Verification = { ok: true; signature: string } | { ok: false; reason: string };

/**
 * Checks the credentials of a request (`headers` as node:http gives them).
 * `key` undefined (an unknown job) fails like a wrong key, at the same cost.
 * An expiry before `now − skew` is expired; one after `now + ttl + skew` is
 * refused too (no long-lived signatures). `now` is epoch ms.
 */
export function verifyShuffleRequest(
  key: Uint8Array | undefined,
  request: { method: string; path: string; headers: Record<string, string | string[] | undefined> },
  now: number,
  limits: { ttlSeconds?: number; skewSeconds?: number } = {},
): Verification {
  const auth = request.headers.authorization;
  const expires = request.headers[EXPIRES_HEADER];
  if (auth === undefined || expires === undefined) return { ok: false, reason: 'missing credentials' };
  const prefix = `${AUTH_SCHEME} `;
  if (
    typeof auth !== 'string' ||
    typeof expires !== 'string' ||
    !auth.startsWith(prefix) ||
    !EXPIRES.test(expires)
  ) {
    return { ok: false, reason: 'malformed credentials' };
  }
  const expected = hmac(key ?? NO_KEY, request.method, request.path, expires);
  const matches = tokensEqual(auth.slice(prefix.length), expected);
  if (key === undefined) return { ok: false, reason: 'unknown job' };
  if (!matches) return { ok: false, reason: 'bad signature' };
  const skew = limits.skewSeconds ?? CLOCK_SKEW_S;
  const seconds = now / 1000;
  if (Number(expires) < seconds - skew) return { ok: false, reason: 'expired' };
  if (Number(expires) > seconds + (limits.ttlSeconds ?? SIGNATURE_TTL_S) + skew) {
    return { ok: false, reason: 'expiry too far in the future' };
  }
  return { ok: true, signature: expected };
}

/** The reply signature for a request signed with `requestSignature`, serving a segment with these facts. */
export function replySignature(
  key: Uint8Array,
  requestSignature: string,
  segment: { length: number; records: number; crc32: number },
): string {
  return hmac(
    key,
    'reply',
    requestSignature,
    String(segment.length),
    String(segment.records),
    String(segment.crc32),
  );
}

function hmac(key: Uint8Array, ...fields: string[]): string {
  return createHmac('sha256', key).update(fields.join('\n')).digest('base64url');
}
