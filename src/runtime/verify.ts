/**
 * `--verify`: byte-for-byte comparison of a job's committed part files with
 * those of a sequential reference run.
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const CHUNK = 1024 * 1024;

/**
 * Compares a job's committed, not yet published part files (by name, from
 * `OutputCommitter.stagedParts`) with `referenceDir/part-r-N`.
 * @returns undefined when identical, else a sentence naming the first difference.
 */
export async function compareOutputs(
  parts: ReadonlyMap<string, string>,
  referenceDir: string,
): Promise<string | undefined> {
  const reference = (await readdir(referenceDir)).filter((f) => f.startsWith('part-')).sort();
  if (parts.size !== reference.length) {
    return `${parts.size} part files instead of ${reference.length}`;
  }
  for (const name of reference) {
    const mine = parts.get(name);
    if (mine === undefined) return `${name} is missing`;
    const offset = await firstDifference(mine, join(referenceDir, name));
    if (offset !== undefined) return `${name} differs at byte ${offset}`;
  }
  return undefined;
}

/** Offset of the first differing byte of two files, or undefined when equal. */
export async function firstDifference(a: string, b: string): Promise<number | undefined> {
  const [fa, fb] = await Promise.all([open(a), open(b)]);
  try {
    const ba = Buffer.allocUnsafe(CHUNK);
    const bb = Buffer.allocUnsafe(CHUNK);
    for (let pos = 0; ; pos += CHUNK) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, CHUNK, pos), fb.read(bb, 0, CHUNK, pos)]);
      const n = Math.min(ra.bytesRead, rb.bytesRead);
      if (!ba.subarray(0, n).equals(bb.subarray(0, n))) {
        for (let i = 0; i < n; i++) if (ba[i] !== bb[i]) return pos + i;
      }
      if (ra.bytesRead !== rb.bytesRead) return pos + n;
      if (ra.bytesRead === 0) return undefined;
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}
