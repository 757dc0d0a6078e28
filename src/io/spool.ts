/**
 * Spooling of in-memory input (`runJob(job, { input: [...] })`) to record
 * files, so that in-memory input is split, read and retried like file input.
 *
 * A spool file `spool-NNNNN.rec` is:
 *
 * | bytes        | content                                                   |
 * | ------------ | --------------------------------------------------------- |
 * | 8            | magic `TSMRREC` + format version `0x01`                   |
 * | varint       | global index of the file's first item (LEB128)            |
 * | then, per item | `varint(length)` and `length` bytes of `writeValue` encoding |
 *
 * The reader is `readSplit(split, { type: 'records' }, …)` in `record-reader.ts`.
 */
import { mkdir, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, TsmrError, isTsmrError } from '../errors.ts';
import { ByteWriter, readVarint } from '../shuffle/byte-writer.ts';
import { writeValue } from '../shuffle/value-codec.ts';
import { ioError } from './io-error.ts';
import type { InputFile } from './input-paths.ts';

/** The first 8 bytes of every spool file. */
export const SPOOL_MAGIC: Buffer = Buffer.from('TSMRREC\x01', 'latin1');

/** Bytes buffered before a write to the file. */
const FLUSH_BYTES = 1 << 20;

/**
 * Parses the header at the start of a spool file.
 * @param buf the file's first bytes (at least 18 bytes, or the whole file).
 * @returns the global index of the file's first item and the header's length in
 *   bytes, or `undefined` if `buf` holds no complete, valid header.
 */
export function parseSpoolHeader(
  buf: Buffer,
  length: number,
): { firstIndex: number; headerLength: number } | undefined {
  if (length < SPOOL_MAGIC.length + 1 || SPOOL_MAGIC.compare(buf, 0, SPOOL_MAGIC.length) !== 0)
    return undefined;
  const out = [0];
  try {
    const firstIndex = readVarint(buf, SPOOL_MAGIC.length, length, out);
    return { firstIndex, headerLength: out[0] };
  } catch {
    return undefined;
  }
}

/**
 * Writes in-memory input items to spool files in `dir`.
 *
 * Files are named `spool-00000.rec`, `spool-00001.rec`, …; a file is closed
 * once it holds `bytesPerFile` bytes or more, so each is at most `bytesPerFile`
 * plus one item. Items are taken one at a time and buffered in about 1 MiB, so
 * memory stays bounded for an iterable of any length; a synchronous iterable is
 * read without a promise per item. Zero items write no file.
 *
 * @param items the records; item `i` becomes the record with key `i`.
 * @param dir directory for the files (created if missing; existing spool files
 *   of the same names are replaced).
 * @param opts.bytesPerFile target file size in bytes (e.g. the split size: each
 *   file becomes one split).
 * @returns the files written, in order, with their sizes and modification times.
 * @throws TsmrError `TSMR_BAD_VALUE` (details `{ index }`) when an item cannot
 *   be serialized; `TSMR_USAGE` for a bad `bytesPerFile`; `TSMR_IO` when
 *   writing fails.
 */
export async function spoolRecords(
  items: Iterable<unknown> | AsyncIterable<unknown>,
  dir: string,
  opts: { bytesPerFile: number },
): Promise<InputFile[]> {
  const { bytesPerFile } = opts;
  if (!Number.isSafeInteger(bytesPerFile) || bytesPerFile <= 0) {
    throw new TsmrError(ErrorCode.USAGE, `bytesPerFile must be a positive integer, got ${bytesPerFile}`);
  }
  const absDir = path.resolve(dir);
  try {
    await mkdir(absDir, { recursive: true });
  } catch (cause) {
    throw ioError(`cannot create the spool directory ${absDir}`, cause, { file: absDir });
  }

  const files: InputFile[] = [];
  const out = new ByteWriter(FLUSH_BYTES + 64 * 1024);
  let handle: FileHandle | undefined;
  let filePath = '';
  let fileBytes = 0;
  let index = 0;

  const flush = async (): Promise<void> => {
    const fh = handle as FileHandle;
    let done = 0;
    try {
      while (done < out.pos) {
        const { bytesWritten } = await fh.write(out.buf, done, out.pos - done);
        done += bytesWritten;
      }
    } catch (cause) {
      throw ioError(`cannot write the spool file ${filePath}`, cause, { file: filePath });
    }
    fileBytes += out.pos;
    out.reset();
  };

  const closeFile = async (): Promise<void> => {
    await flush();
    const fh = handle as FileHandle;
    let mtimeMs: number;
    try {
      mtimeMs = (await fh.stat()).mtimeMs; // for the reader's check that the file did not change
    } catch (cause) {
      throw ioError(`cannot stat the spool file ${filePath}`, cause, { file: filePath });
    }
    handle = undefined;
    try {
      await fh.close();
    } catch (cause) {
      throw ioError(`cannot write the spool file ${filePath}`, cause, { file: filePath });
    }
    files.push({ path: filePath, size: fileBytes, mtimeMs });
  };

  /** Encodes one item as a frame; returns true when the buffer should be written out. */
  const encode = (value: unknown): boolean => {
    // Reserve one byte for the length (values under 128 bytes), encode the value
    // in place, and move it only when its length needs a longer varint.
    const mark = out.pos;
    out.byte(0);
    try {
      writeValue(out, value);
    } catch (cause) {
      out.pos = mark;
      const reason = isTsmrError(cause) ? cause.message : String((cause as Error)?.message ?? cause);
      throw new TsmrError(ErrorCode.BAD_VALUE, `in-memory input item ${index} cannot be stored: ${reason}`, {
        cause,
        details: { index },
      });
    }
    const length = out.pos - mark - 1;
    if (length < 0x80) {
      out.buf[mark] = length;
    } else {
      const extra = varintLength(length) - 1;
      out.ensure(extra);
      out.buf.copyWithin(mark + 1 + extra, mark + 1, out.pos);
      out.pos = mark;
      out.varint(length);
      out.pos += length;
    }
    index++;
    return out.pos >= FLUSH_BYTES || fileBytes + out.pos >= bytesPerFile;
  };

  const afterItem = async (): Promise<void> => {
    if (fileBytes + out.pos >= bytesPerFile) await closeFile();
    else await flush();
  };

  const ensureFile = async (): Promise<void> => {
    filePath = path.join(absDir, `spool-${String(files.length).padStart(5, '0')}.rec`);
    try {
      handle = await open(filePath, 'w');
    } catch (cause) {
      throw ioError(`cannot create the spool file ${filePath}`, cause, { file: filePath });
    }
    fileBytes = 0;
    out.reset();
    out.bytes(SPOOL_MAGIC);
    out.varint(index);
  };

  try {
    if (Symbol.asyncIterator in items) {
      for await (const value of items as AsyncIterable<unknown>) {
        if (handle === undefined) await ensureFile();
        if (encode(value)) await afterItem();
      }
    } else {
      for (const value of items as Iterable<unknown>) {
        if (handle === undefined) await ensureFile();
        if (encode(value)) await afterItem();
      }
    }
    if (handle !== undefined) await closeFile();
  } finally {
    if (handle !== undefined) await handle.close().catch(() => {});
  }
  return files;
}

/** Bytes of the LEB128 varint of `n`. */
function varintLength(n: number): number {
  let bytes = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    bytes++;
  }
  return bytes;
}
