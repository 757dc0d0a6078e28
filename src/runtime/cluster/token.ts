/**
 * The cluster token: the shared secret that every RPC between clients, the
 * coordinator and workers carries as `authorization: Bearer <token>`
 * (RFC 6750), DESIGN.md §6.
 *
 * Rules, checked when the token is read ({@link readClusterToken}):
 * - It comes from `--token-file <path>` or else from the `TSMR_TOKEN`
 *   environment variable (the flag wins when both are given, as an explicit
 *   flag does over the environment everywhere in the CLI).
 * - One trailing newline (`\n` or `\r\n`, as `echo` and editors leave) is
 *   dropped; nothing else is trimmed.
 * - It is 16 to 4096 characters of RFC 6750's `b64token` alphabet
 *   (`A–Z a–z 0–9 - . _ ~ + /`, then `=` padding): what fits a header
 *   unchanged. 16 characters is a floor against typos, not a strength target;
 *   generate one with `openssl rand -hex 32`.
 * - A token file that others may read or write (mode `o+r` or `o+w`) is
 *   refused, as OpenSSH refuses a private key others can read: fix it with
 *   `chmod 600` (or `640` to share it with a group). Not checked on Windows,
 *   where modes do not describe access.
 *
 * Tokens are compared in constant time ({@link tokensEqual}).
 */
import { timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { usageError } from '../../errors.ts';

/** Shortest token accepted, characters. */
export const MIN_TOKEN_LENGTH = 16;
/** Longest token accepted, characters. */
export const MAX_TOKEN_LENGTH = 4096;
/** The environment variable read when no token file is given. */
export const TOKEN_ENV = 'TSMR_TOKEN';

/** RFC 6750 §2.1 `b64token`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** A token and where it came from (for a log line; never log the token). */
export interface ClusterToken {
  token: string;
  source: 'file' | 'env';
}

/**
 * Reads the cluster token from `tokenFile` (when given) or `env.TSMR_TOKEN`.
 *
 * @param opts.tokenFile path of a file holding the token (`--token-file`).
 * @param opts.env environment to read `TSMR_TOKEN` from (default `process.env`).
 * @returns the token, or undefined when neither source is given (then a
 *   server may listen on loopback only, see `rpc-server.ts`).
 * @throws TsmrError `TSMR_USAGE` when the file cannot be read, is readable or
 *   writable by others, or the token is empty, too short, too long, or has a
 *   character outside the `b64token` alphabet. The message names the source,
 *   never the token.
 */
export function readClusterToken(
  opts: { tokenFile?: string; env?: Record<string, string | undefined> } = {},
): ClusterToken | undefined {
  if (opts.tokenFile !== undefined) {
    const token = checkToken(readTokenFile(opts.tokenFile), `the token file ${opts.tokenFile}`);
    return { token, source: 'file' };
  }
  const value = (opts.env ?? process.env)[TOKEN_ENV];
  if (value === undefined) return undefined;
  return { token: checkToken(value, `the ${TOKEN_ENV} environment variable`), source: 'env' };
}

function readTokenFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw usageError(`cannot read the token file ${path}: ${(cause as Error).message}`, { file: path });
  }
  try {
    const { mode } = fstatSync(fd);
    if (process.platform !== 'win32' && (mode & 0o006) !== 0) {
      const octal = (mode & 0o777).toString(8);
      throw usageError(
        `the token file ${path} can be read or written by other users (mode ${octal}); ` +
          `restrict it with: chmod 600 ${path}`,
        { file: path },
      );
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

function checkToken(raw: string, source: string): string {
  const token = raw.replace(/\r?\n$/, '');
  const help = 'generate one with: openssl rand -hex 32';
  if (token.length === 0) throw usageError(`${source} holds an empty cluster token; ${help}`);
  if (token.length < MIN_TOKEN_LENGTH) {
    throw usageError(
      `the cluster token in ${source} has ${token.length} characters, fewer than ${MIN_TOKEN_LENGTH}; ${help}`,
    );
  }
  if (token.length > MAX_TOKEN_LENGTH) {
    throw usageError(`the cluster token in ${source} is longer than ${MAX_TOKEN_LENGTH} characters`);
  }
  if (!B64TOKEN.test(token)) {
    throw usageError(
      `the cluster token in ${source} has characters other than A-Z a-z 0-9 - . _ ~ + / and = padding; ${help}`,
    );
  }
  return token;
}

/**
 * Compares two secrets (cluster tokens, shuffle signatures) as UTF-8 bytes,
 * in time that depends on their length only (`crypto.timingSafeEqual`, which
 * throws on buffers of unequal lengths, hence the length check first: a wrong
 * guess learns at most the secret's length). Unequal lengths give false.
 */
export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** What an `authorization` header says about a caller. */
export type BearerCheck = 'ok' | 'missing' | 'malformed' | 'wrong';

/**
 * Checks an `authorization` header value against the cluster token: it must
 * be `Bearer <token>` (the scheme is case-insensitive, RFC 7235 §2.1).
 */
export function checkBearer(header: string | null | undefined, token: string): BearerCheck {
  if (header === null || header === undefined || header === '') return 'missing';
  const m = /^bearer +(\S+)$/i.exec(header);
  if (!m) return 'malformed';
  return tokensEqual(m[1], token) ? 'ok' : 'wrong';
}

/** The `authorization` header value that carries `token`. */
export function bearerHeader(token: string): string {
  return `Bearer ${token}`;
}
