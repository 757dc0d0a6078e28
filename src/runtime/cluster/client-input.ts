/**
 * In-memory input of a cluster job, on the client's side: the records are
 * spooled to local files exactly as local mode spools them (`spool.ts`,
 * bounded memory whatever their number), then each file is sent to the
 * coordinator in {@link UPLOAD_CHUNK_BYTES} chunks with `UploadInput`, under
 * the submission id that `SubmitJob` will carry. The coordinator serves the
 * files to the map attempts (`coordinator-input.ts`). The local spool is
 * deleted when the upload has ended, whatever its outcome.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, TsmrError } from '../../errors.ts';
import type { InputFile } from '../../io/input-paths.ts';
import { ioError } from '../../io/io-error.ts';
import { spoolRecords } from '../../io/spool.ts';
import type { ClusterClient } from './client.ts';
import { UPLOAD_CHUNK_BYTES } from './wire-records.ts';

/**
 * Spools `records` and uploads the files.
 * @param bytesPerFile the spool file size (the run's split size: each file is one split at most).
 * @returns the files' sizes, in order (`ClusterRunOptions.uploadedInput`).
 * @throws TsmrError as `spoolRecords` does (`TSMR_BAD_VALUE` for an item that
 *   cannot be stored…); the errors of `client.ts` for the RPCs.
 */
export async function uploadInMemoryInput(
  client: ClusterClient,
  submissionId: string,
  records: Iterable<unknown> | AsyncIterable<unknown>,
  bytesPerFile: number,
): Promise<number[]> {
  const dir = await mkdtemp(join(tmpdir(), 'tsmr-upload-'));
  try {
    const files = await spoolRecords(records, dir, { bytesPerFile });
    for (const [index, file] of files.entries()) await uploadFile(client, submissionId, index, file);
    return files.map((f) => f.size);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function uploadFile(
  client: ClusterClient,
  submissionId: string,
  index: number,
  file: InputFile,
): Promise<void> {
  const buf = Buffer.allocUnsafe(Math.min(UPLOAD_CHUNK_BYTES, file.size));
  const fh = await open(file.path, 'r').catch((cause: unknown) => {
    throw ioError(`cannot open the spool file ${file.path}`, cause, { file: file.path });
  });
  try {
    for (let offset = 0; offset < file.size;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, file.size - offset), offset);
      if (bytesRead === 0) {
        throw new TsmrError(ErrorCode.IO, `the spool file ${file.path} ended early`, {
          details: { file: file.path },
        });
      }
      const held = await client.uploadInput({
        submissionId,
        file: index,
        offset,
        data: buf.subarray(0, bytesRead),
      });
      offset += bytesRead;
      if (held !== offset) {
        throw new TsmrError(
          ErrorCode.INTERNAL,
          `the coordinator at ${client.url} holds ${held} bytes of input file ${index}, not ${offset}`,
        );
      }
    }
  } finally {
    await fh.close();
  }
}
