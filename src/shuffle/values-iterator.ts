/**
 * The {@link Values} protocol shared by the engine's groups, each of which is
 * its own values iterator: `values` is the group itself, iterable once, either
 * synchronously or asynchronously (the async iterator wraps `next`/`return`).
 */
import type { Values } from '../api/types.ts';

export abstract class ValuesIterator implements Values<unknown>, Iterator<unknown> {
  /** `return()` was called or iteration finished: yield nothing more. */
  protected closed = false;

  get values(): Values<unknown> {
    return this;
  }

  [Symbol.iterator](): Iterator<unknown> {
    return this;
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return {
      next: () => Promise.resolve(this.next()),
      return: () => Promise.resolve(this.return()),
    };
  }

  /** The next value; once done (set `closed`), always done. */
  abstract next(): IteratorResult<unknown>;

  return(): IteratorResult<unknown> {
    this.closed = true;
    return { done: true, value: undefined };
  }
}
