/**
 * In-memory input on a cluster worker: a map lease with `uploaded_input`
 * names spool files that are on the coordinator's disk (the client uploaded
 * them), not on a shared file system. Before the attempt runs, each part's
 * file is copied from `GET <coordinator>/input/<jobId>/<name>`
 * (`coordinator-input.ts`; bearer token, as the RPCs) into
 * `<jobDir>/input/<name>`, where every later attempt of the job on this
 * worker finds it; the split then names the local copies and the attempt
 * reads them as local mode reads its spool.
 *
 * A copy is written to a temporary name and renamed once it has the size
 * the split was planned with, so that two attempts copying the same file at
 * once, or a copy cut short, never leave a half file under the real name. A
 * failed copy is `TSMR_IO` (retriable: the attempt is tried again).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, TsmrError } from '../../errors.ts';
import type { Split, SplitPart } from '../../io/splits.ts';
import { bearerHeader } from './token.ts';

/** No byte for this long fails a copy, ms. */
const IDLE_TIMEOUT_MS = 60_000;

export interface UploadedInputSource {
  /** The coordinator's base URL. */
  coordinator: string;
  token: string | undefined;
  /** CA of an `https:` coordinator. */
  ca?: string;
  jobId: string;
  /** `<jobDir>/input`. */
  dir: string;
  signal: AbortSignal;
}

/**
 * `split` with each part's file copied here (see the module doc).
 * @throws TsmrError `TSMR_IO` naming the coordinator's URL when a copy fails.
 */
export async function localUploadedSplit(split: Split, source: UploadedInputSource): Promise<Split> {
  await mkdir(source.dir, { recursive: true });
  const parts: SplitPart[] = [];
  for (const part of split.parts) {
    const local = join(source.dir, basename(part.path));
    const held = await stat(local).catch(() => undefined);
    if (held?.size !== part.size) await copyInput(part, local, source);
    parts.push({ ...part, path: local, mtimeMs: (await stat(local)).mtimeMs });
  }
  return { ...split, parts };
}

async function copyInput(part: SplitPart, local: string, source: UploadedInputSource): Promise<void> {
  const url = `${source.coordinator.replace(/\/+$/, '')}/input/${source.jobId}/${basename(part.path)}`;
  const tmp = `${local}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const res = await get(url, source);
    if (res.statusCode !== 200) {
      res.resume();
      throw new Error(`HTTP ${res.statusCode}`);
    }
    await pipeline(res, createWriteStream(tmp), { signal: source.signal });
    const size = (await stat(tmp)).size;
    if (size !== part.size) throw new Error(`got ${size} bytes, not ${part.size}`);
    await rename(tmp, local);
  } catch (cause) {
    await rm(tmp, { force: true });
    source.signal.throwIfAborted();
    throw new TsmrError(
      ErrorCode.IO,
      `cannot copy the uploaded input ${url}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, details: { url, file: part.path } },
    );
  }
}

function get(url: string, source: UploadedInputSource): Promise<IncomingMessage> {
  const headers = source.token === undefined ? {} : { authorization: bearerHeader(source.token) };
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { headers, ca: source.ca, signal: source.signal }, resolve);
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000} s`)));
    req.once('error', reject);
  });
}
