/**
 * The input sampler of a total-order partition (Hadoop's `InputSampler`): runs
 * the job's `map` on a bounded sample of input records, through the same
 * `readSplit` and mapper body as a map task, into a context that keeps the
 * encoded map output keys. The split points are chosen from these keys
 * (`chooseSplitPoints`), so a job whose partition key is what `map` emits
 * (not the input key) is sampled correctly; TeraSort's map is the identity.
 *
 * It is a planning step: it runs where the splits are planned, before any
 * task (Hadoop's `InputSampler.writePartitionFile` runs in the client), and
 * only its result, the split points, goes to the map tasks.
 *
 * Bounds: at most `maxSplitsSampled` splits, `samples` keys in all (each of
 * `s` splits read contributes at most `⌈samples / s⌉`), and per window of
 * consecutive records at most `max(1000, 10 × its keys)` records (a map that
 * emits rarely yields fewer samples, not a longer read). Reads go in 16 KiB
 * chunks. Counters and status the map sets while sampled are dropped.
 */
import type { TotalOrderPartitioner } from '../api/total-order.ts';
import type { MapContext } from '../api/types.ts';
import { seededRandom } from '../batch/seeded-random.ts';
import { ErrorCode, isTsmrError, TsmrError } from '../errors.ts';
import { readSplit, type NormalizedInputFormat } from '../io/record-reader.ts';
import { isRecordFilePath, type Split } from '../io/splits.ts';
import { encodeKey } from '../shuffle/key-codec.ts';
import { checkText, decodeText } from '../shuffle/text-bytes.ts';
import type { JobBody } from './job-body.ts';
import { abortQuietly } from './module-job-body.ts';
import { createAttemptState, setInputFile } from './task-context.ts';

/** Windows per split of the random sampler (one per eighth of the split). */
const WINDOWS_PER_SPLIT = 8;
/** Bytes per read while sampling. */
const SAMPLE_CHUNK_BYTES = 16 * 1024;
/** Thrown from the record handler to end a window's read. */
const WINDOW_FULL = new Error('sample window full');

export interface SampleOptions {
  partitioner: TotalOrderPartitioner;
  /** Seeds the random sampler's choice of splits and window offsets. */
  seed: number;
  jobId: string;
  params: Record<string, string | number | boolean | null>;
  numReducers: number;
  signal?: AbortSignal;
  /** Called after each window with the totals so far. */
  onProgress?(progress: SampleProgress): void;
}

export interface SampleProgress {
  /** Windows read so far, and in all. */
  windowsDone: number;
  windowsTotal: number;
  /** Input records and bytes read so far. */
  records: number;
  bytes: number;
  /** Map output keys kept so far. */
  keys: number;
}

/** What the sampler read and kept. */
export interface InputSample extends SampleProgress {
  /** Encoded map output keys, in the order they were sampled. */
  sampledKeys: Buffer[];
  /** Splits read from. */
  splits: number;
}

/** A run of consecutive records to sample: a one-part split starting at a chosen offset. */
interface Window {
  split: Split;
  /** Most keys to keep from it. */
  keys: number;
}

/**
 * Samples map output keys of `splits` (see the module doc).
 * @throws the errors a map task would raise on the same records (the record
 *   reader's, `TSMR_BAD_KEY`, `TSMR_USER_CODE` naming the file and byte
 *   offset); `TSMR_CANCELLED` when `signal` aborts.
 */
export async function sampleMapOutputKeys(
  splits: readonly Split[],
  body: JobBody,
  format: NormalizedInputFormat,
  options: SampleOptions,
): Promise<InputSample> {
  const chosen = chooseSplits(splits, options);
  const perSplit = Math.ceil(options.partitioner.samples / Math.max(1, chosen.length));
  const windows = chosen.flatMap((split) =>
    options.partitioner.sampler === 'split'
      ? [{ split, keys: perSplit }]
      : randomWindows(split, perSplit, format, options.seed),
  );
  const { ctx } = createAttemptState({
    jobId: options.jobId,
    taskId: 'sample',
    attempt: 0,
    params: options.params,
    numReducers: options.numReducers,
  });
  const sampledKeys: Buffer[] = [];
  const progress: SampleProgress = {
    windowsDone: 0,
    windowsTotal: windows.length,
    records: 0,
    bytes: 0,
    keys: 0,
  };
  for (const window of windows) {
    if (options.signal?.aborted) {
      throw new TsmrError(ErrorCode.CANCELLED, 'the job was cancelled while its input was sampled');
    }
    const room = options.partitioner.samples - sampledKeys.length;
    const read = await sampleWindow(
      { ...window, keys: Math.min(window.keys, room) },
      body,
      format,
      ctx,
      sampledKeys,
    );
    progress.windowsDone++;
    progress.records += read.records;
    progress.bytes += read.bytes;
    progress.keys = sampledKeys.length;
    options.onProgress?.({ ...progress });
  }
  return { ...progress, sampledKeys, splits: chosen.length };
}

