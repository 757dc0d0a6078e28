/**
 * The benchmark's baseline: word count as a plain single-thread Node loop, no
 * framework. Reads the file in 1 MiB chunks, decodes each as latin1 (one
 * character per byte, like the tsmr example), splits the complete lines on ASCII
 * whitespace and counts words in a `Map`.
 *
 *   npx node bench/plain-wordcount.ts <file>
 *
 * Prints one JSON line: `{ "ms", "bytes", "words", "distinct", "maxRssBytes" }`
 * (time of the read+count loop in milliseconds; peak RSS of this process in
 * bytes, from `process.resourceUsage().maxRSS`, which is in KiB).
 */
import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK = 1024 * 1024;
const word = /[^ \t\n\v\f\r]+/g;

/** Counts the words of `path` into a Map; returns the map and the bytes read. */
export function countWords(path: string): { counts: Map<string, number>; bytes: number } {
  const counts = new Map<string, number>();
  const buffer = Buffer.allocUnsafe(CHUNK);
  const fd = openSync(path, 'r');
  let carry = '';
  let bytes = 0;
  const countText = (text: string): void => {
    const words = text.match(word);
    if (words === null) return;
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  };
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      bytes += n;
      const text = carry + buffer.toString('latin1', 0, n);
      const lastNewline = text.lastIndexOf('\n');
      if (lastNewline < 0) {
        carry = text;
        continue;
      }
      countText(text.slice(0, lastNewline));
      carry = text.slice(lastNewline + 1);
    }
  } finally {
    closeSync(fd);
  }
  countText(carry);
  return { counts, bytes };
}

if (import.meta.main) {
  const path = process.argv[2];
  if (path === undefined) {
    console.error('usage: node bench/plain-wordcount.ts <file>');
    process.exit(2);
  }
  const start = performance.now();
  const { counts, bytes } = countWords(path);
  const ms = performance.now() - start;
  let words = 0;
  for (const n of counts.values()) words += n;
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ ms: Math.round(ms), bytes, words, distinct: counts.size, maxRssBytes }));
}
