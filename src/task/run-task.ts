import { FoldTableCache } from '../shuffle/fold-table.ts';
import type { JobBody } from './job-body.ts';
import { runMapTask } from './map-task.ts';
import type { TaskMessage, TaskProgress, TaskResult } from './messages.ts';
import { runReduceTask } from './reduce-task.ts';

/**
 * This thread's fold table, passed from one map task to the next
 * (`FoldTableCache`); dropped when the thread starts a reduce task, as the map
 * phase is then mostly over.
 */
const foldTableCache = new FoldTableCache();

/**
 * Runs one attempt of a map or reduce task in this thread.
 * @param scratchDir the attempt's own directory, chosen and later deleted by
 *   the executor that runs it (spills, the map output, merge runs, fetched
 *   segments, records output).
 */
export function runTask(
  msg: TaskMessage,
  body: JobBody,
  scratchDir: string,
  onProgress: (p: TaskProgress) => void,
): Promise<TaskResult> {
  if (msg.kind === 'map') return runMapTask(msg, body, scratchDir, onProgress, foldTableCache);
  foldTableCache.clear();
  return runReduceTask(msg, body, scratchDir, onProgress);
}
