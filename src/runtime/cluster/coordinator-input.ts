/**
 * In-memory input on the coordinator: the spool files clients upload
 * (`UploadInput`, `client-input.ts`), kept under
 * `<workDir>/uploads/<hash of the submission id>/spool-NNNNN.rec` until their
 * job ends, and served to the workers' map attempts at
 * `GET /input/<jobId>/<file name>` on the coordinator's port (bearer token,
 * as the RPCs; `worker-input.ts` copies them). The path names a job and one of
 * the file names of its input; no file-system path comes from a request.
 *
 * Uploads of a submission that never came are deleted when the coordinator
 * starts.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, TsmrError } from '../../errors.ts';
import type { InputFile } from '../../io/input-paths.ts';
import type { Logger } from '../../observe/logger.ts';
import { isJobId } from './ids.ts';
import type { NodeRequest, NodeResponse } from './rpc-server.ts';
import type { InputChunk } from './wire-records.ts';

const ROUTE = /^\/input\/([^/]+)\/([^/]+)$/;

export class UploadedInputs {
  readonly #dir: string;
  /** Writes in flight per file: chunks of one file are written one at a time. */
  readonly #writing = new Map<string, Promise<unknown>>();

  /** @param workDir the coordinator's work directory. */
  constructor(workDir: string) {
    this.#dir = join(workDir, 'uploads');
  }

  /** Deletes every upload (at start: their submissions are gone with the previous process). */
  async clear(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
  }

  /**
   * Stores one chunk (see `UploadInput` in `client_service.proto`).
   * @returns the bytes of the file held now.
   * @throws TsmrError `TSMR_USAGE` for a chunk beyond the bytes held.
   */
  put(chunk: InputChunk): Promise<number> {
    const path = this.#path(chunk.submissionId, chunk.file);
    const previous = this.#writing.get(path) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.#append(path, chunk));
    this.#writing.set(path, next);
    void next.finally(() => this.#writing.get(path) === next && this.#writing.delete(path)).catch(() => {});
    return next;
  }

  /**
   * The uploaded files of a submission, checked against the sizes it declares.
   * @throws TsmrError `TSMR_USAGE` when a file is missing or not complete.
   */
  async files(submissionId: string, sizes: readonly number[]): Promise<InputFile[]> {
    const files: InputFile[] = [];
    for (const [i, size] of sizes.entries()) {
      const path = this.#path(submissionId, i);
      const held = await stat(path).catch(() => undefined);
      if (held?.size !== size) {
        throw new TsmrError(
          ErrorCode.USAGE,
          `input file ${i} of the submission was not uploaded whole: ${held?.size ?? 0} of ${size} bytes (UploadInput first)`,
        );
      }
      files.push({ path, size, mtimeMs: held.mtimeMs });
    }
    return files;
  }

  /** Deletes a submission's files (its job ended). */
  async remove(submissionId: string): Promise<void> {
    await rm(this.#submissionDir(submissionId), { recursive: true, force: true });
  }

  async #append(path: string, chunk: InputChunk): Promise<number> {
    await mkdir(join(path, '..'), { recursive: true });
    const held = (await stat(path).catch(() => undefined))?.size ?? 0;
    const end = chunk.offset + chunk.data.length;
    if (end <= held) return held; // a retry of a chunk stored already
    if (chunk.offset !== held) {
      throw new TsmrError(
        ErrorCode.USAGE,
        `input file ${chunk.file}: a chunk at byte ${chunk.offset}, but ${held} bytes are held (upload in order)`,
      );
    }
    await appendFile(path, chunk.data);
    return end;
  }

  #submissionDir(submissionId: string): string {
    return join(this.#dir, createHash('sha256').update(submissionId).digest('hex').slice(0, 32));
  }

  #path(submissionId: string, file: number): string {
    return join(this.#submissionDir(submissionId), `spool-${String(file).padStart(5, '0')}.rec`);
  }
}

/**
 * The `/input/<jobId>/<name>` route: returns false for other paths.
 * @param inputOf the uploaded input files of a job that is running, by base name.
 * @param authorized the request carries the cluster token, or the coordinator has none.
 */
export function serveUploadedInput(
  req: NodeRequest,
  res: NodeResponse,
  inputOf: (jobId: string) => ReadonlyMap<string, InputFile> | undefined,
  authorized: boolean,
  log: Logger,
): boolean {
  const m = ROUTE.exec(req.url ?? '');
  if (!m) return false;
  const answer = (status: number, text: string) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${text}\n`);
  };
  if (req.method !== 'GET') return (answer(405, 'method not allowed'), true);
  if (!authorized) return (answer(401, 'missing or wrong cluster token'), true);
  const [, jobId, name] = m;
  const file = isJobId(jobId) ? inputOf(jobId)?.get(name) : undefined;
  if (file === undefined) return (answer(404, 'no such input'), true);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.size });
  const where = { jobId, file: name, remote: req.socket.remoteAddress };
  pipeline(createReadStream(file.path), res).then(
    () => log.info({ ...where, bytes: file.size }, 'uploaded input sent'),
    (err: unknown) => log.warn({ err, ...where }, 'uploaded input not sent whole'),
  );
  return true;
}
