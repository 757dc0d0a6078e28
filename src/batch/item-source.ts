/**
 * Pulls items one at a time from an array, a sync iterable or an async
 * iterable, synchronously when it can (no promise per item for arrays and
 * generators).
 */
import { usageError } from '../errors.ts';

/** What `runBatch` accepts as items. */
export type BatchItems<T> = Iterable<T> | AsyncIterable<T>;

/** One pull: a result now, or a promise of one. */
export type Pull<T> = IteratorResult<T> | Promise<IteratorResult<T>>;

export interface ItemSource<T> {
  /** Number of items when the input says so (array length, set/map size), else undefined. */
  readonly size: number | undefined;
  next(): Pull<T>;
  /**
   * Tells the input that no more items will be pulled (runs a generator's
   * `finally`). Never rejects; the promise settles when the input has closed,
   * and callers need not wait for it.
   */
  close(): Promise<void>;
}

/**
 * Wraps `items`. Async iterables win over sync ones when an object is both.
 * @throws TsmrError `TSMR_USAGE` when `items` is not iterable.
 */
export function itemSource<T>(items: BatchItems<T>): ItemSource<T> {
  if (items !== null && typeof items === 'object' && Symbol.asyncIterator in items) {
    const it = items[Symbol.asyncIterator]();
    return {
      size: undefined,
      next: () => it.next(),
      close: () => Promise.resolve(it.return?.()).then(noop, noop),
    };
  }
  if (
    items !== null &&
    items !== undefined &&
    typeof (items as Iterable<T>)[Symbol.iterator] === 'function'
  ) {
    const iterable = items as Iterable<T>;
    const it = iterable[Symbol.iterator]();
    const close = async (): Promise<void> => {
      try {
        it.return?.();
      } catch {
        // A failing `return` must not hide why the batch stopped.
      }
    };
    return { size: sizeOf(iterable), next: () => it.next(), close };
  }
  throw usageError(`runBatch: items must be an array or an (async) iterable, got ${typeof items}`);
}

function sizeOf(items: Iterable<unknown>): number | undefined {
  if (Array.isArray(items) || ArrayBuffer.isView(items)) return (items as ArrayLike<unknown>).length;
  if (items instanceof Set || items instanceof Map) return items.size;
  return undefined;
}

function noop(): void {}
