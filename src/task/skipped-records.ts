/**
 * Skip mode in a map attempt (`--skip-bad-records`): the records earlier
 * attempts of the task failed on are left out of the read, and written, with
 * the error each caused, to the attempt's skipped-records file (one JSON
 * object per line), which commits with the task and ends up in
 * `<out>/_skipped/`:
 *
 * ```json
 * {"file":"/in/a.txt","offset":1234,"record":"the line","error":{"code":"TSMR_USER_CODE","message":"map failed on …"}}
 * {"index":7,"record":{"any":"item"},"error":{…}}      (in-memory input: the item's index, the item as JSON)
 * ```
 *
 * `record` is the line as the input format decodes it (`'latin1'` and
 * `'buffer'` input as latin1 text, JSONL unparsed), or an in-memory item as
 * JSON (bigints as strings, byte arrays as base64; what JSON cannot hold, as
 * text).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ioError } from '../io/io-error.ts';
import { toJson } from '../io/output-writer.ts';
import type { NormalizedInputFormat, RecordSkips } from '../io/record-reader.ts';
import { closeFile, closeQuietly, openForWrite, writeFully } from '../shuffle/file-io.ts';
import type { MapTaskMessage } from './messages.ts';

/** The skip hook of one map attempt and the file it writes. */
export interface SkippedRecords {
  /** Pass to `readSplit` as `hooks.skip`. */
  readonly hook: RecordSkips;
  /** Records skipped so far. */
  readonly count: number;
  /** Closes the file after the attempt read its split. @throws TsmrError `TSMR_IO`. */
  close(): void;
  /** Closes the file after a failure (the driver deletes the attempt's output). */
  abort(): void;
}

/** Skip mode for the attempt of `skip`, reading input of `format`. */
export function skippedRecords(
  skip: NonNullable<MapTaskMessage['skip']>,
  format: NormalizedInputFormat,
): SkippedRecords {
  const offsets = new Map<string, Set<number>>();
  const errors = new Map<string, { code: string; message: string }>();
  for (const r of skip.records) {
    offsets.set(r.file, (offsets.get(r.file) ?? new Set()).add(r.offset));
    errors.set(`${r.offset}:${r.file}`, r.error);
  }
  const path = skip.output === undefined ? undefined : join(skip.output.dir, skip.output.fileName);
  let fd: number | undefined;
  let count = 0;

  const write = (line: string): void => {
    if (path === undefined) return;
    if (fd === undefined) {
      try {
        mkdirSync(skip.output!.dir, { recursive: true });
      } catch (cause) {
        throw ioError(`cannot create ${skip.output!.dir}`, cause, { path: skip.output!.dir });
      }
      fd = openForWrite(path);
    }
    const bytes = Buffer.from(`${line}\n`);
    writeFully(fd, bytes, 0, bytes.length, path);
  };

  return {
    hook: {
      offsetsIn: (file) => offsets.get(file),
      skipped(file, offset, record, index) {
        count++;
        const error = errors.get(`${offset}:${file}`);
        write(
          format.type === 'records'
            ? recordLine({ index, record, error })
            : recordLine({ file, offset, record, error }),
        );
      },
    },
    get count() {
      return count;
    },
    close() {
      if (fd !== undefined && path !== undefined) closeFile(fd, path);
      fd = undefined;
    },
    abort() {
      if (fd !== undefined) closeQuietly(fd);
      fd = undefined;
    },
  };
}

/** One line of the skipped-records file; a record JSON cannot hold (a cycle) is written as text. */
function recordLine(entry: { record: unknown } & Record<string, unknown>): string {
  try {
    return toJson(entry) as string;
  } catch {
    return toJson({ ...entry, record: inspect(entry.record, { depth: 4, breakLength: Infinity }) }) as string;
  }
}
