/**
 * The output of a reduce attempt of a job run without an output directory:
 * framed records whose key is the reduce key (encoded) and whose value is the
 * emitted `[key, value]` pair. Sorted by reduce key within the file, so the
 * results of all partitions can be merged back in key order.
 */
import { ByteWriter } from '../shuffle/byte-writer.ts';
import { RunWriter, type SegmentInfo } from '../shuffle/run-writer.ts';
import { writeValue } from '../shuffle/value-codec.ts';

export interface RecordsOutputWriter {
  write(key: unknown, value: unknown): void;
  close(): Promise<{ records: number; bytes: number; segment: SegmentInfo }>;
  abort(): Promise<void>;
}

/** @param groupKey returns the encoded reduce key of the group being reduced. */
export function createRecordsOutputWriter(path: string, groupKey: () => Buffer): RecordsOutputWriter {
  const run = new RunWriter(path, 1);
  const scratch = new ByteWriter(256);
  return {
    write(key, value) {
      scratch.reset();
      writeValue(scratch, [key, value]);
      const k = groupKey();
      run.append(0, k, 0, k.length, scratch.buf, 0, scratch.pos);
    },
    async close() {
      const [segment] = run.close();
      return { records: segment.records, bytes: segment.length, segment };
    },
    async abort() {
      run.abort();
    },
  };
}
