/**
 * Runs one TeraGen/TeraValidate file function per item on worker threads
 * (`runBatch`), results in item order; the first failure is thrown.
 */
import { runBatch } from '../batch/run-batch.ts';
import { ownModuleUrl } from '../own-module-url.ts';

/**
 * @param module the file of this folder whose default export runs one item
 *   (`./teragen-file.ts`, `./record-summary.ts`).
 * @param workers threads (at least 1; never more than items).
 */
export async function onThreads<T, R>(
  module: string,
  items: readonly T[],
  workers: number,
  signal?: AbortSignal,
): Promise<R[]> {
  const out: R[] = [];
  if (items.length === 0) return out;
  const fn = { module: ownModuleUrl(module, import.meta.url) };
  const run = runBatch<T, R>([...items], fn, {
    mode: 'threads',
    concurrency: Math.max(1, Math.min(workers, items.length)),
    batchSize: 1,
    signal,
  });
  for await (const r of run) {
    if (!r.ok) throw r.error;
    out[r.index] = r.value;
  }
  return out;
}
