/**
 * Finished results waiting for the consumer: in input order (a result waits
 * until every earlier index has been handed out) or in completion order.
 */

export class ResultQueue<X extends { readonly index: number }> {
  readonly #ordered: boolean;
  readonly #byIndex = new Map<number, X>();
  #nextIndex = 0;
  #fifo: X[] = [];
  #head = 0;

  constructor(ordered: boolean) {
    this.#ordered = ordered;
  }

  /** Results held, deliverable or not. */
  get size(): number {
    return this.#ordered ? this.#byIndex.size : this.#fifo.length - this.#head;
  }

  push(result: X): void {
    if (this.#ordered) this.#byIndex.set(result.index, result);
    else this.#fifo.push(result);
  }

  /** The next result to hand out, or undefined when none is deliverable yet. */
  shift(): X | undefined {
    if (this.#ordered) {
      const r = this.#byIndex.get(this.#nextIndex);
      if (r !== undefined) {
        this.#byIndex.delete(this.#nextIndex);
        this.#nextIndex++;
      }
      return r;
    }
    if (this.#head === this.#fifo.length) return undefined;
    const r = this.#fifo[this.#head++]!;
    if (this.#head > 1024 && this.#head * 2 > this.#fifo.length) {
      this.#fifo = this.#fifo.slice(this.#head);
      this.#head = 0;
    }
    return r;
  }
}