/**
 * Up to `maxSplitsSampled` splits: the random sampler draws them (seeded),
 * the split sampler takes them evenly spaced; either way in split order.
 */
function chooseSplits(splits: readonly Split[], options: SampleOptions): Split[] {
  const { maxSplitsSampled, sampler } = options.partitioner;
  if (splits.length <= maxSplitsSampled) return [...splits];
  if (sampler === 'split') {
    const step = splits.length / maxSplitsSampled;
    return Array.from({ length: maxSplitsSampled }, (_, i) => splits[Math.floor(i * step)]);
  }
  const order = splits
    .map((split) => ({ split, r: seededRandom(options.seed, 0x5a3, split.index) }))
    .sort((a, b) => a.r - b.r || a.split.index - b.split.index);
  return order
    .slice(0, maxSplitsSampled)
    .map((o) => o.split)
    .sort((a, b) => a.index - b.index);
}

/**
 * The random sampler's windows of one split: one in each of
 * {@link WINDOWS_PER_SPLIT} equal slices of its bytes, at a seeded offset in
 * the slice, reading on to the next window's offset or the end of the part it
 * falls in (windows never overlap). A part that cannot be entered in the
 * middle (gzip, spooled records) gets one window, from its start.
 */
function randomWindows(split: Split, keys: number, format: NormalizedInputFormat, seed: number): Window[] {
  const count = Math.min(WINDOWS_PER_SPLIT, keys);
  const perWindow = Math.ceil(keys / count);
  /** Where each window starts: a part index and a byte offset in the file. */
  const starts: { part: number; start: number }[] = [];
  for (let j = 0; j < count; j++) {
    let offset = Math.floor(((j + seededRandom(seed, 0x5a4, split.index, j)) * split.length) / count);
    let p = 0;
    while (p < split.parts.length - 1 && offset >= split.parts[p].end - split.parts[p].start) {
      offset -= split.parts[p].end - split.parts[p].start;
      p++;
    }
    const part = split.parts[p];
    const seekable = !part.compressed && format.type !== 'records' && !isRecordFilePath(part.path);
    const start = seekable ? Math.min(part.start + offset, part.end) : part.start;
    const previous = starts.at(-1);
    if (previous?.part !== p || previous.start !== start) starts.push({ part: p, start });
  }
  return starts.map(({ part: p, start }, i) => {
    const part = split.parts[p];
    const next = starts[i + 1];
    const end = next?.part === p ? next.start : part.end;
    return {
      split: { index: split.index, parts: [{ ...part, start, end }], length: end - start },
      keys: perWindow,
    };
  });
}

/** Reads one window, keeping up to `window.keys` map output keys in `into`. */
async function sampleWindow(
  window: Window,
  body: JobBody,
  format: NormalizedInputFormat,
  ctx: ReturnType<typeof createAttemptState>['ctx'],
  into: Buffer[],
): Promise<{ records: number; bytes: number }> {
  const maxRecords = Math.max(1000, 10 * window.keys);
  let kept = 0;
  let records = 0;
  let bytes = 0;
  const mapCtx: MapContext = {
    ...ctx,
    input: window.split.input ?? 0,
    emit: (key) => {
      const encoded = encodeKey(key); // a bad key fails here as it would in the map task
      if (kept < window.keys) {
        into.push(encoded);
        kept++;
      }
    },
    emitText: (bytes, start, end, value, encoding) =>
      mapCtx.emit(decodeText(bytes, start, end, checkText(bytes, start, end, encoding)), value),
    inputFile: '', // a data property: see map-task.ts
  };
  const mapper = await body.mapper(mapCtx);
  try {
    await readSplit(
      window.split,
      format,
      (key, value) => {
        if (kept >= window.keys || records >= maxRecords) throw WINDOW_FULL;
        records++;
        return mapper.record(key, value);
      },
      {
        onFile: (path) => setInputFile(mapCtx, format, path),
        onProgress: (b) => (bytes = b),
      },
      { chunkSize: SAMPLE_CHUNK_BYTES },
    );
  } catch (error) {
    if (error !== WINDOW_FULL && !(isTsmrError(error) && error.cause === WINDOW_FULL)) {
      abortQuietly(mapper);
      throw error;
    }
  }
  await mapper.close?.();
  return { records, bytes };
}
