import type { Counter } from '../api/types.ts';

/** Group of tsmr's built-in counters (Hadoop calls it `TaskCounter`). */
export const BUILTIN_GROUP = 'tsmr';

/**
 * The counters of one attempt: `group/name` → value. Values are JS numbers,
 * exact up to 2^53.
 */
export class CounterSet {
  readonly values = new Map<string, number>();
  private readonly handles = new Map<string, Counter>();

  /** A reusable handle on `group/name`. */
  counter(group: string, name: string): Counter {
    const id = `${group}/${name}`;
    let handle = this.handles.get(id);
    if (handle === undefined) {
      const values = this.values;
      if (!values.has(id)) values.set(id, 0);
      handle = {
        group,
        name,
        increment(by = 1) {
          values.set(id, (values.get(id) as number) + by);
        },
        get value() {
          return values.get(id) as number;
        },
      };
      this.handles.set(id, handle);
    }
    return handle;
  }

  /** Adds `n` to the built-in counter `tsmr/<name>`. */
  add(name: string, n: number): void {
    const id = `${BUILTIN_GROUP}/${name}`;
    this.values.set(id, (this.values.get(id) ?? 0) + n);
  }

  get(id: string): number {
    return this.values.get(id) ?? 0;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.values);
  }
}

/** Sums counter records (`group/name` → value) into `into`. */
export function addCounters(into: Record<string, number>, from: Record<string, number>): void {
  for (const [id, value] of Object.entries(from)) into[id] = (into[id] ?? 0) + value;
}
