/**
 * The {@link Values} protocol shared by the engine's groups, each of which is
 * its own values iterator: `values` is the group itself, iterable once, either
 * synchronously or asynchronously (the async iterator wraps `next`/`return`).
 * `entries()` walks the same pass, pairing each value with its key.
 */
import type { Key, KeyedValues, Values } from '../api/types.ts';

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

  entries(): KeyedValues<Key, unknown> {
    return new Entries(this);
  }

  /** The next value; once done (set `closed`), always done. */
  abstract next(): IteratorResult<unknown>;

  /** The full key of the value {@link next} returned last. */
  abstract valueKey(): Key;

  return(): IteratorResult<unknown> {
    this.closed = true;
    return { done: true, value: undefined };
  }
}

/** `[key, value]` pairs of a {@link ValuesIterator}, consuming it. */
class Entries implements KeyedValues<Key, unknown>, Iterator<[Key, unknown]> {
  private readonly values: ValuesIterator;

  constructor(values: ValuesIterator) {
    this.values = values;
  }

  [Symbol.iterator](): Iterator<[Key, unknown]> {
    return this;
  }

  [Symbol.asyncIterator](): AsyncIterator<[Key, unknown]> {
    return {
      next: () => Promise.resolve(this.next()),
      return: () => Promise.resolve(this.return()),
    };
  }

  next(): IteratorResult<[Key, unknown]> {
    const r = this.values.next();
    return r.done === true
      ? { done: true, value: undefined }
      : { done: false, value: [this.values.valueKey(), r.value] };
  }

  return(): IteratorResult<[Key, unknown]> {
    this.values.return();
    return { done: true, value: undefined };
  }
}
