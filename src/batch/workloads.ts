/**
 * The built-in workloads of `tsmr batch`, as item functions that worker
 * threads can import (`{ module: workloadsModule, export: 'numeric' }`).
 *
 * - `io` waits for the item's latency, like a remote call.
 * - `text` reads one real document and counts its words.
 * - `numeric` tests a number for primality and factors it (CPU-bound).
 *
 * Every item says how many of its first attempts fail (`failures`, drawn
 * per item and attempt from the seed when the items are made), so that a
 * sequential and a parallel run fail the same items the same way.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, TsmrError } from '../errors.ts';
import type { DocumentFormat } from './corpus.ts';
import type { BatchContext } from './types.ts';

/** URL of this module, for `{ module: workloadsModule, export }`. */
export const workloadsModule = import.meta.url;

export interface IoItem {
  id: number;
  /** How long the call takes, in ms. */
  latencyMs: number;
  /** The first `failures` attempts fail. */
  failures: number;
}

export interface IoValue {
  id: number;
  latencyMs: number;
}

export interface TextItem {
  id: number;
  path: string;
  format: DocumentFormat;
  failures: number;
}

export interface TextValue {
  id: number;
  words: number;
  uniqueWords: number;
  /** Mean word length in characters. */
  averageWordLength: number;
}

export interface NumericItem {
  id: number;
  /** A positive safe integer. */
  n: number;
  failures: number;
}

export interface NumericValue {
  id: number;
  n: number;
  prime: boolean;
  /** Prime factors in ascending order, with repeats (product = n). */
  factors: number[];
}

/** Simulated remote call: waits `latencyMs` (abortable by the attempt's signal). */
export async function io(item: IoItem, ctx: BatchContext): Promise<IoValue> {
  await sleep(item.latencyMs, undefined, { signal: ctx.signal });
  injectFailure(item, ctx);
  return { id: item.id, latencyMs: item.latencyMs };
}

/** Word count, unique words (case-folded) and mean word length of one document. */
export function text(item: TextItem, ctx: BatchContext): TextValue {
  injectFailure(item, ctx);
  return { id: item.id, ...analyseText(readFileSync(item.path, 'utf8'), item.format) };
}

/** Primality and prime factors of `n`, by trial division. */
export function numeric(item: NumericItem, ctx: BatchContext): NumericValue {
  injectFailure(item, ctx);
  const factors = factorize(item.n);
  return { id: item.id, n: item.n, prime: factors.length === 1, factors };
}

/** Word statistics of a document's text. Brown tokens are `word/tag`; punctuation tokens are skipped. */
export function analyseText(content: string, format: DocumentFormat): Omit<TextValue, 'id'> {
  const unique = new Set<string>();
  let words = 0;
  let letters = 0;
  const add = (word: string): void => {
    words++;
    letters += word.length;
    unique.add(word.toLowerCase());
  };
  if (format === 'brown') {
    for (const token of content.split(/\s+/)) {
      const slash = token.lastIndexOf('/');
      const word = slash > 0 ? token.slice(0, slash) : token;
      if (/[a-z]/i.test(word)) add(word);
    }
  } else {
    for (const m of content.matchAll(/[a-z]+(?:'[a-z]+)*/gi)) add(m[0]);
  }
  return { words, uniqueWords: unique.size, averageWordLength: words === 0 ? 0 : letters / words };
}

/** Prime factors of a positive safe integer, ascending (`[]` for 1). */
export function factorize(n: number): number[] {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`cannot factorize ${n}`);
  const factors: number[] = [];
  for (const p of [2, 3]) {
    while (n % p === 0) {
      factors.push(p);
      n /= p;
    }
  }
  // Candidates 6k ± 1 up to √n.
  for (let d = 5; d * d <= n; d += 6) {
    while (n % d === 0) {
      factors.push(d);
      n /= d;
    }
    while (n % (d + 2) === 0) {
      factors.push(d + 2);
      n /= d + 2;
    }
  }
  if (n > 1) factors.push(n);
  return factors;
}

function injectFailure(item: { id: number; failures: number }, ctx: BatchContext): void {
  if (ctx.attempt <= item.failures) {
    throw new TsmrError(
      ErrorCode.INJECTED_FAILURE,
      `injected failure: item ${item.id}, attempt ${ctx.attempt}`,
      {
        details: { index: ctx.index, attempt: ctx.attempt },
      },
    );
  }
}
